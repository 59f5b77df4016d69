"""Does a dataset look like EEG? Spectral and spatial statistics to set beside a real recording.

``realism_table(data_or_X, sfreq=None, ch_names=None)`` measures, on the EEG channels:

``slope``
    Aperiodic slope: a least-squares line through log10(PSD) against log10(f) over
    2-40 Hz with 7-14 Hz left out (so the alpha/mu peak does not bend it), on the Welch
    spectrum (2 s Hann windows, 50 % overlap, capped at the segment length) averaged over
    samples and channels. Real resting/task EEG: about -1 to -2 (the aperiodic exponent
    of Donoghue et al. 2020, Nat Neurosci 23:1655, with the opposite sign).
``alpha_ratio``
    Mean over 8-12 Hz of PSD / aperiodic fit (1 = no alpha peak above the 1/f
    background; an eyes-closed occipital alpha peak gives several).
``mean_abs_corr``
    Mean absolute Pearson correlation between all pairs of EEG channels (samples
    concatenated in time). Volume conduction and the common reference make it large in
    real EEG; independent channels give about 0.
``corr_near`` / ``corr_far``
    Mean correlation of electrode pairs closer than 4 cm / farther than 10 cm (10-05
    positions), the two ends of :func:`correlation_by_distance`.

Hand-written (no library computes this table): the straight-line aperiodic fit is the
"fixed" (knee-less) aperiodic model of FOOOF/specparam fitted in log-log space by
``np.polyfit``, without the peak search (specparam is not a dependency); Welch comes
from scipy. ``slope`` higher (less negative) = flatter spectrum; nothing here is
"better" than the other: the table is read against the real reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import welch

from eegnb.data.container import EEGData
from eegnb.data.layouts import channel_positions

FIT_RANGE = (2.0, 40.0)
EXCLUDE = (7.0, 14.0)
ALPHA = (8.0, 12.0)


def _as_arrays(data_or_X, sfreq, ch_names):
    if isinstance(data_or_X, EEGData):
        d = data_or_X
        eeg = [i for i, t in enumerate(d.ch_types) if t == "eeg"]
        return d.X[:, eeg], float(d.sfreq), [d.ch_names[i] for i in eeg]
    X = np.asarray(data_or_X)
    if X.ndim != 3:
        raise ValueError(f"expected X of shape (n, ch, t) or an EEGData; got shape {X.shape}")
    if sfreq is None or ch_names is None:
        raise ValueError("sfreq and ch_names are required when X is an array")
    if len(ch_names) != X.shape[1]:
        raise ValueError(f"ch_names has {len(ch_names)} names for {X.shape[1]} channels")
    return X, float(sfreq), list(ch_names)


def psd(X: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of ``X (n, ch, t)``: ``(freqs (f,), psd (n, ch, f))`` (2 s Hann windows)."""
    nperseg = min(X.shape[-1], int(round(2 * sfreq)))
    return welch(X, sfreq, nperseg=nperseg, axis=-1)


def aperiodic_fit(freqs: np.ndarray, power: np.ndarray, fit_range=FIT_RANGE,
                  exclude=EXCLUDE) -> tuple[float, float]:
    """Slope and intercept of log10(power) ~ log10(freqs) over ``fit_range`` minus ``exclude``.

    ``power (f,)`` one spectrum. Returns ``(slope, intercept)`` (log10 units).
    """
    f = np.asarray(freqs)
    m = (f >= fit_range[0]) & (f <= fit_range[1]) & ~((f >= exclude[0]) & (f <= exclude[1]))
    if m.sum() < 3:
        raise ValueError(f"fewer than 3 frequency bins in {fit_range} Hz minus {exclude} Hz")
    slope, icpt = np.polyfit(np.log10(f[m]), np.log10(np.asarray(power)[m]), 1)
    return float(slope), float(icpt)


def spectrum_stats(freqs: np.ndarray, power: np.ndarray) -> dict:
    """``slope`` and ``alpha_ratio`` (mean 8-12 Hz PSD over the aperiodic fit) of one spectrum."""
    slope, icpt = aperiodic_fit(freqs, power)
    a = (freqs >= ALPHA[0]) & (freqs <= ALPHA[1])
    fit = 10 ** (icpt + slope * np.log10(freqs[a]))
    return {"slope": slope, "alpha_ratio": float(np.mean(power[a] / fit))}


def channel_correlation(X: np.ndarray, max_samples: int = 200) -> np.ndarray:
    """Correlation matrix ``(ch, ch)`` of ``X (n, ch, t)``, samples demeaned and concatenated."""
    x = np.asarray(X[:max_samples], dtype=np.float64)
    x = x - x.mean(-1, keepdims=True)
    return np.corrcoef(x.transpose(1, 0, 2).reshape(x.shape[1], -1))


def correlation_by_distance(data_or_X, sfreq=None, ch_names=None,
                            bins=(0.0, 0.03, 0.05, 0.07, 0.09, 0.12, 0.2)) -> pd.DataFrame:
    """Mean correlation (and mean |correlation|) of EEG channel pairs per electrode-distance bin.

    Returns one row per non-empty bin: ``distance_cm`` (bin centre), ``correlation``,
    ``abs_correlation``, ``pairs``.
    """
    X, sfreq, ch = _as_arrays(data_or_X, sfreq, ch_names)
    pos = channel_positions(ch, strict=False)
    keep = [i for i, c in enumerate(ch) if c in pos]
    if len(keep) < 3:
        return pd.DataFrame(columns=["distance_cm", "correlation", "abs_correlation", "pairs"])
    C = channel_correlation(X[:, keep])
    P = np.stack([pos[ch[i]] for i in keep])
    D = np.linalg.norm(P[:, None] - P[None], axis=-1)
    iu = np.triu_indices(len(keep), 1)
    d, c = D[iu], C[iu]
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (d > lo) & (d <= hi)
        if m.any():
            rows.append({"distance_cm": 100 * (lo + hi) / 2, "correlation": float(c[m].mean()),
                         "abs_correlation": float(np.abs(c[m]).mean()), "pairs": int(m.sum())})
    return pd.DataFrame(rows)


def realism_table(data_or_X, sfreq: float | None = None,
                  ch_names: list[str] | None = None) -> dict:
    """Realism statistics of the EEG channels of ``data_or_X`` (``EEGData`` or ``X (n, ch, t)``).

    Returns ``{"slope", "alpha_ratio", "mean_abs_corr", "corr_near", "corr_far",
    "n_channels", "n_samples"}`` (see the module docstring; ``corr_near``/``corr_far`` are NaN
    without electrode positions, e.g. for the sleep derivations).
    """
    X, sfreq, ch = _as_arrays(data_or_X, sfreq, ch_names)
    f, P = psd(X, sfreq)
    out = spectrum_stats(f, P.mean(axis=(0, 1)))
    if X.shape[1] > 1:
        C = channel_correlation(X)
        out["mean_abs_corr"] = float(np.abs(C[np.triu_indices(len(C), 1)]).mean())
    else:
        out["mean_abs_corr"] = float("nan")
    pos = channel_positions(ch, strict=False)
    keep = [i for i, c in enumerate(ch) if c in pos]
    out["corr_near"] = out["corr_far"] = float("nan")
    if len(keep) >= 3:
        C = channel_correlation(X[:, keep])
        P3 = np.stack([pos[ch[i]] for i in keep])
        D = np.linalg.norm(P3[:, None] - P3[None], axis=-1)
        iu = np.triu_indices(len(keep), 1)
        d, c = D[iu], C[iu]
        out["corr_near"] = float(c[d < 0.04].mean()) if (d < 0.04).any() else float("nan")
        out["corr_far"] = float(c[d > 0.10].mean()) if (d > 0.10).any() else float("nan")
    out["n_channels"], out["n_samples"] = len(ch), int(X.shape[0])
    return out
