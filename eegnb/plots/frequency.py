"""Figures of paper 2 (Wang et al., frequency-domain mask perturbation), matplotlib/MNE.

- :func:`plot_band_maps`: channel x band saliency maps side by side (paper Figs. 5, 6, 10),
  one shared colour scale per method, planted channels/bands outlined when given.
- :func:`plot_band_topomaps`: scalp maps of a channel x band map for a few bands (MNE).
- :func:`plot_removal`: accuracies Ori / RN / RS per model and method (paper Figs. 7, 8, 9).
- :func:`plot_spectrum_walkthrough`: one sample through the method: spectrum, learned mask,
  perturbation, perturbed spectrum and signal (notebook 20).
- :func:`plot_band_auc`: band ROC-AUC against the planted truth, mean +- SEM over subjects.
- :func:`plot_lambda_sweep`: KDE score and accuracy drop against lambda (paper Table 2).
- :func:`plot_ablation`: RN/RS per ablation variant (paper Table 3).

Used by ``notebooks/20_frequency_mask_method`` and ``21_frequency_mask_experiments``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from eegnb.explain.bands import band_labels
from eegnb.plots.core import bar_with_sem

GAME_COLORS = {"ori": "#4a5568", "rn": "#3182ce", "rs": "#e53e3e"}
GAME_LABELS = {"ori": "Ori", "rn": "RN (non-salient removed)", "rs": "RS (salient removed)"}
METHOD_LABELS = {"ours": "frequency mask (ours)", "easypeasi": "easyPEASI", "random": "random maps"}
SHORT_LABELS = {"ours": "mask (ours)", "easypeasi": "easyPEASI", "random": "random"}
MODEL_LABELS = {"eegnet": "EEGNet", "tsception": "TSception", "deepconvnet": "DeepConvNet"}


def _outline(ax, truth: np.ndarray | None, color: str = "white"):
    if truth is None:
        return
    for r, c in zip(*np.nonzero(np.asarray(truth) > 0.5)):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec=color, lw=0.6))


def plot_band_maps(
    maps: Mapping[str, np.ndarray],
    *,
    ch_names: Sequence[str],
    edges: np.ndarray,
    truth: np.ndarray | None = None,
    cbar_label: str | Sequence[str] = "mask value (saliency)",
    shared_scale: bool = True,
    signed: bool = False,
    suptitle: str = "",
    ch_step: int = 1,
):
    """Panels of ``(ch, n_bands)`` maps titled by the keys of ``maps``; ``truth (ch, n_bands)``
    outlines the planted components (white boxes; black on signed maps). Returns the figure."""
    n = len(maps)
    n_ch = len(ch_names)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n + 1.2, 0.12 * n_ch + 1.6), squeeze=False, sharey=True,
                             layout="constrained")
    vals = np.concatenate([np.ravel(m) for m in maps.values()])
    vmax = np.nanmax(np.abs(vals)) if shared_scale else None
    im = None
    for ax, (title, m) in zip(axes[0], maps.items()):
        m = np.asarray(m, float)
        v = vmax if shared_scale else np.nanmax(np.abs(m))
        v = v if v and np.isfinite(v) and v > 0 else 1.0
        if signed:
            im = ax.imshow(m, aspect="auto", cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
        else:
            im = ax.imshow(m, aspect="auto", cmap="viridis", vmin=0, vmax=v, interpolation="nearest")
        _outline(ax, truth, "black" if signed else "white")
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(edges)))
        ax.set_xticklabels(band_labels(edges), rotation=60, ha="right", fontsize=6)
        ax.set_xlabel("frequency band")
        if not shared_scale:
            fig.colorbar(im, ax=ax, fraction=0.08, pad=0.02, label=cbar_label if isinstance(cbar_label, str) else cbar_label[list(maps).index(title)])
    ax0 = axes[0, 0]
    ax0.set_yticks(range(0, n_ch, ch_step))
    ax0.set_yticklabels([ch_names[i] for i in range(0, n_ch, ch_step)], fontsize=5)
    ax0.set_ylabel("channel")
    if shared_scale and im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), fraction=0.03, pad=0.02, label=cbar_label, shrink=0.6)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_band_topomaps(m: np.ndarray, *, ch_names: Sequence[str], edges: np.ndarray, bands: Sequence[int],
                       titles: Sequence[str] | None = None, cbar_label: str = "mean mask value", axes=None):
    """Scalp maps (MNE ``plot_topomap``) of columns ``bands`` of a ``(ch, n_bands)`` map,
    on one colour scale. Returns the figure."""
    import mne

    from eegnb.data.layouts import make_montage

    info = mne.create_info(list(ch_names), 200.0, "eeg")
    info.set_montage(make_montage(list(ch_names)))
    if axes is None:
        fig, axes = plt.subplots(1, len(bands), figsize=(2.2 * len(bands) + 0.8, 2.4))
    axes = np.atleast_1d(axes)
    fig = axes[0].figure
    m = np.asarray(m, float)
    vmax = float(np.nanmax(m[:, list(bands)])) or 1.0
    im = None
    labels = band_labels(edges)
    for i, (ax, b) in enumerate(zip(axes, bands)):
        im, _ = mne.viz.plot_topomap(m[:, b], info, axes=ax, show=False, cmap="viridis", vlim=(0, vmax), contours=0)
        ax.set_title(titles[i] if titles else labels[b])
    fig.colorbar(im, ax=list(axes), fraction=0.03, pad=0.03, label=cbar_label)
    return fig


def plot_removal(acc: Mapping[str, Mapping[str, Mapping[str, float]]], *, level_title: str = "", chance: float = 0.5,
                 methods: Sequence[str] = ("ours", "easypeasi")):
    """Grouped bars: for each model (panel) and method (bar group), accuracy on Ori, RN, RS.

    ``acc[model][method] = {"ori", "rn", "rs"}``; numbers printed on the bars."""
    models = list(acc)
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models) + 1.6, 3.0), squeeze=False, sharey=True)
    w = 0.26
    for ax, model in zip(axes[0], models):
        meths = [m for m in methods if m in acc[model]]
        for j, game in enumerate(("ori", "rn", "rs")):
            vals = [acc[model][m][game] for m in meths]
            x = np.arange(len(meths)) + (j - 1) * w
            bars = ax.bar(x, vals, w, color=GAME_COLORS[game], label=GAME_LABELS[game])
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=6)
        ax.set_xticks(range(len(meths)))
        ax.set_xticklabels([SHORT_LABELS.get(m, m) for m in meths], fontsize=8)
        ax.axhline(chance, color="grey", ls="--", lw=0.8)
        ax.set_ylim(0, 1.12)
        ax.set_title(MODEL_LABELS.get(model, model))
    axes[0, 0].set_ylabel("accuracy")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    if level_title:
        fig.suptitle(level_title)
    fig.tight_layout()
    return fig


def plot_loso(results: Sequence, *, title: str = ""):
    """Paper Fig. 9: Ori / RN / RS accuracy on each held-out subject (group-level game)."""
    fig, ax = plt.subplots(figsize=(1.0 * len(results) + 2.6, 3.0))
    w = 0.26
    for j, game in enumerate(("ori", "rn", "rs")):
        vals = [r.group[game] for r in results]
        x = np.arange(len(results)) + (j - 1) * w
        ax.bar(x, vals, w, color=GAME_COLORS[game], label=GAME_LABELS[game])
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"sub{r.subject} out" for r in results])
    ax.axhline(0.5, color="grey", ls="--", lw=0.8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("accuracy on the held-out subject")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_spectrum_walkthrough(x: np.ndarray, mask_bins: np.ndarray, perturbed: np.ndarray, perturbation: np.ndarray, *,
                              sfreq: float, ch_name: str, edges: np.ndarray, band_mask: np.ndarray):
    """One channel of one sample through the method: top, magnitude spectra of the original,
    the perturbation ``x^{f,r}`` and the perturbed signal with the learned mask (right axis);
    bottom, the signals in time. Inputs are 1-D ``(t,)`` signals, ``mask_bins (n_bins,)``,
    ``band_mask (n_bands,)``."""
    n_t = len(x)
    f = np.fft.rfftfreq(n_t, 1 / sfreq)
    t = np.arange(n_t) / sfreq

    def amp(sig):  # one-sided amplitude spectrum in the signal's unit
        return 2 * np.abs(np.fft.rfft(sig)) / n_t

    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.5, 5.2))
    a1.semilogy(f, amp(x), color="k", lw=0.9, label="original $x$")
    a1.semilogy(f, amp(perturbed), color="#3182ce", lw=1.6, alpha=0.6, label=r"perturbed $\hat{x}$")
    a1.semilogy(f, amp(perturbation), color="#dd6b20", lw=0.8, ls="--", label="perturbation $x^{f,r}$")
    lo = np.percentile(np.concatenate([amp(x)[1:], amp(perturbation)[1:]]), 1)
    a1.set_ylim(bottom=max(lo / 2, 1e-6))
    a1.set_xlabel("frequency (Hz)")
    a1.set_ylabel("amplitude (µV)")
    a1.set_xlim(0, sfreq / 2)
    b = a1.twinx()
    b.fill_between(f, 0, mask_bins, step="mid", color="#38a169", alpha=0.25, label="mask M (right axis)")
    b.set_ylim(0, 1.05)
    b.set_ylabel("mask value")
    b.spines["right"].set_visible(True)
    for lo, _hi in edges[1:]:
        a1.axvline(lo, color="grey", lw=0.4, ls=":")
    h1, l1 = a1.get_legend_handles_labels()
    h2, l2 = b.get_legend_handles_labels()
    a1.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right", ncol=2)
    a1.set_title(f"{ch_name}: spectrum, learned mask (green) and perturbation")
    a2.plot(t, x, color="k", lw=0.8, label="original")
    a2.plot(t, perturbed, color="#3182ce", lw=0.8, alpha=0.85, label="perturbed (irfft)")
    a2.set_xlabel("time (s)")
    a2.set_ylabel("amplitude (µV)")
    a2.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def plot_band_auc(band_auc: Mapping[str, Mapping], *, title: str = "", ax=None):
    """Band ROC-AUC against the planted truth per method: mean +- SEM over subjects, subjects as dots."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.0))
    meths = list(band_auc)
    vals = [list(band_auc[m]["per_subject"].values()) for m in meths]
    colors = {"ours": "#2f855a", "easypeasi": "#b7791f", "random": "#a0aec0"}
    bar_with_sem(ax, [METHOD_LABELS.get(m, m) for m in meths], vals, colors=[colors.get(m, "grey") for m in meths],
                 ylabel="band ROC-AUC vs planted truth", chance=0.5)
    ax.set_ylim(0.3, 1.02)
    if title:
        ax.set_title(title)
    return ax.figure


def plot_lambda_sweep(table: Mapping[str, Mapping[str, float]]):
    """Paper Table 2 as a figure: KDE log-likelihood of perturbed samples (left; dashed: held-out
    original samples) and the group-level accuracy drops (right) for each lambda."""
    lams = [k for k in table if k != "original"]
    x = np.arange(len(lams))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.6, 2.9))
    a1.plot(x, [table[k]["kde"] for k in lams], "o-", color="#3182ce", label=r"perturbed $\hat{x}$")
    a1.plot(x, [table[k]["kde_perturbation"] for k in lams], "s--", color="#dd6b20", label="perturbation alone")
    if "original" in table:
        a1.axhline(table["original"]["kde"], color="k", ls=":", lw=0.9, label="held-out originals")
    a1.set_ylabel("KDE log-likelihood\n(log band power features)")
    a1.legend(fontsize=7)
    a2.plot(x, [table[k]["rs_drop"] for k in lams], "o-", color=GAME_COLORS["rs"], label="drop when salient removed (RS)")
    a2.plot(x, [table[k]["rn_drop"] for k in lams], "o-", color=GAME_COLORS["rn"], label="drop when non-salient removed (RN)")
    a2.set_ylabel("accuracy drop")
    a2.legend(fontsize=7)
    for a in (a1, a2):
        a.set_xticks(x)
        a.set_xticklabels([r"$\lambda$=" + k for k in lams], rotation=30)
    fig.tight_layout()
    return fig


def plot_ablation(table: Mapping[str, Mapping[str, float]]):
    """Paper Table 3 as a figure: RN and RS accuracy at group and instance level per variant."""
    names = list(table)
    labels = {"full": "full method", "no_l1": "no L1 terms", "one_branch": "one-branch\ngenerator", "gru": "GRU\ngenerator"}
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.9), sharey=True)
    w = 0.38
    for ax, level in zip(axes, ("group", "instance")):
        for j, game in enumerate(("rn", "rs")):
            vals = [table[n][f"{level}_{game}"] for n in names]
            bars = ax.bar(np.arange(len(names)) + (j - 0.5) * w, vals, w, color=GAME_COLORS[game], label=GAME_LABELS[game])
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=6)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([labels.get(n, n) for n in names], fontsize=7)
        ax.axhline(0.5, color="grey", ls="--", lw=0.8)
        ax.set_title(f"{level} level")
        ax.set_ylim(0, 1.12)
    axes[0].set_ylabel("accuracy")
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    fig.tight_layout()
    return fig
