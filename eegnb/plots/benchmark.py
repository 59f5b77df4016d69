"""Figures of the explainer benchmark (notebook 50): leaderboard, difficulty sweep, sanity, cost.

Every panel that compares methods draws the controls (random, shuffled, oracle) in the same
metric, and every point carries its interval (the leaderboard's ``unit`` column says over what).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

CONTROL_COLORS = {"random": "0.55", "shuffled": "0.75", "oracle": "k"}
DOMAIN_COLORS = {"time": "tab:blue", "frequency": "tab:orange"}


def _label(method: str, domain: str, control: bool) -> str:
    return f"{method} ({'band' if domain == 'frequency' else 'time'})" if control else method


def plot_leaderboard(tab: pd.DataFrame, metrics: dict[str, tuple[str, float | None]]):
    """One panel per metric: every method's mean (dot) and interval (bar), controls in grey/black.

    tab: :func:`eegnb.experiments.benchmark.leaderboard`; metrics: column -> (axis label, chance
    line or None). Methods whose map was degenerate on some samples get their count in the label.
    """
    rows = tab.reset_index(drop=True)
    labels = [
        _label(m, d, c) + (f"  [{n} degenerate]" if n else "")
        for m, d, c, n in zip(rows["method"], rows["domain"], rows["control"], rows["n_degenerate"])
    ]
    y = np.arange(len(rows))[::-1]
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.9 * len(metrics) + 2.2, 0.28 * len(rows) + 1.4), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (col, (xlabel, chance)) in zip(axes, metrics.items()):
        for yi, (_, r) in zip(y, rows.iterrows()):
            if col not in r or not np.isfinite(r[col]):
                continue
            color = CONTROL_COLORS.get(r["method"], "k") if r["control"] else DOMAIN_COLORS[r["domain"]]
            lo, hi = r.get(f"{col}_lo", np.nan), r.get(f"{col}_hi", np.nan)
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [yi, yi], color=color, lw=2, alpha=0.7)
            ax.plot(r[col], yi, "o", color=color, ms=4)
        if chance is not None:
            ax.axvline(chance, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", lw=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(labels, fontsize=8)
    for yi, (_, r) in zip(y, rows.iterrows()):
        if r["control"]:
            axes[0].get_yticklabels()[len(rows) - 1 - yi].set_color("0.35")
    unit = rows["unit"].iloc[0]
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=f"{d}-domain method") for d, c in DOMAIN_COLORS.items()]
    handles += [plt.Line2D([], [], color=c, marker="o", lw=2, label=f"{m} control") for m, c in CONTROL_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, bbox_to_anchor=(0.55, -0.02))
    fig.suptitle(f"Explainer benchmark: mean and 95 % interval over {unit}s", y=1.0)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_sweep(sweep_tab: pd.DataFrame):
    """Localisation AUC against difficulty, one line per method with its interval band."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for m, g in sweep_tab.groupby("method", sort=False):
        g = g.sort_values("difficulty")
        color = CONTROL_COLORS.get(m)
        (line,) = ax.plot(g["difficulty"], g["auc"], "o-", label=m, color=color, ms=3)
        if g["lo"].notna().all():
            ax.fill_between(g["difficulty"], g["lo"], g["hi"], color=line.get_color(), alpha=0.15)
    acc = sweep_tab.groupby("difficulty")["acc"].mean()
    ax2 = ax.twinx()
    ax2.plot(acc.index, acc.values, ":", color="0.3", label="model test accuracy")
    ax2.set_ylabel("model test accuracy", color="0.3")
    ax2.set_ylim(0.4, 1.02)
    ax.axhline(0.5, color="0.5", ls="--", lw=0.8)
    ax.set(xlabel="difficulty (0 = strongest planted effect)", ylabel="localisation ROC-AUC",
           title=f"Localisation as the planted effect weakens (interval over {sweep_tab['unit'].iloc[0]}s)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_sanity(sanity: pd.DataFrame):
    """Cascading randomisation: rank correlation with the trained model's maps per step and method."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for (m, dom), g in sanity.groupby(["method", "domain"], sort=False):
        s = g.groupby("step").agg(rho=("spearman", "mean"), layer=("layer", "first")).reset_index()
        ax.plot(s["step"], s["rho"], "o-", ms=3, label=m, color=CONTROL_COLORS.get(m),
                ls="-" if dom == "time" else "--")
    last = sanity.groupby("step")["layer"].first()
    ax.set_xticks(last.index)
    ax.set_xticklabels(["trained" if s == 0 else str(lay) for s, lay in last.items()], rotation=40, ha="right", fontsize=7)
    ax.axhline(0.5, color="0.5", ls="--", lw=0.8)
    ax.set(ylabel="Spearman rho with the trained maps", xlabel="layers randomised (output first, cumulative)",
           title="Sanity: maps must change when the model is randomised", ylim=(-0.2, 1.05))
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    fig.tight_layout()
    return fig


def plot_cost(tab: pd.DataFrame):
    """Seconds per sample (log scale) and peak memory per method."""
    t = tab[~tab["control"]].dropna(subset=["seconds_per_sample"]).sort_values("seconds_per_sample")
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.3 * len(t) + 1.2), sharey=True)
    colors = [DOMAIN_COLORS[d] for d in t["domain"]]
    axes[0].barh(t["method"], t["seconds_per_sample"], color=colors)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("seconds per sample (median over runs)")
    axes[1].barh(t["method"], t["peak_mb"].clip(lower=0), color=colors)
    axes[1].set_xlabel("peak memory above baseline (MB)")
    fig.tight_layout()
    return fig
