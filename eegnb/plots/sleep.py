"""Figures of paper 4 (Ellis et al., LRP for multimodal sleep staging), with seaborn.

- :func:`plot_confusion`: confusion matrix summed over folds, counts and row percentages.
- :func:`plot_global_shares`: modality relevance share over folds, per LRP rule (paper Fig. 1).
- :func:`plot_group_grid`: the same per classification group, a true x predicted grid (Fig. 2).
- :func:`plot_local`: one recording over time: hypnogram, signals, shares (Fig. 3).
- :func:`plot_coef_heatmaps`: OLS coefficients per stage x modality, one panel per covariate,
  white where not FDR-significant, asterisks for p < 0.01 / 0.001 (Fig. 4).
- :func:`plot_stage_methods`: mean share per correctly classified stage for each LRP rule and
  the ablation baseline, with the planted evidence marked (beyond the paper).

Colours follow the paper: EEG blue, EOG yellow, EMG red. Used by
``notebooks/40_lrp_sleep_staging`` and ``notebooks/41_lrp_sleep_statistics``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Patch

MODALITY_COLORS = {"eeg": "#2b6cb0", "eog": "#e0b000", "emg": "#c53030"}
MODALITY_LABELS = {"eeg": "EEG", "eog": "EOG", "emg": "EMG"}
RULE_LABELS = {
    "eps0.01": "ε = 0.01",
    "eps100": "ε = 100",
    "ab10": "α=1, β=0",
    "ablation": "ablation",
}
COVARIATE_UNITS = {
    "medication": "temazepam − placebo (% points)",
    "sex": "male − female (% points)",
    "age": "% points per year",
}


def _palette(modalities: Sequence[str]) -> dict[str, str]:
    return {MODALITY_LABELS.get(m, m): MODALITY_COLORS.get(m, "grey") for m in modalities}


def _labelled(df: pd.DataFrame, rules: Sequence[str]) -> pd.DataFrame:
    d = df[df["rule"].isin(rules)].copy()
    d["Rule"] = pd.Categorical(
        d["rule"].map(lambda r: RULE_LABELS.get(r, r)), [RULE_LABELS.get(r, r) for r in rules]
    )
    d["Modality"] = d["modality"].map(lambda m: MODALITY_LABELS.get(m, m))
    return d


def _boxes(
    ax,
    d: pd.DataFrame,
    modalities: Sequence[str],
    *,
    points: bool = True,
    legend: bool = False,
    width: float = 0.75,
):
    hue_order = [MODALITY_LABELS.get(m, m) for m in modalities]
    sns.boxplot(
        data=d,
        x="Rule",
        y="share",
        hue="Modality",
        hue_order=hue_order,
        palette=_palette(modalities),
        ax=ax,
        fliersize=0,
        linewidth=0.8,
        width=width,
        legend=legend,
    )
    if points:
        sns.stripplot(
            data=d,
            x="Rule",
            y="share",
            hue="Modality",
            hue_order=hue_order,
            dodge=True,
            ax=ax,
            size=2.2,
            palette={h: "0.15" for h in hue_order},
            legend=False,
            alpha=0.7,
        )


def plot_confusion(cm: pd.DataFrame, *, ax=None, title: str = ""):
    """Confusion matrix (rows true, columns predicted) summed over folds: colour = row
    percentage (recall), text = count."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.4, 3.6))
    pct = 100 * cm.div(cm.sum(1).replace(0, np.nan), axis=0)
    sns.heatmap(
        pct,
        annot=cm.to_numpy(),
        fmt="d",
        cmap="Blues",
        vmin=0,
        vmax=100,
        ax=ax,
        cbar_kws=dict(label="% of true stage"),
    )
    ax.set_xlabel("predicted stage")
    ax.set_ylabel("true stage")
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.set_title(title or f"All folds ({int(cm.to_numpy().sum())} test epochs)")
    return fig or ax.figure


def plot_global_shares(
    gtab: pd.DataFrame,
    *,
    rules: Sequence[str] | None = None,
    modalities: Sequence[str] = ("eeg", "eog", "emg"),
    ax=None,
):
    """Paper Fig. 1: boxplots over folds of the share (%) of absolute relevance per modality, per rule.

    gtab: :func:`eegnb.experiments.sleep.global_table` (``fold``, ``modality``, ``share``, ``rule``).
    """
    rules = list(rules or pd.unique(gtab["rule"]))
    d = _labelled(gtab, rules)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.9 * len(rules) + 1.5, 3.4))
    _boxes(ax, d, modalities, legend=True)
    ax.set_xlabel("LRP rule")
    ax.set_ylabel("share of absolute relevance (%)")
    ax.set_ylim(0, 100)
    ax.set_title(
        f"All explained test epochs: mean per-epoch share per fold ({gtab['fold'].nunique()} folds, dots)"
    )
    ax.legend(title="", loc="upper right", ncols=len(modalities))
    return fig or ax.figure


def plot_group_grid(
    grp: pd.DataFrame,
    counts: pd.DataFrame,
    *,
    rules: Sequence[str] | None = None,
    modalities: Sequence[str] = ("eeg", "eog", "emg"),
):
    """Paper Fig. 2: a true x predicted grid of share boxplots (over folds), sample counts in titles.

    grp: :func:`eegnb.experiments.sleep.group_table`; counts: a ``true x pred`` DataFrame of
    the number of (explained) samples per group (e.g. :func:`eegnb.metrics.modality.group_counts`).
    Diagonal panels (correct classifications) get a dark frame.
    """
    rules = list(rules or pd.unique(grp["rule"]))
    classes = list(counts.index)
    k = len(classes)
    fig, axes = plt.subplots(k, k, figsize=(2.35 * k, 2.0 * k), sharex=True, sharey=True)
    d = _labelled(grp, rules)
    for i, t in enumerate(classes):
        for j, p in enumerate(classes):
            ax = axes[i, j]
            sub = d[(d["true"] == t) & (d["pred"] == p)]
            n = int(counts.loc[t, p])
            ax.set_title(f"{t} as {p} (n={n})", fontsize=8)
            if len(sub):
                _boxes(ax, sub, modalities, points=False, width=0.8)
            else:
                ax.text(
                    0.5,
                    0.5,
                    "no samples",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=7,
                    color="0.5",
                )
            ax.set_ylim(0, 100)
            ax.set_xlabel("")
            ax.set_ylabel(f"true {t}\nshare (%)" if j == 0 else "")
            ax.tick_params(axis="x", labelrotation=30, labelsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if i == j:
                for side in ("left", "bottom", "top", "right"):
                    ax.spines[side].set_visible(True)
                    ax.spines[side].set_linewidth(1.6)
    handles = [
        Patch(color=MODALITY_COLORS.get(m, "grey"), label=MODALITY_LABELS.get(m, m))
        for m in modalities
    ]
    fig.legend(
        handles=handles, loc="upper center", ncols=len(modalities), bbox_to_anchor=(0.5, 1.0)
    )
    fig.supxlabel(
        f"LRP rule (columns: predicted stage); n = explained test epochs behind each panel, all folds "
        f"({int(np.asarray(counts).sum())} in total); boxes span folds"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_local(
    local: pd.DataFrame,
    X: np.ndarray,
    class_names: Sequence[str],
    *,
    sfreq: float,
    rule: str = "eps100",
    modalities: Sequence[str] = ("eeg", "eog", "emg"),
    ch_labels: Sequence[str] | None = None,
    unit: str = "µV",
    fmax: Sequence[float] = (30.0, 15.0, 50.0),
    title: str = "",
):
    """Paper Fig. 3: one recording over time.

    local: :attr:`SleepResult.local` (``onset`` s, ``true``, ``pred``, ``<rule>:<modality>``
    shares); X: the recording's epochs ``(n, ch, t)`` in the same order (channel ``i`` is
    ``modalities[i]``). Panels: true (black) and predicted (green) hypnogram (legend above the
    panel, never over the curves); per channel a spectrogram (Welch power of each 30-s epoch,
    log10, up to ``fmax[i]`` Hz; a 30-s trace of 3000 samples drawn over hours is a solid band);
    the share (%) of absolute relevance per modality per epoch.
    """
    from scipy.signal import welch

    local = local.sort_values("onset", kind="stable")
    n, n_ch, T = X.shape
    if n != len(local):
        raise ValueError(f"X has {n} epochs but local has {len(local)} rows")
    t0 = float(local["onset"].iloc[0])
    minutes = (local["onset"].to_numpy(float) - t0) / 60.0
    epoch_min = T / sfreq / 60.0
    fig, axes = plt.subplots(
        2 + n_ch,
        2,
        figsize=(10.5, 1.3 * (2 + n_ch) + 1.4),
        gridspec_kw=dict(height_ratios=[1.3] + [1.0] * n_ch + [1.5], width_ratios=[60, 1]),
    )
    for ax in axes[1:, 0]:
        ax.sharex(axes[0, 0])
    for r in (0, -1):
        axes[r, 1].set_axis_off()
    # hypnogram, stages ordered as clinicians draw them (W on top, N3 at the bottom)
    order = [c for c in ("W", "REM", "N1", "N2", "N3") if c in class_names] or list(class_names)
    level = {class_names.index(c): len(order) - 1 - i for i, c in enumerate(order)}
    ax = axes[0, 0]
    edges = np.append(minutes, minutes[-1] + epoch_min)
    for col, lab, lw, off in (("true", "true", 2.0, 0.0), ("pred", "predicted", 1.1, 0.08)):
        lv = np.array([level[v] for v in local[col]]) + off
        ax.stairs(lv, edges, baseline=None, color="black" if col == "true" else "tab:green", lw=lw, label=lab)
    ax.set_yticks(range(len(order)), order[::-1])
    ax.set_ylabel("stage")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=7, frameon=False)
    acc = float((local["true"] == local["pred"]).mean())
    span = edges[-1] - edges[0]
    gaps = "" if len(local) * epoch_min >= span - 1e-6 else f", {len(local)} epochs with gaps"
    ax.set_title(
        title
        or f"{span:.0f} min of one held-out night{gaps} (accuracy {acc:.0%}); relevance: LRP {RULE_LABELS.get(rule, rule)}",
        loc="left",
        fontsize=9,
    )
    # spectrograms: one Welch spectrum per epoch (2-s windows, 0.5 Hz resolution)
    ch_labels = list(ch_labels or [MODALITY_LABELS.get(m, m) for m in modalities])
    f, P = welch(X.astype(np.float64), fs=sfreq, nperseg=int(2 * sfreq), axis=-1)
    for c in range(n_ch):
        ax = axes[1 + c, 0]
        top = float(fmax[c]) if c < len(fmax) else sfreq / 2
        keep = f <= top
        fe = np.append(f[keep] - (f[1] - f[0]) / 2, f[keep][-1] + (f[1] - f[0]) / 2)
        img = np.log10(np.maximum(P[:, c, keep], 1e-12)).T
        lo, hi = np.percentile(img, [2, 98])
        im = ax.pcolormesh(edges, fe, img, cmap="magma", vmin=lo, vmax=hi, shading="flat", rasterized=True)
        ax.set_ylim(fe[0], fe[-1])
        ax.set_ylabel(f"{ch_labels[c]}\nHz", fontsize=8)
        cb = fig.colorbar(im, cax=axes[1 + c, 1])
        cb.set_label(f"log10 power\n({unit}²/Hz)", fontsize=6)
        cb.ax.tick_params(labelsize=6)
    # shares
    ax = axes[-1, 0]
    for m in modalities:
        ax.step(
            edges,
            np.append(local[f"{rule}:{m}"], local[f"{rule}:{m}"].iloc[-1]),
            where="post",
            color=MODALITY_COLORS.get(m, "grey"),
            lw=1.2,
            label=MODALITY_LABELS.get(m, m),
        )
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of\n|relevance| (%)")
    ax.set_xlabel("time since start of the window (min)")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(modalities), fontsize=7, frameon=False)
    ax.set_xlim(edges[0], edges[-1])
    for ax in axes[:-1, 0]:
        ax.tick_params(labelbottom=False)
    fig.align_ylabels(axes[:, 0])
    fig.tight_layout(h_pad=0.6)
    return fig


def plot_conservation(cons: pd.DataFrame, *, lo: float = 0.5, hi: float = 2.0, run_ratio: dict | None = None):
    """Input-level conservation ``sum(relevance) / logit`` per LRP rule, with and without biases.

    cons: :func:`eegnb.experiments.sleep.conservation_table` (``rule``, ``bias``, ``ratio``,
    ``unstable``). One strip per rule and variant on a symmetric-log axis; the band
    ``[lo, hi]`` is the stable range, and each strip is labelled with its count of unstable
    maps. run_ratio: optional ``{rule: (n,) ratios}`` of every map of the run (with biases),
    drawn as a third strip per rule.
    """
    d = cons.copy()
    if run_ratio:
        extra = [pd.DataFrame(dict(rule=r, bias="every explained map (run)", ratio=v[np.isfinite(v)]))
                 for r, v in run_ratio.items()]
        d = pd.concat([d] + extra, ignore_index=True)
    d["unstable"] = ~((d["ratio"] >= lo) & (d["ratio"] <= hi))
    d["Rule"] = d["rule"].map(lambda r: RULE_LABELS.get(r, r))
    fig, ax = plt.subplots(figsize=(8.5, 3.6))
    ax.axhspan(lo, hi, color="0.9", zorder=0, label=f"stable: {lo} to {hi}")
    ax.axhline(1.0, color="0.4", lw=0.8, ls="--", label="exact conservation (1)")
    sns.stripplot(data=d, x="Rule", y="ratio", hue="bias", dodge=True, size=2.2, alpha=0.6, jitter=0.3, ax=ax)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylabel("Σ input relevance / explained logit")
    ax.set_xlabel("LRP rule")
    hues = list(pd.unique(d["bias"]))
    rules = list(pd.unique(d["Rule"]))
    w = 0.8 / len(hues)
    for i, r in enumerate(rules):
        for j, h in enumerate(hues):
            g = d[(d["Rule"] == r) & (d["bias"] == h)]
            if len(g):
                ax.text(i - 0.4 + w * (j + 0.5), 1.02, f"{int(g['unstable'].sum())}/{len(g)}", transform=ax.get_xaxis_transform(),
                        ha="center", va="bottom", fontsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="unstable / maps above each strip", title_fontsize=7)
    fig.tight_layout()
    return fig


def plot_seeds(tab: pd.DataFrame, cis: dict, *, n_planted: int):
    """Accuracy and recovered planted effects per seed (dots) with the mean and its 95 % t
    interval over seeds (bars). tab: one row per seed (``seed``, ``acc``,
    ``recovered_paper``, ``recovered_primary``); cis: ``{column: mean_ci result}``."""
    cols = [("acc", "accuracy (pooled over folds)"), ("recovered_paper", "recovered: shares, OLS (paper)"),
            ("recovered_primary", "recovered: log-ratios, cluster-robust")]
    fig, axes = plt.subplots(1, len(cols), figsize=(10, 3.0))
    for ax, (c, lab) in zip(axes, cols):
        ax.scatter(np.zeros(len(tab)), tab[c], color="k", zorder=3, label="one seed")
        r = cis[c]
        if np.isfinite(r["lo"]):
            ax.errorbar([0.25], [r["mean"]], yerr=[[r["mean"] - r["lo"]], [r["hi"] - r["mean"]]], fmt="o",
                        color="tab:blue", capsize=4, label=f"mean, 95% CI over {r['n_units']} seeds")
        else:
            ax.plot([0.25], [r["mean"]], "o", color="tab:blue", label="mean")
        for k, (_, row) in enumerate(tab.iterrows()):  # offsets keep equal values legible
            ax.annotate(f"seed {int(row['seed'])}", (0, row[c]), xytext=(6, 7 * k - 3), textcoords="offset points", fontsize=7)
        ax.set_xlim(-0.5, 0.8)
        ax.set_xticks([])
        ax.set_title(lab, fontsize=9)
        if c != "acc":
            ax.set_ylim(-0.3, n_planted + 0.3)
            ax.set_ylabel(f"planted effects recovered (of {n_planted})")
        else:
            ax.set_ylabel("test accuracy")
            ax.set_ylim(0, 1)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_coef_heatmaps(
    coef: pd.DataFrame,
    *,
    class_names: Sequence[str],
    modalities: Sequence[str] = ("eeg", "eog", "emg"),
    covariates: Sequence[str] = ("medication", "sex", "age"),
    planted: pd.DataFrame | None = None,
    title: str = "",
    family: str | None = None,
):
    """Paper Fig. 4: OLS coefficients, one heatmap per covariate (rows modality, columns stage).

    coef: :func:`eegnb.experiments.sleep.covariate_table` (``stage``, ``modality``,
    ``covariate``, ``coef``, ``p_fdr``, ``significant``). Cells that are not significant after
    FDR correction are white; ``*`` marks p_fdr < 0.01 and ``**`` p_fdr < 0.001; ``n/a`` marks
    untested cells (too few samples). ``planted``: planted effects (stage, modality,
    covariate, sign) outlined with a black frame and their sign (beyond the paper).
    family: the FDR family the stars refer to (default ``coef.attrs["fdr_family"]``); printed
    in the title as "FDR-corrected (BH, family = ...)". Log-ratio tables
    (``transform == "alr"``) get rows ``log(EOG/EEG)``, ``log(EMG/EEG)``.
    """
    from eegnb.stats import significance_stars

    family = family or coef.attrs.get("fdr_family", f"{len(coef)} tests")
    alr = "transform" in coef.columns and (coef["transform"] == "alr").any()
    if alr:
        ref = str(coef["reference"].iloc[0])
        modalities = [m for m in modalities if m != ref]

    fig, axes = plt.subplots(1, len(covariates), figsize=(4.3 * len(covariates), 2.6))
    axes = np.atleast_1d(axes)
    for ax, cov in zip(axes, covariates):
        sub = coef[coef["covariate"] == cov]
        val = sub.pivot(index="modality", columns="stage", values="coef").reindex(
            index=list(modalities), columns=list(class_names)
        )
        sig = sub.pivot(index="modality", columns="stage", values="significant").reindex(
            index=list(modalities), columns=list(class_names)
        )
        pf = sub.pivot(index="modality", columns="stage", values="p_fdr").reindex(
            index=list(modalities), columns=list(class_names)
        )
        tested = val.notna()
        shown = val.where(sig.fillna(False).astype(bool))
        stars = pd.DataFrame(
            significance_stars(pf.to_numpy()), index=val.index, columns=val.columns
        )
        annot = stars.where(tested, "n/a")
        vmax = float(np.nanmax(np.abs(val.to_numpy()))) if tested.any().any() else 1.0
        vmax = vmax or 1.0
        sns.heatmap(
            shown.astype(float),
            ax=ax,
            cmap="RdBu_r",
            norm=TwoSlopeNorm(0.0, -vmax, vmax),
            annot=annot.to_numpy(),
            fmt="",
            annot_kws=dict(fontsize=11),
            linewidths=0.6,
            linecolor="0.85",
            cbar=True,
            cbar_kws=dict(
                label=COVARIATE_UNITS.get(cov, "coefficient").replace("% points", "log-ratio") if alr else COVARIATE_UNITS.get(cov, "coefficient"),
                shrink=0.9,
            ),
        )
        # seaborn does not annotate NaN (white) cells
        for (y, x), ok in np.ndenumerate(tested.to_numpy()):
            if not ok:
                ax.text(x + 0.5, y + 0.5, "n/a", ha="center", va="center", fontsize=7, color="0.55")
        ax.set_yticklabels(
            [f"log({MODALITY_LABELS.get(m, m)}/{ref.upper()})" if alr else MODALITY_LABELS.get(m, m) for m in modalities],
            rotation=0,
        )
        ax.set_xlabel("stage (correctly classified)")
        ax.set_ylabel("modality")
        ax.set_title(cov)
        if planted is not None and not alr:
            for _, r in planted[planted["covariate"] == cov].iterrows():
                if r["stage"] in class_names and str(r["modality"]).lower() in modalities:
                    x, y = (
                        list(class_names).index(r["stage"]),
                        list(modalities).index(str(r["modality"]).lower()),
                    )
                    ax.add_patch(plt.Rectangle((x, y), 1, 1, fill=False, lw=2.2, ec="black"))
                    ax.text(
                        x + 0.93,
                        y + 0.22,
                        "+" if float(r["sign"]) > 0 else "−",
                        ha="right",
                        va="center",
                        fontsize=9,
                        weight="bold",
                    )
    what = "additive log-ratios of the shares" if alr else "the relevance share"
    default = f"OLS coefficients of {what}; white: not significant; stars: p_FDR < 0.01 (*), < 0.001 (**)"
    if planted is not None and not alr:
        default += "\nblack frames: planted effects (planted sign in the corner); n/a: too few correct epochs"
    fig.suptitle(
        (title or default) + f"\nFDR-corrected (BH, family = {family})", fontsize=9
    )
    fig.tight_layout()
    return fig


def plot_stage_methods(
    sfr: pd.DataFrame,
    *,
    class_names: Sequence[str],
    methods: Sequence[str],
    modalities: Sequence[str] = ("eeg", "eog", "emg"),
    evidence: dict[str, str] | None = None,
):
    """Mean share (%) per correctly classified stage and modality, one panel per method
    (LRP rules and ``"ablation"``), with 95% CIs over samples; the planted modality of each
    stage (``evidence``) is marked with a triangle.

    sfr: :func:`eegnb.experiments.sleep.shares_frame` rows (``rule``, ``stage``, ``modality``,
    ``share``, ``correct``).
    """
    d = sfr[sfr["correct"] & sfr["rule"].isin(methods)].copy()
    d["Modality"] = d["modality"].map(lambda m: MODALITY_LABELS.get(m, m))
    fig, axes = plt.subplots(1, len(methods), figsize=(3.3 * len(methods), 3.0), sharey=True)
    axes = np.atleast_1d(axes)
    hue_order = [MODALITY_LABELS.get(m, m) for m in modalities]
    for ax, meth in zip(axes, methods):
        sub = d[d["rule"] == meth]
        sns.barplot(
            data=sub,
            x="stage",
            y="share",
            hue="Modality",
            order=list(class_names),
            hue_order=hue_order,
            palette=_palette(modalities),
            errorbar=("ci", 95),
            n_boot=300,
            seed=0,
            ax=ax,
            legend=ax is axes[-1],
            err_kws=dict(linewidth=0.8),
        )
        if evidence:
            width = 0.8 / len(modalities)
            for i, st in enumerate(class_names):
                m = str(evidence.get(st, "")).lower()
                if m in modalities:
                    x = i - 0.4 + width * (list(modalities).index(m) + 0.5)
                    ax.plot(x, 104, marker="v", color="black", ms=5)
        ax.set_title(
            RULE_LABELS.get(meth, meth)
            if meth != "ablation"
            else "ablation (replace by recording mean)"
        )
        ax.set_ylim(0, 108 if evidence else 100)
        ax.set_yticks(range(0, 101, 20))
        ax.set_xlabel("stage (correctly classified)")
        ax.set_ylabel("share (%)" if ax is axes[0] else "")
    axes[-1].legend(title="", fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(
        "Mean share per correctly classified stage (95% CI over epochs)"
        + ("; ▼ planted modality" if evidence else ""),
        fontsize=9,
    )
    fig.tight_layout()
    return fig
