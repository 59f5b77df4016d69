"""Figures and realism checks of a dataset (simulated or real), used by ``notebooks/02_data``.

``plot_overview`` (raw traces per class, class-averaged spectra at planted vs other
channels, the truth in time and frequency), ``plot_truth_topomaps`` (where evidence was
planted, with ``mne.viz.plot_topomap``), ``plot_hypnogram`` and ``plot_sleep_stages`` for
the sleep layout, ``spatial_correlation`` and ``subject_separability`` (is the background
spatially smooth, do subjects form clusters).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.signal import welch

from eegnb.data.container import EEGData
from eegnb.data.layouts import SLEEP_STAGES, channel_positions

CLASS_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def nice_scale(value: float) -> float:
    """The 1-2-5 number (…, 10, 20, 50, 100, …) nearest below ``value`` (> 0): a scale bar's length."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    e = 10.0 ** np.floor(np.log10(value))
    return float(max(m for m in (1, 2, 5, 10) if m * e <= value) * e)


def plot_traces(x: np.ndarray, sfreq: float, ch_names, *, ax=None, unit: str = "µV",
                truth: np.ndarray | None = None, truth_threshold: float = 0.5, title: str = "",
                spacing: float | None = None):
    """Stacked traces of one sample ``x (ch, t)`` with the channel names on the y axis, time in s
    and a vertical amplitude scale bar labelled in ``unit`` (the traces share one scale).

    ``truth (ch, t)`` shades in gold where it reaches ``truth_threshold`` (the metrics'
    positives; the graded lead-field truth is a little above 0 on every channel). ``spacing`` (in ``unit``) between traces
    defaults to 4 x the median channel standard deviation; the bar is the 1-2-5 number below it.
    """
    x = np.asarray(x, float)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.6 * len(x) + 1.2))
    t = np.arange(x.shape[-1]) / sfreq
    spacing = float(spacing or 4 * np.median(x.std(-1)) or 1.0)
    shaded = False
    for k, row in enumerate(x):
        ax.plot(t, row - k * spacing, lw=0.7, color="k")
        if truth is not None and np.asarray(truth)[k].max() >= truth_threshold:
            ax.fill_between(t, -k * spacing - spacing / 2, -k * spacing + spacing / 2,
                            where=np.asarray(truth)[k] >= truth_threshold, color="gold", alpha=0.35, lw=0,
                            label=None if shaded else f"planted evidence (truth >= {truth_threshold:g})")
            shaded = True
    ax.set_yticks(-np.arange(len(x)) * spacing)
    ax.set_yticklabels(list(ch_names)[: len(x)])
    bar = nice_scale(spacing)
    x0 = t[-1] + (t[-1] - t[0]) * 0.015
    y0 = -(len(x) - 1) * spacing - spacing / 2
    ax.plot([x0, x0], [y0, y0 + bar], color="k", lw=2.5, clip_on=False, solid_capstyle="butt")
    ax.text(x0 + (t[-1] - t[0]) * 0.01, y0 + bar / 2, f"{bar:g} {unit}", va="center", ha="left", fontsize=8,
            clip_on=False)
    ax.set_xlim(t[0], t[-1])
    ax.set(xlabel="time (s)", title=title or f"traces (scale bar {bar:g} {unit})")
    if shaded:
        ax.legend(loc="upper left", fontsize=7, framealpha=0.8)
    return ax


def planted_channels(data: EEGData, reference: list[str] | None = None) -> list[str]:
    """Channels carrying planted evidence (``truth`` > 0 anywhere), else ``reference``."""
    if data.truth is not None:
        w = data.truth.mean(axis=(0, 2))
        return [data.ch_names[i] for i in np.argsort(-w, kind="stable") if w[i] > 0]
    return [c for c in (reference or []) if c in data.ch_names]


def _far_channels(data: EEGData, planted: list[str], k: int) -> list[str]:
    pos = channel_positions(data.ch_names, strict=False)
    others = [c for c in data.ch_names if c not in planted and c in pos]
    if not planted or not others:
        return others[:k]
    P = np.stack([pos[c] for c in planted if c in pos])
    d = [np.min(np.linalg.norm(P - pos[c], axis=1)) for c in others]
    return [others[i] for i in np.argsort(d)[::-1][:k]]


def class_spectra(data: EEGData, channels: list[str], nperseg: int | None = None,
                  window: tuple[float, float] | None = None):
    """Welch spectra averaged over ``channels`` per class: ``(freqs (f,), psd (n_classes, f))``.

    ``window`` (s) restricts the spectra to part of each sample (e.g. the ERD window).
    """
    ix = [data.ch_names.index(c) for c in channels]
    x = data.X[:, ix]
    if window is not None:
        x = x[..., int(window[0] * data.sfreq): int(window[1] * data.sfreq)]
    nperseg = min(nperseg or int(2 * data.sfreq), x.shape[-1])
    f, P = welch(x, data.sfreq, nperseg=nperseg, axis=-1)
    P = P.mean(axis=1)
    return f, np.stack([P[data.y == k].mean(0) if (data.y == k).any() else np.full(len(f), np.nan)
                        for k in range(data.n_classes)])


def plot_overview(data: EEGData, *, reference_channels: list[str] | None = None,
                  groups: dict[str, list[str]] | None = None,
                  window: tuple[float, float] | None = None,
                  n_traces: int = 3, fmax: float = 50.0, seed: int = 0, title: str = ""):
    """Four panels: traces of one sample per class (planted + far channels, truth shaded),
    class-averaged spectra at planted vs far channels (or at each of ``groups``, within
    ``window`` s), ``truth`` of one sample (ch x t) and ``truth_freq`` (ch x Hz). Real data
    (no truth) show the first two panels with the ``reference_channels`` (e.g. where the
    simulation plants evidence)."""
    from eegnb.plots import plot_map

    planted = planted_channels(data, reference_channels)
    far = _far_channels(data, planted, n_traces)
    show = planted[:n_traces] + far[: max(1, n_traces - 1)]
    rng = np.random.default_rng(seed)
    has_truth = data.truth is not None
    fig, axes = plt.subplots(2 if has_truth else 1, 2, figsize=(12, 7.5 if has_truth else 3.8),
                             squeeze=False)
    t = np.arange(data.n_times) / data.sfreq
    ax = axes[0, 0]
    ix = [data.ch_names.index(c) for c in show]
    spread = 4 * np.median(data.X[:, ix].std(-1))
    offset = 0.0
    ticks, labels = [], []
    for k in range(min(data.n_classes, 2)):
        cand = np.flatnonzero(data.y == k)
        if not len(cand):
            continue
        i = int(rng.choice(cand))
        for c in ix:
            ax.plot(t, data.X[i, c] - offset, color=CLASS_COLORS[k], lw=0.6)
            if has_truth and data.truth[i, c].max() > 0:
                ax.fill_between(t, -offset - spread / 2, -offset + spread / 2,
                                where=data.truth[i, c] > 0, color="gold", alpha=0.3, lw=0)
            ticks.append(-offset)
            labels.append(f"{data.ch_names[c]} ({data.class_names[k]})")
            offset += spread
        offset += spread / 2
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=7)
    unit = data.info.get("unit", "uV").replace("uV", "µV")
    ax.set(xlabel="time (s)", title=f"one sample per class (scale bar {spread:.0f} {unit};"
           + (" gold: truth > 0)" if has_truth else ")"))
    ax.plot([t[-1] * 1.01] * 2, [0, -spread], color="k", lw=2, clip_on=False)

    ax = axes[0, 1]
    groups = groups or {"planted": planted, "far": far}
    styles = ["-", "--", ":", "-."]
    for (gname, group), ls in zip(groups.items(), styles):
        group = [c for c in group if c in data.ch_names]
        if not group:
            continue
        f, P = class_spectra(data, group, window=window)
        keep = f <= fmax
        for k in range(data.n_classes):
            ax.semilogy(f[keep], P[k, keep], ls, color=CLASS_COLORS[k % 5], lw=1.2,
                        label=f"{data.class_names[k]}, {gname}")
    where = " / ".join(f"{g} ({s})" for g, s in zip(groups, styles))
    win = f", {window[0]:g}-{window[1]:g} s" if window else ""
    ax.set(xlabel="frequency (Hz)", ylabel=f"PSD ({unit}²/Hz)",
           title=f"class-averaged spectra{win}: {where}")
    ax.legend(fontsize=7, ncol=2)
    if has_truth:
        # rows: the planted channels and a few far ones (every other channel is all zero)
        rows = sorted(data.ch_names.index(c) for c in planted + far[:3])
        names = [data.ch_names[r] for r in rows]
        n_other = data.n_chans - len(rows)
        note = f" ({n_other} other channels: 0)" if n_other else ""
        i = int(np.argmax(data.truth.sum(axis=(1, 2))))
        plot_map(data.truth[i][rows], ax=axes[1, 0], ch_names=names, sfreq=data.sfreq,
                 title=f"truth of sample {i} ({data.class_names[data.y[i]]}){note}",
                 cbar_label="planted amplitude (0-1)", cmap="magma", max_ticks=len(rows))
        ax = axes[1, 1]
        f = data.freqs
        keep = f <= fmax
        im = ax.imshow(data.truth_freq[rows][:, keep], aspect="auto", cmap="magma", vmin=0,
                       vmax=1, extent=[f[0], f[keep][-1], len(rows) - 0.5, -0.5],
                       interpolation="nearest")
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(names, fontsize=7)
        ax.set(xlabel="frequency (Hz)", ylabel="channel",
               title=f"truth_freq (channel x FFT bin){note}")
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="planted (0-1)")
    fig.suptitle(title or repr(data), fontsize=10)
    fig.tight_layout()
    return fig


def plot_truth_topomaps(datasets: dict[str, EEGData]):
    """One topomap per dataset: mean ``truth`` per channel (where evidence was planted); white
    dots: channels whose truth reaches 0.5 (the positives of the metrics)."""
    import mne

    from eegnb.data.layouts import make_montage

    eeg = {k: d for k, d in datasets.items() if d.truth is not None and "eeg" in d.ch_types
           and make_montage(d.ch_names) is not None and d.n_chans > 3}
    fig, axes = plt.subplots(1, len(eeg), figsize=(3.2 * len(eeg), 3.4), squeeze=False)
    for ax, (name, d) in zip(axes[0], eeg.items()):
        info = mne.create_info(d.ch_names, d.sfreq, "eeg")
        info.set_montage(make_montage(d.ch_names), on_missing="ignore", verbose="error")
        val = d.truth.mean(axis=(0, 2))
        val = val / (val.max() or 1.0)
        planted = d.truth.max(axis=(0, 2)) >= 0.5  # the metrics' positives
        im, _ = mne.viz.plot_topomap(
            val, info, axes=ax, show=False, cmap="magma", vlim=(0, 1), sensors=True,
            mask=planted, mask_params=dict(marker="o", markerfacecolor="w", markersize=5),
            contours=0)
        ax.set_title(name, fontsize=10)
    fig.colorbar(im, ax=list(axes[0]), fraction=0.02, pad=0.02,
                 label="mean truth (relative)")
    return fig


def plot_hypnogram(data: EEGData, recording=None, ax=None):
    """Stages of one night against time (h): the whole night when ``info["hypnograms"]``
    has it (simulated data), with the epochs present in ``data`` as dots."""
    rec = recording if recording is not None else data.meta["recording"].iloc[0]
    m = data.meta[data.meta["recording"] == rec]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.6))
    order = {"W": 4, "REM": 3, "N1": 2, "N2": 1, "N3": 0}
    full = data.info.get("hypnograms", {}).get(rec)
    if full is not None:
        lv = np.array([order[SLEEP_STAGES[i]] for i in full])
        ax.step(np.arange(len(full)) * 30 / 3600, lv, where="post", color="0.4", lw=0.8)
    else:
        ax.step(m["onset"] / 3600, m["stage"].map(order), where="post", color="0.4", lw=0.8)
    ax.scatter(m["onset"] / 3600, m["stage"].map(order),
               c=[CLASS_COLORS[SLEEP_STAGES.index(s)] for s in m["stage"]], s=12, zorder=3)
    ax.set_yticks(list(order.values()))
    ax.set_yticklabels(list(order))
    n_full = f" of {len(full)}" if full is not None else ""
    ax.set(xlabel="time since lights off (h)",
           title=f"hypnogram of {rec} (dots: the {len(m)}{n_full} epochs in the data)")
    return ax


def plot_sleep_stages(data: EEGData, seed: int = 0, seconds: float = 30.0):
    """One epoch per stage (rows) for EEG, EOG and EMG (columns); truth shaded in gold."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(data.n_classes, data.n_chans, figsize=(13, 1.5 * data.n_classes),
                             sharex=True, squeeze=False)
    n = int(seconds * data.sfreq)
    t = np.arange(n) / data.sfreq
    unit = data.info.get("unit", "uV").replace("uV", "µV")
    for k, stage in enumerate(data.class_names):
        cand = np.flatnonzero(data.y == k)
        if not len(cand):
            continue
        i = int(rng.choice(cand))
        for c in range(data.n_chans):
            ax = axes[k, c]
            ax.plot(t, data.X[i, c, :n], lw=0.5, color=CLASS_COLORS[k])
            if data.truth is not None and data.truth[i, c, :n].max() > 0:
                lim = np.abs(data.X[i, c, :n]).max()
                ax.fill_between(t, -lim, lim, where=data.truth[i, c, :n] > 0, color="gold",
                                alpha=0.35, lw=0)
            if k == 0:
                ax.set_title(f"{data.ch_names[c]} ({data.ch_types[c]})")
            if c == 0:
                ax.set_ylabel(f"{stage}\n({unit})")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def spatial_correlation(data: EEGData, bins=(0.0, 0.03, 0.05, 0.07, 0.09, 0.12, 0.2)):
    """Mean between-channel correlation per electrode-distance bin (m) of the EEG channels
    (:func:`eegnb.data.realism.correlation_by_distance` on the first 200 samples)."""
    from eegnb.data.realism import correlation_by_distance

    return correlation_by_distance(data, bins=bins)[["distance_cm", "correlation", "pairs"]]


def subject_features(data: EEGData) -> np.ndarray:
    """Per-sample log band power (delta..gamma) of every channel: ``(n, ch * 5)``."""
    f, P = welch(data.X, data.sfreq, nperseg=min(data.n_times, int(data.sfreq)), axis=-1)
    bands = [(1, 4), (4, 8), (8, 13), (13, 30), (30, 45)]
    feats = [np.log(P[..., (f >= lo) & (f < hi)].mean(-1) + 1e-12) for lo, hi in bands]
    return np.concatenate(feats, axis=1)


def subject_separability(data: EEGData) -> float:
    """Silhouette score of :func:`subject_features` grouped by subject (1 = tight clusters)."""
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    if len(data.subjects) < 2:
        return float("nan")
    return float(silhouette_score(StandardScaler().fit_transform(subject_features(data)),
                                  data.subject))


def plot_realism(datasets: dict[str, EEGData], *, clusters: str = "seed",
                 reference: dict[str, EEGData] | None = None, reference_note: str = "", fmax: float = 45.0):
    """Three realism checks side by side (notebook 02): mean correlation against electrode
    distance and the grand-mean spectrum (all EEG channels and samples, Welch, µV²/Hz) of each
    scalp layout in ``datasets``, each beside the real recordings in ``reference`` (black; e.g.
    ``{"EEGBCI S001 (real)": real}``), and the samples of ``datasets[clusters]`` in the first two
    principal components of their log band power, one colour per subject (legend).

    Without a reference the figure says so (``reference_note``, e.g. where it was looked for).
    """
    from sklearn.decomposition import PCA

    from eegnb.data.realism import aperiodic_fit, psd

    reference = reference or {}
    scalp = {k: d for k, d in datasets.items() if k != "sleep-edf"}  # sleep: no scalp distances
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    series = [(f"simulated {k}", d, dict(color=f"C{i}", ls="-")) for i, (k, d) in enumerate(scalp.items())]
    series += [(k, d, dict(color="k", ls="--", lw=2)) for k, d in reference.items()]
    for name, d, style in series:
        sc = spatial_correlation(d)
        axes[0].plot(sc["distance_cm"], sc["correlation"], marker="o", ms=4, label=name, **style)
        eeg = [j for j, t in enumerate(d.ch_types) if t == "eeg"]
        f, P = psd(d.X[:, eeg], d.sfreq)
        Pm = P.mean(axis=(0, 1))
        slope, _ = aperiodic_fit(f, Pm)
        keep = (f >= 1) & (f <= fmax)
        axes[1].loglog(f[keep], Pm[keep], label=f"{name} (slope {slope:.2f})", **style)
    axes[0].axhline(0, color="0.6", lw=0.6)
    axes[0].set(xlabel="electrode distance (cm)", ylabel="mean correlation", title="spatial correlation")
    unit = next(iter(scalp.values())).info.get("unit", "uV").replace("uV", "µV") if scalp else "µV"
    axes[1].set(xlabel="frequency (Hz)", ylabel=f"PSD ({unit}²/Hz)",
                title="grand-mean spectrum (slope: aperiodic fit, 2-40 Hz)")
    ticks = [t for t in (1, 2, 5, 10, 20, 40) if t <= fmax]
    axes[1].set_xticks(ticks, [f"{t:g}" for t in ticks])
    axes[1].minorticks_off()
    for ax in axes[:2]:
        ax.legend(fontsize=7)
    if not reference:
        for ax in axes[:2]:
            ax.text(0.02, 0.02, "no real reference" + (f": {reference_note}" if reference_note else ""),
                    transform=ax.transAxes, fontsize=7, color="0.3", va="bottom")
    d = datasets[clusters]
    emb = PCA(2).fit_transform(subject_features(d))
    for i, s in enumerate(d.subjects):
        m = d.subject == s
        axes[2].scatter(emb[m, 0], emb[m, 1], s=6, color=plt.get_cmap("tab10")(i % 10), label=f"subject {s}")
    axes[2].set(xlabel="PC 1", ylabel="PC 2",
                title=f"simulated {clusters.upper()} by subject (log band power, PCA)")
    axes[2].legend(fontsize=7, markerscale=2, ncol=2 if len(d.subjects) > 6 else 1)
    ref_txt = ("real reference (black, dashed): " + ", ".join(reference)) if reference else \
        "no real reference" + (f" ({reference_note})" if reference_note else "")
    fig.suptitle(f"Does the simulation look like EEG? {ref_txt}", fontsize=10)
    fig.tight_layout()
    return fig


def channel_contrast(data: EEGData, bands=((1, 4), (4, 8), (8, 13), (13, 30), (30, 45))):
    """Class contrast of log band power per channel x band (largest class pair):
    ``(d (ch, band) |Cohen's d|, gap (ch, band) |difference of class means| in log power
    (natural log), bands)``."""
    f, P = welch(data.X, data.sfreq, nperseg=min(data.n_times, int(data.sfreq)), axis=-1)
    bands = [(lo, hi) for lo, hi in bands if lo < data.sfreq / 2]
    L = np.stack([np.log(P[..., (f >= lo) & (f < hi)].mean(-1) + 1e-12) for lo, hi in bands],
                 axis=-1)  # (n, ch, band)
    d = np.zeros(L.shape[1:])
    gap = np.zeros(L.shape[1:])
    for a in range(data.n_classes):
        for b in range(a + 1, data.n_classes):
            xa, xb = L[data.y == a], L[data.y == b]
            if len(xa) < 2 or len(xb) < 2:
                continue
            sd = np.sqrt((xa.var(0, ddof=1) + xb.var(0, ddof=1)) / 2) + 1e-12
            g = np.abs(xa.mean(0) - xb.mean(0))
            d = np.maximum(d, g / sd)
            gap = np.maximum(gap, g)
    return d, gap, bands


def evidence_contrast(data: EEGData, bands=((1, 4), (4, 8), (8, 13), (13, 30), (30, 45)),
                      weak: float = 0.05):
    """Largest class contrast of log band power on planted vs other channels.

    For every channel x band, the absolute standardised difference (Cohen's d, or for
    more than two classes the largest pairwise one) of log band power between classes, and
    the absolute difference of the class means in log power (``gap``; :func:`channel_contrast`).
    Returns a one-row-per-group DataFrame with ``max_abs_d``, ``median_abs_d``, ``max_abs_gap``
    and the channel x band of the largest d: ``planted`` = channels whose truth reaches 0.5
    somewhere (the metrics' positives), ``other`` = channels whose truth stays below ``weak``
    (with a lead field every channel gets some of the evidence: "other" is where its amplitude
    is under ``sqrt(weak)`` ≈ 22 % of the peak). The gap (an effect in log power) follows the
    planted power; d saturates when the evidence is strong, because it divides by a small
    spread. A gap much larger on ``planted`` than on ``other`` says the evidence is where the
    truth says.
    """
    d, gap, bands = channel_contrast(data, bands)
    w = data.truth.max(axis=(0, 2))
    rows = []
    for name, sel in (("planted", w >= 0.5), ("other", w < weak)):
        if not sel.any():
            continue
        sub = d[sel]
        i, j = np.unravel_index(np.argmax(sub), sub.shape)
        rows.append({"channels": name, "n_channels": int(sel.sum()),
                     "max_abs_d": float(sub.max()), "median_abs_d": float(np.median(sub)),
                     "max_abs_gap": float(gap[sel].max()),
                     "argmax": f"{np.array(data.ch_names)[sel][i]} {bands[j][0]}-{bands[j][1]} Hz"})
    return pd.DataFrame(rows).set_index("channels")


def realism_comparison(datasets: dict[str, EEGData]) -> pd.DataFrame:
    """:func:`eegnb.data.realism.realism_table` of each dataset, one row per name."""
    from eegnb.data.realism import realism_table

    return pd.DataFrame({k: realism_table(d) for k, d in datasets.items()}).T


def plot_spectrum_fit(datasets: dict[str, EEGData], ax=None, fmax: float = 45.0):
    """Grand-mean Welch spectrum (all EEG channels and samples) of each dataset, with its
    aperiodic fit (2-40 Hz without 7-14 Hz, dashed; :mod:`eegnb.data.realism`)."""
    from eegnb.data.realism import ALPHA, EXCLUDE, FIT_RANGE, aperiodic_fit, psd

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    for i, (name, d) in enumerate(datasets.items()):
        eeg = [j for j, t in enumerate(d.ch_types) if t == "eeg"]
        f, P = psd(d.X[:, eeg], d.sfreq)
        Pm = P.mean(axis=(0, 1))
        slope, icpt = aperiodic_fit(f, Pm)
        keep = (f >= 1) & (f <= fmax)
        ax.loglog(f[keep], Pm[keep], color=f"C{i}", lw=1.3, label=f"{name} (slope {slope:.2f})")
        fit = (f >= FIT_RANGE[0]) & (f <= FIT_RANGE[1])
        ax.loglog(f[fit], 10 ** (icpt + slope * np.log10(f[fit])), "--", color=f"C{i}", lw=0.9)
    ax.axvspan(*EXCLUDE, color="0.92", zorder=0,
               label=f"left out of the fit ({EXCLUDE[0]:g}-{EXCLUDE[1]:g} Hz)")
    ax.axvspan(*ALPHA, color="0.82", zorder=0, label=f"alpha ratio band ({ALPHA[0]:g}-{ALPHA[1]:g} Hz)")
    ax.set(xlabel="frequency (Hz)", ylabel="PSD (µV²/Hz)",
           title="grand-mean spectrum (dashed: aperiodic fit)")
    ax.legend(fontsize=7)
    return ax


def plot_correlation_distance(datasets: dict[str, EEGData], ax=None):
    """Mean correlation between EEG channel pairs against electrode distance, per dataset."""
    from eegnb.data.realism import correlation_by_distance

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    for i, (name, d) in enumerate(datasets.items()):
        sc = correlation_by_distance(d)
        ax.plot(sc["distance_cm"], sc["correlation"], "o-", color=f"C{i}", label=name)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set(xlabel="electrode distance (cm)", ylabel="mean correlation", ylim=(-0.5, 1.02),
           title="inter-channel correlation vs distance")
    ax.legend(fontsize=7)
    return ax


def plot_realism_pair(datasets: dict[str, EEGData], title: str = ""):
    """Spectrum with aperiodic fit (left) and correlation vs distance (right) of the datasets
    side by side (e.g. a real reference and the simulation)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    plot_spectrum_fit(datasets, ax=axes[0])
    plot_correlation_distance(datasets, ax=axes[1])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
