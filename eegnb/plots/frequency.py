"""Figures of paper 2 (Wang et al., frequency-domain mask perturbation), matplotlib/MNE.

- :func:`plot_band_maps`: channel x band saliency maps side by side (paper Figs. 5, 6, 10),
  one shared colour scale per method, planted channels/bands outlined when given.
- :func:`plot_band_topomaps`: scalp maps of a channel x band map for a few bands (MNE).
- :func:`plot_removal`: accuracies Ori / RN / RS per model and method (paper Figs. 7, 8, 9).
- :func:`plot_spectrum_walkthrough`: one sample through the method: spectrum, learned mask,
  perturbation, perturbed spectrum and signal (notebook 20).
- :func:`plot_band_auc`: band ROC-AUC against the planted truth, mean and 95 % CI over subjects,
  y from 0 with the chance line.
- :func:`plot_easypeasi_variants`: band AUC of easyPEASI's noise x score variants with the
  mask, random and oracle controls (``figures/20-easypeasi-variants``).
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

GAME_COLORS = {"ori": "#4a5568", "rn": "#3182ce", "rs": "#e53e3e"}
GAME_LABELS = {"ori": "Ori", "rn": "RN (non-salient removed)", "rs": "RS (salient removed)"}
METHOD_LABELS = {"ours": "frequency mask (ours)", "easypeasi": "easyPEASI", "random": "random maps",
                 "oracle": "oracle (planted truth)"}
SHORT_LABELS = {"ours": "mask (ours)", "easypeasi": "easyPEASI", "random": "random", "oracle": "oracle"}
SCORE_LABELS = {"prob": "signed prob. drop", "abs": "|prob. drop|", "logit": "log-odds drop", "accuracy": "accuracy drop"}
METHOD_COLORS = {"ours": "#2f855a", "easypeasi": "#b7791f", "random": "#a0aec0", "oracle": "#2d3748"}


def method_label(m: str, short: bool = False) -> str:
    """Readable name of a method key, including easyPEASI variants ``easypeasi_<noise>_<score>``."""
    if m.startswith("easypeasi_"):
        _, noise, score = m.split("_", 2)
        if short:
            return f"easyPEASI\n{noise} noise\n{SCORE_LABELS.get(score, score)}"
        return f"easyPEASI {noise} noise, {SCORE_LABELS.get(score, score)}"
    return (SHORT_LABELS if short else METHOD_LABELS).get(m, m)


def method_color(m: str) -> str:
    if m.startswith("easypeasi_"):
        return {"sample": "#d69e2e", "dataset": "#9c4221"}.get(m.split("_")[1], "#b7791f")
    return METHOD_COLORS.get(m, "grey")
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
    n_m = max(len([m for m in methods if m in acc[k]]) for k in models)
    fig, axes = plt.subplots(1, len(models), figsize=((0.95 * n_m + 0.8) * len(models) + 1.8, 3.4), squeeze=False, sharey=True)
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
        ax.set_xticklabels([method_label(m, short=True) for m in meths], fontsize=6, rotation=30, ha="right")
        ax.axhline(chance, color="grey", ls="--", lw=0.8, label="chance")
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


def plot_band_auc(band_auc: Mapping[str, Mapping], *, title: str = "", ax=None, methods: Sequence[str] | None = None):
    """Band ROC-AUC against the planted truth per method: mean with a 95 % t-interval over
    subjects (whiskers), subjects as dots, chance (0.5) dashed. The y-axis runs from 0 to 1, so
    no bar is hidden. Subjects left out for too few samples are counted in the x labels."""
    from eegnb.stats import mean_ci

    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.0))
    meths = [m for m in (methods or list(band_auc)) if m in band_auc]
    vals = [np.asarray(list(band_auc[m]["per_subject"].values()), float) for m in meths]
    cis = [mean_ci(v, unit_name="subject") for v in vals]
    x = np.arange(len(meths))
    means = np.array([c["mean"] for c in cis])
    err = np.array([[c["mean"] - c["lo"], c["hi"] - c["mean"]] if np.isfinite(c["lo"]) else [0, 0] for c in cis]).T
    ax.bar(x, means, yerr=err, color=[method_color(m) for m in meths], capsize=3, alpha=0.85)
    for i, v in enumerate(vals):
        ax.scatter(np.full(len(v), x[i]) + np.linspace(-0.15, 0.15, len(v)), v, s=8, color="k", zorder=3)
    ex = band_auc[meths[0]].get("excluded") or {} if meths else {}
    ax.set_xticks(x)
    ax.set_xticklabels([method_label(m, short=True) for m in meths], rotation=90, fontsize=6)
    ax.axhline(0.5, color="grey", ls="--", lw=0.8, label="chance (0.5)")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("band ROC-AUC vs planted truth\n(mean, 95% CI over subjects)")
    ax.legend(fontsize=6, loc="lower right")
    n_kept = len(vals[0]) if vals else 0
    note = f"{n_kept} subjects" + (f", {len(ex)} left out (too few segments)" if ex else "")
    ax.set_title(f"{title}\n({note})" if title else f"({note})", fontsize=8)
    return ax.figure


def plot_easypeasi_variants(results: Mapping[str, Mapping[str, Mapping]], *, noises=("sample", "dataset"),
                            scores=("prob", "abs", "logit")):
    """``figures/20-easypeasi-variants``: per model (panel), band ROC-AUC of easyPEASI's noise x
    score variants beside the mask, random and oracle (mean, 95 % CI over subjects, dots =
    subjects). ``results[model] = band_auc`` dict of :func:`run_model`."""
    models = list(results)
    fig, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models) + 0.6, 4.6), squeeze=False, sharey=True)
    order = ["random", "ours"] + [f"easypeasi_{n}_{s}" for n in noises for s in scores] + ["oracle"]
    for ax, mname in zip(axes[0], models):
        plot_band_auc(results[mname], title=MODEL_LABELS.get(mname, mname), ax=ax, methods=order)
    fig.tight_layout()
    return fig


def plot_lambda_sweep(table: Mapping[str, Mapping]):
    """Paper Table 2 as a figure, one line per alignment variant: KDE log-likelihood of the
    perturbed samples (left; dotted: held-out original samples) and the group-level accuracy
    drop when the salient half is removed (right; RN dashed), against lambda."""
    aligns = [k for k in table if k != "original"]
    lams = sorted({lam for a in aligns for lam in table[a]}, key=float, reverse=True)
    x = np.arange(len(lams))
    colors = {"complex": "#3182ce", "magnitude": "#805ad5", "logpower": "#dd6b20"}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.2, 3.1))
    for al in aligns:
        c = colors.get(al, "grey")
        a1.plot(x, [table[al].get(k, {}).get("kde", np.nan) for k in lams], "o-", color=c, label=f"perturbed $\\hat{{x}}$, {al} alignment")
        a2.plot(x, [table[al].get(k, {}).get("rs_drop", np.nan) for k in lams], "o-", color=c, label=f"RS drop, {al}")
        a2.plot(x, [table[al].get(k, {}).get("rn_drop", np.nan) for k in lams], "s--", color=c, alpha=0.6, label=f"RN drop, {al}")
    if "original" in table:
        a1.axhline(table["original"]["kde"], color="k", ls=":", lw=0.9, label="held-out originals")
    a1.set_ylabel("KDE log-likelihood\n(log band power features)")
    a1.legend(fontsize=6, loc="center left")
    a2.set_ylabel("group-level accuracy drop")
    a2.legend(fontsize=6)
    for a in (a1, a2):
        a.set_xticks(x)
        a.set_xticklabels([f"{k}" for k in lams])
        a.set_xlabel(r"alignment weight $\lambda$")
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
