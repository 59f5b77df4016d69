"""Figures of paper 1 (Wang et al. 2022, context-aware perturbation): maps, removal games, curves.

Bars and curves take the per-subject long tables of :mod:`eegnb.experiments.context_mask`
and let seaborn draw the mean with standard-error whiskers (``errorbar="se"``), so every
figure shows the spread over subjects. Used by ``notebooks/10_context_mask_method.ipynb``
and ``notebooks/11_context_mask_experiments.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from eegnb.plots.core import plot_map

#: One colour per map, kept across every figure of the paper-1 notebooks.
METHOD_COLORS = {
    "context": "#1b9e77",
    "no_context": "#7570b3",
    "area": "#66a61e",
    "one_stage": "#e6ab02",
    "gradient": "#d95f02",
    "random": "#999999",
    "oracle": "#222222",
}
METHOD_NAMES = {
    "context": "context mask",
    "no_context": "mask, no context",
    "area": "context mask + area limit",
    "one_stage": "area limit, one stage",
    "gradient": "gradient",
    "random": "random",
    "oracle": "oracle (truth)",
}
MODEL_NAMES = {"eegnet": "EEGNet", "tsception": "TSception", "deepconvnet": "DeepConvNet"}


def _truth_outline(ax, truth: np.ndarray | None):
    if truth is not None and truth.max() > 0.5:
        ax.contour(truth > 0.5, levels=[0.5], colors="w", linewidths=0.8, linestyles="--")


def plot_example_maps(
    maps: dict[str, np.ndarray],
    methods: Sequence[str],
    *,
    ch_names: Sequence[str],
    sfreq: float,
    truth: np.ndarray | None = None,
    sample_titles: Sequence[str] | None = None,
    suptitle: str = "",
):
    """Grid of saliency maps: one row per sample, one column per method (paper Figs. 1, 5, 9).

    ``maps[method]`` is ``(n_samples, ch, t)``; ``truth`` ``(n_samples, ch, t)`` is outlined
    (dashed white) where evidence was planted. Each method has one colour scale shared by all
    its rows (samples), so the rows of a column compare directly; the colourbar says so.
    """
    n = len(next(iter(maps.values())))
    lims = {m: (float(np.nanmin(maps[m])), float(np.nanmax(maps[m]))) for m in methods}
    fig, axes = plt.subplots(n, len(methods), figsize=(4.4 * len(methods), 4.6 * n), squeeze=False)
    for i in range(n):
        for j, m in enumerate(methods):
            ax = axes[i, j]
            label = (
                "mask value (1 = keep)"
                if m in ("context", "no_context", "area", "one_stage")
                else "|gradient|"
            )
            title = METHOD_NAMES.get(m, m) + (f"\n{sample_titles[i]}" if sample_titles else "")
            plot_map(
                maps[m][i],
                ax=ax,
                ch_names=ch_names,
                sfreq=sfreq,
                title=title,
                cbar_label=label + (" (scale shared by the column)" if n > 1 else ""),
                max_ticks=len(ch_names),
            )
            ax.images[0].set_clim(*lims[m])
            ax.tick_params(axis="y", labelsize=6)
            _truth_outline(ax, None if truth is None else truth[i])
            if j:
                ax.set_ylabel("")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_context_parts(
    X: np.ndarray,
    parts: dict[str, np.ndarray],
    *,
    ch_names: Sequence[str],
    sfreq: float,
    channels: Sequence[str],
    w_t: np.ndarray | None = None,
    truth: np.ndarray | None = None,
    unit: str = "µV",
):
    """One sample's signal and its contexts (paper eqs. 4-7) on a few channels.

    ``X (ch, t)``; ``parts`` maps a name (e.g. ``"temporal context"``) to ``(ch, t)``;
    ``w_t (ch, t)`` (weight of the temporal context) is shown as an image below; ``truth
    (ch, t)`` shades where evidence was planted.
    """
    idx = [list(ch_names).index(c) for c in channels]
    rows = len(idx) + (w_t is not None)
    fig, axes = plt.subplots(rows, 1, figsize=(9, 1.9 * rows), squeeze=False)
    t = np.arange(X.shape[-1]) / sfreq
    styles = {"signal": dict(color="0.6", lw=0.7)}
    for r, c in enumerate(idx):
        ax = axes[r, 0]
        if truth is not None and truth[c].max() > 0.5:
            on = truth[c] > 0.5
            ax.fill_between(
                t,
                0,
                1,
                where=on,
                color="#fdd49e",
                alpha=0.6,
                transform=ax.get_xaxis_transform(),
                label="planted evidence",
                lw=0,
            )
        ax.plot(t, X[c], label="signal X", **styles["signal"])
        for k, (name, v) in enumerate(parts.items()):
            ax.plot(t, v[c], lw=1.1, label=name, color=plt.cm.Dark2(k))
        ax.set_ylabel(f"{ch_names[c]} ({unit})")
        ax.set_xlim(t[0], t[-1])
        if r == 0:
            ax.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.01),
                ncol=len(parts) + 2,
                fontsize=7,
                borderaxespad=0,
            )
        if r < len(idx) - 1 or w_t is not None:
            ax.set_xticklabels([])
    if w_t is not None:
        ax = axes[-1, 0]
        im = ax.imshow(
            w_t,
            aspect="auto",
            cmap="coolwarm",
            vmin=0,
            vmax=1,
            interpolation="nearest",
            extent=(t[0], t[-1], len(ch_names) - 0.5, -0.5),
        )
        step = max(1, len(ch_names) // 8)
        ax.set_yticks(range(0, len(ch_names), step))
        ax.set_yticklabels([ch_names[i] for i in range(0, len(ch_names), step)], fontsize=7)
        ax.set_ylabel("channel")
        plt.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label="weight of temporal context $w_t$")
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_loss_curves(results: dict, *, n: int, warmup: int | None = None):
    """Mask training curves: total loss and ``KL(f(X) || f(X_hat))`` per sample, per epoch.

    ``results`` maps a curve name to a :class:`~eegnb.explain.context_mask.ContextMaskResult`
    of ``n`` samples. The KL panel (log scale) shows how far the perturbed output drifts from
    the original: the price the area term pays for switching elements off.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for k, (name, r) in enumerate(results.items()):
        ep = np.arange(1, len(r.loss) + 1)
        axes[0].plot(ep, r.loss / n, label=name, color=plt.cm.Dark2(k))
        axes[1].plot(ep, np.clip(r.divergence / n, 1e-7, None), label=name, color=plt.cm.Dark2(k))
    for ax in axes:
        if warmup:
            ax.axvline(warmup, color="0.5", ls=":", lw=1)
        ax.set_xlabel("epoch")
    axes[0].set(ylabel="loss per sample", title="objective (error + area term)")
    axes[1].set(
        ylabel="KL divergence per sample",
        yscale="log",
        title="output drift $KL(f(X)\\,\\|\\,f(\\hat X))$",
    )
    if warmup:
        axes[0].text(
            warmup, axes[0].get_ylim()[1], " area term on", va="top", fontsize=8, color="0.4"
        )
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def _legend_outside(ax, **kw):
    """Legend to the right of the axes, so it never hides a bar of the same colour."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0, **kw)


def _pretty(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if "model" in out:
        out["model"] = out["model"].map(lambda m: MODEL_NAMES.get(m, m))
    if "method" in out:
        out["map"] = out["method"].map(lambda m: METHOD_NAMES.get(m, m))
    return out


def _palette(methods):
    return {METHOD_NAMES.get(m, m): METHOD_COLORS.get(m, "k") for m in methods}


def _before_markers(ax, before: pd.DataFrame, models: Sequence[str]):
    """Short black lines at each model's mean accuracy before removal."""
    for i, m in enumerate(models):
        v = before.loc[before.model == m, "acc"].mean()
        ax.hlines(
            v,
            i - 0.42,
            i + 0.42,
            color="k",
            lw=1.2,
            zorder=4,
            label="before removal" if i == 0 else None,
        )


def plot_removal_bars(
    acc: pd.DataFrame,
    experiment: str,
    *,
    labels: Sequence[str],
    compare: Sequence[str] = ("context", "gradient", "random"),
    k: int | None = None,
    chance: float = 0.5,
    what: str = "channels",
):
    """Paper Figs. 6-8: accuracy after removal, mean ± SEM over subject models.

    Rows: label dimensions. Left column: the context mask's top-``k`` vs bottom-``k``
    removal (random map's top-``k`` for chance). Right column: top-``k`` removal by each
    map in ``compare``. Black lines: accuracy before removal. ``acc`` is
    :attr:`Results.acc` (per subject).
    """
    d = acc[(acc.experiment == experiment)]
    if k is not None:
        d = d[(d.k == k) | (d.method == "none")]
    models = [m for m in MODEL_NAMES if m in set(d.model)] + sorted(set(d.model) - set(MODEL_NAMES))
    order = [MODEL_NAMES.get(m, m) for m in models]
    fig, axes = plt.subplots(len(labels), 2, figsize=(13, 3.3 * len(labels)), squeeze=False)
    for r, label in enumerate(labels):
        dl = _pretty(d[d.label == label])
        before = dl[dl.method == "none"]
        left = dl[(dl.method == "context") | ((dl.method == "random") & (dl.order == "top"))].copy()
        left["removed"] = np.where(
            left.method == "random", "random " + left.order, left.order + " salient"
        )
        left["removed"] = (
            left["removed"]
            .str.replace("top salient", "most salient")
            .str.replace("bottom salient", "least salient")
        )
        hue_order = ["most salient", "least salient", "random top"]
        pal = {
            "most salient": METHOD_COLORS["context"],
            "least salient": "#a6dba0",
            "random top": METHOD_COLORS["random"],
        }
        ax = axes[r, 0]
        sns.barplot(
            data=left,
            x="model",
            y="acc",
            hue="removed",
            order=order,
            hue_order=hue_order,
            palette=pal,
            errorbar="se",
            capsize=0.1,
            ax=ax,
            err_kws={"linewidth": 1},
        )
        _before_markers(ax, before, order)
        ax.set(
            title=f"{label} · context mask: most vs least salient {k} {what}",
            xlabel="",
            ylabel="accuracy",
        )
        right = dl[dl.method.isin(compare) & (dl.order == "top")]
        ax = axes[r, 1]
        sns.barplot(
            data=right,
            x="model",
            y="acc",
            hue="map",
            order=order,
            hue_order=[METHOD_NAMES.get(m, m) for m in compare],
            palette=_palette(compare),
            errorbar="se",
            capsize=0.1,
            ax=ax,
            err_kws={"linewidth": 1},
        )
        _before_markers(ax, before, order)
        ax.set(
            title=f"{label} · most salient {k} {what} removed, per map",
            xlabel="",
            ylabel="accuracy",
        )
        for ax in axes[r]:
            ax.axhline(chance, color="0.5", ls="--", lw=0.8)
            ax.set_ylim(0, 1.05)
            _legend_outside(ax)
    fig.tight_layout()
    return fig


def plot_removal_curves(
    acc: pd.DataFrame,
    *,
    methods: Sequence[str],
    panels: Sequence[tuple[str, str]],
    experiment: str = "channel-curve",
    chance: float = 0.5,
    xlabel: str = "number of most salient channels removed (k)",
):
    """Paper Figs. 10-11: accuracy vs number of removed top channels, mean ± SEM over subjects.

    ``panels`` lists ``(label, model)`` pairs (one panel each); ``methods`` the maps drawn.
    The ``k = 0`` point is the accuracy before removal.
    """
    d = acc[acc.experiment == experiment]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.8 * len(panels) + 1.6, 3.3), squeeze=False, sharey=True
    )
    for ax, (label, model) in zip(axes[0], panels):
        dm = d[(d.label == label) & (d.model == model)]
        base = dm[dm.method == "none"]
        rows = [dm[dm.method.isin(methods)]]
        for m in methods:  # every curve starts at the accuracy before removal
            rows.append(base.assign(method=m))
        dd = _pretty(pd.concat(rows, ignore_index=True))
        present = [m for m in methods if m in set(dm.method)]
        sns.lineplot(
            data=dd[dd.method.isin(present)],
            x="k",
            y="acc",
            hue="map",
            errorbar="se",
            marker="o",
            hue_order=[METHOD_NAMES.get(m, m) for m in present],
            palette=_palette(present),
            ax=ax,
            err_style="bars",
            err_kws={"capsize": 2},
        )
        ax.axhline(chance, color="0.5", ls="--", lw=0.8)
        ax.set(
            title=f"{MODEL_NAMES.get(model, model)}, {label}",
            xlabel=xlabel,
            ylabel="accuracy",
            ylim=(0, 1.05),
        )
        if ax is axes[0, -1]:
            _legend_outside(ax)
        else:
            ax.get_legend().remove()
    fig.tight_layout()
    return fig


def plot_localisation(
    auc: pd.DataFrame, *, methods: Sequence[str], value: str = "auc", title: str = ""
):
    """Localisation ROC-AUC against the planted truth per model and map, mean ± SEM over subjects.

    One panel per label dimension; dashed line: chance (0.5).
    """
    labels = list(dict.fromkeys(auc.label))
    fig, axes = plt.subplots(
        1, len(labels), figsize=(5.2 * len(labels) + 1.8, 3.4), squeeze=False, sharey=True
    )
    models = [MODEL_NAMES.get(m, m) for m in MODEL_NAMES if m in set(auc.model)]
    for ax, label in zip(axes[0], labels):
        d = _pretty(auc[(auc.label == label) & auc.method.isin(methods)])
        present = [m for m in methods if m in set(d.method)]
        sns.barplot(
            data=d,
            x="model",
            y=value,
            hue="map",
            order=models,
            errorbar="se",
            capsize=0.1,
            hue_order=[METHOD_NAMES.get(m, m) for m in present],
            palette=_palette(present),
            ax=ax,
            err_kws={"linewidth": 1},
        )
        ax.axhline(0.5, color="0.3", ls="--", lw=0.8)
        ax.set(
            title=f"{label}" + (f": {title}" if title else ""),
            xlabel="",
            ylim=(0, 1.0),
            ylabel="ROC-AUC vs planted truth"
            if value == "auc"
            else "channel ROC-AUC vs planted channels",
        )
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    # one legend for every map drawn in any panel (no bar left without a label)
    from matplotlib.patches import Patch

    drawn = [m for m in methods if m in set(auc.method)]
    handles = [Patch(color=METHOD_COLORS.get(m, "k"), label=METHOD_NAMES.get(m, m)) for m in drawn]
    axes[0, -1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0)
    fig.tight_layout()
    return fig


def plot_mechanism(mech: dict, *, truth: np.ndarray | None, ch_names, sfreq: float, sample: int = 0, seed: int = 0):
    """The optimiser's mechanism (notebook 10): ``|a|`` at the initial mask next to the learned
    mask for one sample, ``|M - init|`` against ``|a|`` (ranks; Spearman per sample), and the
    per-sample sign agreement and localisation AUCs (mean, 95% CI over samples)."""
    from eegnb.stats import mean_ci

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8), gridspec_kw=dict(width_ratios=[1.2, 1.2, 1, 1]))
    a, M = np.abs(mech["a"][sample]), mech["mask"][sample]
    plot_map(a, ax=axes[0], ch_names=ch_names, sfreq=sfreq, title="|a| = |dd/dx_hat (x - p)| at M = init",
             cbar_label="|a| (loss per unit mask)", max_ticks=16)
    plot_map(M, ax=axes[1], ch_names=ch_names, sfreq=sfreq, title="learned mask", cbar_label="mask value (1 = keep)", max_ticks=16)
    for ax in axes[:2]:
        _truth_outline(ax, None if truth is None else truth[sample])
    rng = np.random.default_rng(seed)
    ga, gm = np.abs(mech["a"]).ravel(), np.abs(mech["mask"] - mech["result"].config["init"]).ravel()
    pick = rng.choice(len(ga), size=min(4000, len(ga)), replace=False)
    from scipy.stats import rankdata

    axes[2].scatter(rankdata(ga)[pick] / len(ga), rankdata(gm)[pick] / len(gm), s=2, alpha=0.3, color="#1b9e77")
    axes[2].set(xlabel="rank of |a| (fraction)", ylabel="rank of |M - init| (fraction)",
                title=f"Spearman per sample: {np.nanmean(mech['spearman']):.2f} (mean)")
    names = [("sign_agreement", "agrees with\n-sign(a)"), ("polarity", "polarity-\nfree"),
             ("auc_abs_a", "AUC\nof |a|"), ("auc_mask", "AUC\nof mask")]
    names = [(k, lab) for k, lab in names if k in mech]
    cis = [mean_ci(mech[k], unit_name="segment") for k, _ in names]
    x = np.arange(len(names))
    axes[3].bar(x, [c["mean"] for c in cis], color=["#7570b3", "#7570b3", "#d95f02", "#1b9e77"][: len(names)],
                yerr=np.array([[c["mean"] - c["lo"], c["hi"] - c["mean"]] for c in cis]).T, capsize=3)
    axes[3].axhline(0.5, color="0.3", ls="--", lw=0.8)
    axes[3].set_xticks(x, [lab for _, lab in names], fontsize=7)
    axes[3].set(ylim=(0, 1), ylabel="share / ROC-AUC (0.5 = chance)", title="mean, 95% CI over segments")
    fig.tight_layout()
    return fig


def plot_deletion_curves(curves: pd.DataFrame, *, methods: Sequence[str], axes_order=("channel", "time")):
    """Deletion curves (most salient removed first): probability of the predicted class vs the
    fraction of channels / time steps removed, per model (rows) and axis (columns), mean over
    subject models with a 95% band (seaborn ``errorbar=("ci", 95)`` over subjects)."""
    models = [m for m in MODEL_NAMES if m in set(curves.model)] or list(dict.fromkeys(curves.model))
    axs = [a for a in axes_order if a in set(curves.axis)]
    fig, axes = plt.subplots(len(models), len(axs), figsize=(4.6 * len(axs) + 2, 3.0 * len(models)), squeeze=False, sharey=True)
    for i, mo in enumerate(models):
        for j, ax_name in enumerate(axs):
            ax = axes[i, j]
            d = _pretty(curves[(curves.model == mo) & (curves.axis == ax_name) & curves.method.isin(methods)])
            present = [m for m in methods if m in set(d.method)]
            sns.lineplot(data=d, x="fraction", y="score", hue="map", units=None, errorbar=("ci", 95),
                         hue_order=[METHOD_NAMES.get(m, m) for m in present], palette=_palette(present), ax=ax, lw=1.2)
            what = "time steps" if ax_name == "time" else "channels"
            ax.set(title=f"{MODEL_NAMES.get(mo, mo)}: {what} removed", xlabel=f"fraction of {what} removed (most salient first)",
                   ylabel="p(predicted class)", ylim=(0, 1))
            if ax.get_legend() is not None:
                ax.get_legend().remove()
    from matplotlib.lines import Line2D

    present = [m for m in methods if m in set(curves.method)]
    axes[0, -1].legend(handles=[Line2D([], [], color=METHOD_COLORS.get(m, "k"), label=METHOD_NAMES.get(m, m)) for m in present],
                       loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0)
    fig.suptitle("deletion curves: mean and 95% interval over subject models (removed elements set to 0)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_speed(speed: dict):
    """Seconds per sample of the mask optimiser, whole batch at once vs one sample at a time."""
    fig, ax = plt.subplots(figsize=(4, 2.6))
    vals = [speed["batched_s_per_sample"], speed["single_s_per_sample"]]
    ax.bar(["batched", "one at a time"], vals, color=["#1b9e77", "#999999"])
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.3f} s", ha="center", va="bottom", fontsize=8)
    ax.set(
        ylabel="seconds per sample",
        title=f"{speed['n']} samples, {speed['epochs']} epochs ({speed['speedup']:.1f}x)",
    )
    fig.tight_layout()
    return fig
