"""Figures of paper 3 (CRP on EEGNet): concept heatmaps, reference samples, filter UMAP,
cluster recurrence, band topomaps (``mne.viz.plot_topomap``), class-wise relevance spectra,
time-frequency relevance and ICA component relevance. Used by ``notebooks/30_crp_concepts``
and ``notebooks/31_crp_frequency_topography``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "topo_info",
    "plot_concept_heatmaps",
    "plot_reference_samples",
    "plot_filter_umap",
    "plot_cluster_recurrence",
    "plot_band_topomaps",
    "plot_class_spectra",
    "plot_time_frequency",
    "plot_ica_relevance",
    "plot_relevance_shares",
    "plot_functional_groups",
    "robust_limit",
    "RELEVANCE_UNIT",
]

#: LRP/CRP relevance is in the unit of the explained logit (the map sums to it, up to the leak).
RELEVANCE_UNIT = "relevance (logit units)"

LABEL_COLORS = {"brain": "tab:green", "muscle artifact": "tab:red", "eye blink": "tab:blue",
                "heart beat": "tab:pink", "line noise": "tab:orange", "channel noise": "tab:brown",
                "other": "tab:gray", "residual": "lightgray"}


def topo_info(ch_names: Sequence[str], sfreq: float = 100.0):
    """An ``mne.Info`` with the standard 10-05 positions of ``ch_names`` (for topomaps)."""
    import mne

    from eegnb.data import make_montage

    info = mne.create_info(list(ch_names), sfreq, "eeg")
    info.set_montage(make_montage(list(ch_names)), on_missing="ignore", verbose="error")
    return info


def _sym(v: np.ndarray) -> float:
    m = float(np.nanmax(np.abs(v))) if np.size(v) else 1.0
    return m if m > 0 else 1.0


def robust_limit(v: np.ndarray, pct: float = 99.0) -> float:
    """Symmetric colour limit: the ``pct`` percentile of ``|v|`` (a few spikes do not set the
    scale; values beyond it saturate). Falls back to the maximum, then 1, for all-zero maps."""
    a = np.abs(np.asarray(v, float))
    a = a[np.isfinite(a)]
    if not a.size:
        return 1.0
    m = float(np.percentile(a, pct))
    return m if m > 0 else _sym(a)


def _region_ticks(ax, ch_names: Sequence[str], labels: bool = True, fontsize: int = 7) -> None:
    """Y ticks at the first channel of each electrode row (FC, C, CP, Fp, AF, F, ... by prefix)."""
    import re

    prefix = [re.sub(r"(z|Z|\d+)$", "", c) for c in ch_names]  # FC5, FCz -> FC; Fpz -> Fp
    starts = [i for i in range(len(ch_names)) if i == 0 or prefix[i] != prefix[i - 1]]
    ticks: list[int] = []
    for i in starts:  # short rows (FT, T, TP: 1-2 channels) would print labels on top of each other
        if not ticks or i - ticks[-1] >= max(3, len(ch_names) // 20):
            ticks.append(i)
    ax.set_yticks(ticks)
    ax.set_yticklabels([ch_names[i] for i in ticks] if labels else [], fontsize=fontsize)


def _heat(ax, m, *, sfreq, tmin, v=None, labels=True, ch_names=()):
    v = v or robust_limit(m)
    im = ax.imshow(m, aspect="auto", cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
    _region_ticks(ax, ch_names, labels)
    ticks = np.linspace(0, m.shape[1] - 1, 4)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{tmin + x / sfreq:.1f}" for x in ticks])
    return im


def plot_concept_heatmaps(total: np.ndarray, per_filter: np.ndarray, filters: Sequence[int], relevance: np.ndarray,
                          *, ch_names: Sequence[str], sfreq: float, tmin: float = 0.0, title: str = ""):
    """One sample: its LRP heatmap ``(ch, t)``, the concept heatmaps of ``filters``
    (``per_filter (k, ch, t)``) and a bar of all filters' relevance ``(F,)``.

    Signed maps (red: evidence for the explained class), each panel on its own symmetric
    scale at the 99th percentile of ``|R|`` (the filters' maps are parts of the total and much
    weaker; the few larger values saturate), colourbars in logit units.
    """
    k = len(filters)
    fig = plt.figure(figsize=(3.0 * (k + 1) + 3.2, 3.9))
    gs = fig.add_gridspec(1, k + 2, width_ratios=[1] * (k + 1) + [0.75], wspace=0.35)
    maps = [total] + list(per_filter)
    titles = ["all filters (LRP)"] + [f"filter {f} (R = {relevance[f]:+.2f})" for f in filters]
    for i, (m, t) in enumerate(zip(maps, titles)):
        ax = fig.add_subplot(gs[0, i])
        im = _heat(ax, m, sfreq=sfreq, tmin=tmin, labels=i == 0, ch_names=ch_names)
        ax.set_title(t, fontsize=9)
        ax.set_xlabel("time after cue (s)")
        cb = fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.05, pad=0.2, aspect=25, extend="both")
        cb.set_label(RELEVANCE_UNIT + " (99th pct. scale)", fontsize=7)
        cb.ax.tick_params(labelsize=6)
        cb.locator = plt.MaxNLocator(3)
        cb.update_ticks()
        if i == 0:
            ax.set_ylabel("channel")
    ax = fig.add_subplot(gs[0, k + 1])
    order = np.arange(len(relevance))
    ax.barh(order, relevance, color=["tab:red" if r > 0 else "tab:blue" for r in relevance])
    for f in filters:
        ax.barh([f], [relevance[f]], color="none", edgecolor="k", lw=1.2)
    ax.set_yticks(order)
    ax.set_yticklabels([str(i) for i in order], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("filter relevance R(x|filter) (logit units)")
    ax.set_ylabel("filter")
    if title:
        fig.suptitle(title, y=1.0)
    return fig


def plot_reference_samples(ref, X: np.ndarray, *, filters: Sequence[int], subject: np.ndarray | None, y: np.ndarray,
                           class_names: Sequence[str], ch_names: Sequence[str], sfreq: float, tmin: float = 0.0,
                           info=None, n_show: int = 4):
    """Relevance maximisation: per filter (row) a topomap of its reference heatmaps (time
    summed, first column), then its top ``n_show`` reference samples' concept heatmaps ``(ch, t)``.

    ``ref``: :class:`eegnb.explain.crp.ReferenceSamples`; ``X``, ``subject``, ``y`` index the
    samples it refers to (``subject=None``: one pool, no subject shown).
    """
    import mne

    n_show = min(n_show, ref.indices.shape[0])
    fig, axes = plt.subplots(len(filters), n_show + 1, figsize=(2.3 * (n_show + 1) + 0.6, 2.5 * len(filters)),
                             squeeze=False, gridspec_kw=dict(width_ratios=[0.9] + [1] * n_show, hspace=0.55, wspace=0.3))
    info = info if info is not None else topo_info(ch_names, sfreq)
    col = {f: j for j, f in enumerate(np.atleast_1d(filters))}
    for r, f in enumerate(filters):
        H = ref.heatmaps[f][:n_show]
        v = robust_limit(H)
        topo = H.sum(-1).mean(0)
        tim, _ = mne.viz.plot_topomap(topo, info, axes=axes[r, 0], show=False, cmap="RdBu_r",
                                      vlim=(-_sym(topo), _sym(topo)), contours=0, sensors=False)
        tcb = fig.colorbar(tim, ax=axes[r, 0], location="left", fraction=0.05, pad=0.02)  # clear of the heatmap ticks
        tcb.set_label("R summed over time", fontsize=6)
        tcb.ax.tick_params(labelsize=5)
        axes[r, 0].set_title(f"filter {f}\nmean over refs", fontsize=8)
        for c in range(n_show):
            ax = axes[r, c + 1]
            i = int(ref.indices[c, col[f]])
            im = ax.imshow(H[c], aspect="auto", cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
            who = f" S{subject[i]}" if subject is not None else ""
            ax.set_title(f"#{i}{who} {class_names[y[i]]}\nR={ref.relevance[c, col[f]]:.2f} (normalised)", fontsize=7)
            _region_ticks(ax, ch_names, c == 0, fontsize=5)
            ticks = np.linspace(0, H.shape[-1] - 1, 3)
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{tmin + x / sfreq:.1f}" for x in ticks] if r == len(filters) - 1 else [], fontsize=7)
        cb = fig.colorbar(im, ax=axes[r, 1:], fraction=0.015, pad=0.01, extend="both")
        cb.set_label(RELEVANCE_UNIT, fontsize=7)
    axes[-1, 1].set_xlabel("time after cue (s)")
    fig.suptitle("Relevance maximisation: reference samples per filter (concept heatmaps, channel x time;\n"
                 "colour scale per row at the 99th percentile of |R|)", y=0.97)
    return fig


def _model_key(clusters: pd.DataFrame) -> tuple[str, str, str]:
    """Column naming each filter's model, the label format and the axis name: the held-out subject
    (LOSO, one model per subject) or, when folds share their test subject (within-subject folds
    of a single subject, as on real EEGBCI S001), the fold."""
    per_fold = clusters.groupby("fold")["test_subject"].first()
    if per_fold.nunique() == len(per_fold):
        return "test_subject", "S{}", "held-out subject"
    return "fold", "fold {}", "within-subject fold"


def plot_filter_umap(clusters: pd.DataFrame):
    """UMAP of all filters: coloured by cluster (grey = noise) and by model (held-out subject, or
    fold for within-subject folds); size ~ relevance share."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    size = 15 + 400 * clusters["share"].clip(lower=0).to_numpy()
    labs = sorted(clusters["cluster"].unique())
    cmap = plt.get_cmap("tab10")
    for c in labs:
        sel = clusters["cluster"] == c
        color = "lightgray" if c < 0 else cmap(c % 10)
        axes[0].scatter(clusters.loc[sel, "umap_x"], clusters.loc[sel, "umap_y"], s=size[sel.to_numpy()], c=[color],
                        edgecolors="k", linewidths=0.3, label="noise" if c < 0 else f"cluster {c}")
    axes[0].legend(fontsize=7, loc="best", markerscale=0.6)
    axes[0].set_title("filters by density cluster (HDBSCAN)")
    key, fmt, what = _model_key(clusters)
    subs = sorted(clusters[key].unique())
    cm2 = plt.get_cmap("viridis", max(len(subs), 2))
    for j, s in enumerate(subs):
        sel = clusters[key] == s
        label = f"model w/o S{s}" if key == "test_subject" else f"model of {fmt.format(s)}"
        axes[1].scatter(clusters.loc[sel, "umap_x"], clusters.loc[sel, "umap_y"], s=size[sel.to_numpy()],
                        color=cm2(j), edgecolors="k", linewidths=0.3, label=label)
    axes[1].legend(fontsize=7, loc="best", markerscale=0.6)
    axes[1].set_title(f"filters by model ({what})")
    for ax in axes:
        ax.set_xlabel("UMAP 1")
        ax.set_ylabel("UMAP 2")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.text(0.5, -0.02, "marker size: the filter's share of its model's absolute filter relevance", ha="center",
             fontsize=8)
    fig.tight_layout()
    return fig


def plot_cluster_recurrence(clusters: pd.DataFrame, cluster_table: pd.DataFrame, recurrence: dict | None = None,
                            neighbours: pd.DataFrame | None = None):
    """Filters per cluster (rows) and model (columns: held-out subject, or fold for within-subject
    folds), with coverage and shares; with ``recurrence`` (:func:`eegnb.experiments.crp.recurrence_test`)
    the observed mean coverage against its permutation null, and with ``neighbours`` the
    own-model neighbour share per descriptor kind against chance (mean and 95% CI over filters)."""
    from eegnb.stats import mean_ci

    key, fmt, what = _model_key(clusters)
    tab = pd.crosstab(clusters["cluster"], clusters[key])
    extra = (recurrence is not None) + (neighbours is not None)
    fig = plt.figure(figsize=(1.0 + 0.55 * tab.shape[1] + 2.8 + 3.6 * extra, max(0.45 * tab.shape[0] + 1.4, 3.4)))
    gs = fig.add_gridspec(1, 1 + extra, width_ratios=[1.0 + 0.55 * tab.shape[1] + 2.8] + [3.2] * extra, wspace=0.6)
    ax = fig.add_subplot(gs[0, 0])
    im = ax.imshow(tab.to_numpy(), cmap="Greens", aspect="auto", vmin=0)
    for (i, j), v in np.ndenumerate(tab.to_numpy()):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color="k" if v < tab.to_numpy().max() * 0.6 else "w")
    ax.set_xticks(range(tab.shape[1]))
    ax.set_xticklabels([fmt.format(s) for s in tab.columns])
    ax.set_yticks(range(tab.shape[0]))
    ct = cluster_table.set_index("cluster")
    ax.set_yticklabels([("noise" if c < 0 else f"cluster {c}") + f"  (cov {ct.loc[c, 'coverage']:.0%}, "
                        f"ch {ct.loc[c, 'channel_share']:.0%}, band {ct.loc[c, 'band_share']:.0%})" for c in tab.index],
                       fontsize=8)
    ax.set_xlabel(f"model ({what})")
    ax.set_title("filters per cluster and model")
    fig.colorbar(im, ax=ax, fraction=0.04, label="filters (count)")
    col = 1
    if recurrence is not None:
        ax = fig.add_subplot(gs[0, col])
        col += 1
        perm = np.asarray(recurrence.get("perm_nmi", []), float)
        perm = perm[np.isfinite(perm)]
        if perm.size:
            ax.hist(perm, bins=20, color="lightgray", edgecolor="gray", label=f"permuted models ({len(perm)})")
            ax.axvspan(recurrence["nmi_chance_lo"], recurrence["nmi_chance_hi"], color="gray", alpha=0.15,
                       label="chance 95% range")
        if np.isfinite(recurrence.get("nmi", np.nan)):
            ax.axvline(recurrence["nmi"], color="tab:red", lw=2,
                       label=f"observed (p = {recurrence['p_model_tied']:.3f})")
        ax.set_xlabel("cluster-model mutual information (NMI)\n0: clusters mix models, 1: one model each")
        ax.set_ylabel("permutations (count)")
        ax.set_title(f"recurrence vs chance (coverage {recurrence['observed']:.0%},\nchance {recurrence['chance_mean']:.0%})",
                     fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    if neighbours is not None:
        ax = fig.add_subplot(gs[0, col])
        kinds = list(dict.fromkeys(neighbours["descriptors"]))
        for i, k in enumerate(kinds):
            d = neighbours[neighbours["descriptors"] == k]
            r, ch = mean_ci(d["own_share"], unit_name="filter"), mean_ci(d["chance"], unit_name="filter")
            ax.bar(i, r["mean"], color="tab:purple", alpha=0.75, width=0.6, label="observed (95% CI over filters)" if i == 0 else None)
            ax.errorbar(i, r["mean"], yerr=[[r["mean"] - r["lo"]], [r["hi"] - r["mean"]]], color="k", capsize=3)
            ax.hlines(ch["mean"], i - 0.35, i + 0.35, color="k", ls="--", label="chance" if i == 0 else None)
        ax.set_xticks(range(len(kinds)))
        ax.set_xticklabels([k.replace(", ", ",\n") for k in kinds], fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of 5 nearest filters from the same model")
        ax.set_title("do filters group by model?")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Cluster recurrence across models", y=1.07)
    return fig


def plot_functional_groups(table: pd.DataFrame, *, title: str = ""):
    """Share of positive relevance per functional region and hemisphere: one group of bars per
    region (left / midline / right), one colour per map (model, random, oracle), mean and 95% CI
    over folds; black ticks: the group's share of channels (a uniform map)."""
    from eegnb.stats import mean_ci

    maps = list(dict.fromkeys(table["map"]))
    colors = {"model": "tab:red", "random": "tab:gray", "oracle": "tab:green"}
    order = [(r, h) for r in ("frontal", "central", "temporal", "parietal", "occipital")
             for h in ("left", "midline", "right") if ((table["region"] == r) & (table["hemisphere"] == h)).any()]
    fig, ax = plt.subplots(figsize=(0.55 * len(order) * max(len(maps), 1) * 0.45 + 2.5, 3.8))
    w = 0.8 / max(len(maps), 1)
    for j, m in enumerate(maps):
        for i, (r, h) in enumerate(order):
            d = table[(table["map"] == m) & (table["region"] == r) & (table["hemisphere"] == h)]
            ci = mean_ci(d["share"], unit_name="fold")
            x = i + (j - (len(maps) - 1) / 2) * w
            ax.bar(x, ci["mean"], width=w, color=colors.get(m, f"C{j}"), label=m if i == 0 else None)
            if np.isfinite(ci.get("lo", np.nan)):
                ax.errorbar(x, ci["mean"], yerr=[[ci["mean"] - ci["lo"]], [ci["hi"] - ci["mean"]]], color="k",
                            lw=0.8, capsize=2)
    for i, (r, h) in enumerate(order):
        u = table[(table["region"] == r) & (table["hemisphere"] == h)]["uniform"].iloc[0]
        ax.hlines(u, i - 0.42, i + 0.42, color="k", lw=1.4, label="uniform (channel share)" if i == 0 else None)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels([f"{r}\n{h}" for r, h in order], fontsize=7, rotation=90)
    ax.set_ylabel("share of positive relevance")
    ax.legend(fontsize=7, title="map (mean, 95% CI over folds)", title_fontsize=7)
    ax.set_title(title or "Relevance per functional region (MNE standard_1005 positions)")
    fig.tight_layout()
    return fig


def plot_band_topomaps(values: np.ndarray, row_labels: Sequence[str], band_names: Sequence[str], info, *,
                       mask_channels: Sequence[str] | None = None, title: str = "", per_row_scale: bool = True,
                       cbar_label: str = RELEVANCE_UNIT):
    """Grid of topomaps: rows (clusters / classes) x bands; ``values (rows, ch, n_bands)``.

    Signed relevance, symmetric colour scale per row (or for the whole grid); ``mask_channels``
    are marked with white dots (e.g. the planted C3/C4 neighbourhoods).
    """
    import mne

    R, C = len(row_labels), len(band_names)
    fig, axes = plt.subplots(R, C + 1, figsize=(1.9 * C + 0.6, 1.9 * R + 0.4), squeeze=False,
                             gridspec_kw=dict(width_ratios=[1] * C + [0.08]))
    mask = None
    if mask_channels is not None:
        mask = np.isin(np.asarray(info.ch_names), list(mask_channels))
    vall = _sym(values)
    for r in range(R):
        v = _sym(values[r]) if per_row_scale else vall
        for c in range(C):
            im, _ = mne.viz.plot_topomap(values[r, :, c], info, axes=axes[r, c], show=False, cmap="RdBu_r",
                                         vlim=(-v, v), contours=0, sensors=False, mask=mask,
                                         mask_params=dict(marker="o", markerfacecolor="w", markeredgecolor="k",
                                                          markersize=3, linewidth=0))
            if r == 0:
                axes[r, c].set_title(band_names[c])
        axes[r, 0].text(-0.12, 0.5, row_labels[r], transform=axes[r, 0].transAxes, va="center", ha="right",
                        fontsize=8)
        fig.colorbar(im, cax=axes[r, C], label=cbar_label if r == R // 2 else "")
    if title:  # just above the first row, whatever the figure's height
        fig.suptitle(title, y=axes[0, 0].get_position().y1 + 0.62 / fig.get_figheight())
    return fig


def plot_class_spectra(freqs: np.ndarray, spectra: dict, *, bands: Sequence[tuple] = (), fmax: float = 40.0,
                       title: str = "", ylabel: str = "relevance per bin (summed over channels)"):
    """Class-wise relevance spectra: ``spectra[label] (n_models, n_bins)``; mean +- SEM over models.

    ``bands``: ``(lo, hi)`` Hz ranges shaded (e.g. the planted mu and beta bands).
    """
    fig, ax = plt.subplots(figsize=(6.8, 3.4))
    sel = freqs <= fmax
    for lo, hi in bands:
        ax.axvspan(lo, hi, color="gold", alpha=0.25, lw=0)
    for label, S in spectra.items():
        S = np.atleast_2d(S)[:, sel]
        m = S.mean(0)
        se = S.std(0, ddof=1) / np.sqrt(len(S)) if len(S) > 1 else np.zeros_like(m)
        (line,) = ax.plot(freqs[sel], m, label=label, lw=1.2)
        ax.fill_between(freqs[sel], m - se, m + se, color=line.get_color(), alpha=0.25, lw=0)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, title="explained class" if len(spectra) > 1 else None)
    if bands:
        ax.text(0.99, 0.97, "shaded: planted mu / beta bands", transform=ax.transAxes, ha="right", va="top",
                fontsize=7)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_time_frequency(tf: dict, times: np.ndarray, freqs: np.ndarray, *, fmax: float = 40.0, title: str = ""):
    """Time-frequency relevance maps ``tf[label] (n_frames, n_bins)`` side by side (one colour scale)."""
    labels = list(tf)
    fig, axes = plt.subplots(1, len(labels), figsize=(3.6 * len(labels) + 0.8, 3.2), squeeze=False)
    sel = freqs <= fmax
    v = _sym(np.concatenate([np.ravel(tf[k][:, sel]) for k in labels]))
    dt = np.diff(times).mean() if len(times) > 1 else 1.0
    df = np.diff(freqs).mean()
    for ax, k in zip(axes[0], labels):
        im = ax.imshow(tf[k][:, sel].T, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-v, vmax=v,
                       extent=[times[0] - dt / 2, times[-1] + dt / 2, freqs[sel][0] - df / 2, freqs[sel][-1] + df / 2])
        ax.set_title(k, fontsize=9)
        ax.set_xlabel("time after cue (s)")
    axes[0, 0].set_ylabel("frequency (Hz)")
    fig.colorbar(im, ax=axes[0].tolist(), fraction=0.03, label=RELEVANCE_UNIT)
    if title:
        fig.suptitle(title, y=1.02)
    return fig


def plot_ica_relevance(ica, table: pd.DataFrame, *, top: int = 5, title: str = ""):
    """Top ``top`` components by relevance share (topomaps with ICLabel label and share) and a
    bar of every component's share of absolute relevance, coloured by its ICLabel class."""
    comps = table[table["component"] != "rest"].copy()
    comps["k"] = np.arange(len(comps))
    best = comps.sort_values("abs_share", ascending=False).head(top)
    fig = plt.figure(figsize=(2.0 * top + 0.5, 5.2))
    gs = fig.add_gridspec(2, top, height_ratios=[1.1, 1])
    maps = ica.get_components()  # (ch, k)
    info = ica.info
    import mne

    for j, (_, r) in enumerate(best.iterrows()):
        ax = fig.add_subplot(gs[0, j])
        m = maps[:, int(r["k"])]
        tim, _ = mne.viz.plot_topomap(m, info, axes=ax, show=False, cmap="RdBu_r", vlim=(-_sym(m), _sym(m)),
                                      contours=0, sensors=False)
        cb = fig.colorbar(tim, ax=ax, orientation="horizontal", fraction=0.06, pad=0.04)
        cb.set_label("mixing weight (a.u.)", fontsize=6)
        cb.ax.tick_params(labelsize=5)
        lab = r.get("label", "")
        p = r.get("proba", np.nan)
        ax.set_title(f"{r['component']} {lab}" + (f" ({p:.2f})" if np.isfinite(p) else "") +
                     f"\n{r['abs_share']:.0%} of |R|, R={r['relevance']:+.2f} logit", fontsize=8)
    ax = fig.add_subplot(gs[1, :])
    labels = table.get("label", pd.Series(["other"] * len(table)))
    colors = [LABEL_COLORS.get(lb, "tab:gray") for lb in labels]
    ax.bar(range(len(table)), table["abs_share"], color=colors)
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels(table["component"], rotation=90, fontsize=7)
    ax.set_ylabel("share of |relevance|\n(fraction of the map's total)")
    ax.set_xlabel("ICA component (rest: the part outside the retained components)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=LABEL_COLORS.get(lb, "tab:gray")) for lb in dict.fromkeys(labels)]
    ax.legend(handles, list(dict.fromkeys(labels)), fontsize=7, title="ICLabel", ncol=4)
    fig.tight_layout()
    if title:  # after tight_layout, above the topomaps' two-line titles
        fig.suptitle(title, y=1.08)
    return fig


def plot_relevance_shares(shares: pd.DataFrame, *, title: str = "", controls: dict | None = None):
    """Positive-relevance share on planted channels, band and both (bars: mean over folds; dots:
    folds) next to the share a uniform map would give (dashes). ``controls``: ``{name: shares
    DataFrame}`` of control maps through the same metric (e.g. random, oracle), drawn beside."""
    kinds = [("channel", "planted channels"), ("band", "planted bands"), ("joint", "channels x bands")]
    series = {"model": shares, **(controls or {})}
    colors = {"model": "tab:red", "random": "tab:gray", "oracle": "tab:green"}
    w = 0.7 / len(series)
    fig, ax = plt.subplots(figsize=(5.2 + 0.8 * (len(series) - 1), 3.3))
    for i, (k, _lab) in enumerate(kinds):
        for j, (name, sh) in enumerate(series.items()):
            v = sh[f"{k}_share"].to_numpy()
            x = i + (j - (len(series) - 1) / 2) * w
            ax.bar(x, v.mean(), color=colors.get(name, f"C{j}"), alpha=0.8, width=w * 0.9, label=name if i == 0 else None)
            ax.scatter(np.full(len(v), x) + np.linspace(-w / 4, w / 4, len(v)), v, color="k", s=8, zorder=3,
                       label="folds" if i == 0 and j == 0 else None)
        u = shares[f"{k}_uniform"].iloc[0]
        ax.hlines(u, i - 0.4, i + 0.4, color="k", ls="--", lw=1.2, label="uniform share" if i == 0 else None)
    ax.set_xticks(range(len(kinds)))
    ax.set_xticklabels([lab for _, lab in kinds])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of positive relevance\n(per trial, mean over trials)")
    ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

