"""Frequency bands shared by every frequency-domain explainer.

**One default layout.** ``frequency_mask``, ``dft_lrp`` and ``easypeasi`` all default to
:data:`DEFAULT_N_BANDS` = 10 equal-width one-sided bands from 0 Hz to Nyquist
(:func:`default_band_edges`). Why this layout: it covers every rfft bin, so a mask or a removal
game touches the whole spectrum (named EEG bands leave bins below 1 Hz and above 40-45 Hz
out, where a model may still read evidence); it is paper 2's mask length; and it is defined
for any sampling rate. Each method reports the edges it used as ``info["band_edges"]``
``(n_bands, 2)`` Hz. Paper-faithful or named layouts are one keyword away:
``bands="easypeasi"`` (the easyPEASI paper's 6 named bands, :data:`EASYPEASI_BANDS`),
``bands="eeg"`` (:data:`EEG_BANDS`), ``bands=[(lo, hi), ...]`` / a dict, or ``n_bands=k``.

Frequency maps are ``(n, ch, n_bands)``. Bins are those of ``np.fft.rfftfreq(n_times,
1/sfreq)``; a bin belongs to the band with ``lo <= f < hi`` (the last band also takes
``f == hi``); bins in no band are left out of every band.
"""

from __future__ import annotations

import numpy as np

#: Canonical EEG bands in Hz (the CRP notebooks' topomaps; easyPEASI's defaults are in
#: ``EASYPEASI_BANDS``).
EEG_BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 45.0),
}

EASYPEASI_BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 12.0),
    "low beta": (12.0, 16.0),
    "beta": (16.0, 25.0),
    "gamma": (25.0, 40.0),
}


def rfft_freqs(n_times: int, sfreq: float) -> np.ndarray:
    """One-sided FFT bin frequencies in Hz, ``(n_times // 2 + 1,)``."""
    return np.fft.rfftfreq(n_times, 1.0 / sfreq)


#: The shared default: this many equal-width bands from 0 Hz to Nyquist (module docstring).
DEFAULT_N_BANDS = 10

#: Named layouts accepted as ``bands="..."``.
NAMED_LAYOUTS = {"easypeasi": EASYPEASI_BANDS, "eeg": EEG_BANDS}


def band_edges(sfreq: float, n_bands: int | None = DEFAULT_N_BANDS, bands=None) -> np.ndarray:
    """Band edges in Hz, ``(n_bands, 2)``: equal-width from 0 to Nyquist, or ``bands`` as given.

    ``bands`` may be a list of ``(lo, hi)``, a dict name -> ``(lo, hi)`` or the name of a
    layout in :data:`NAMED_LAYOUTS` (``"easypeasi"``, ``"eeg"``); ``n_bands=None`` means
    :data:`DEFAULT_N_BANDS`.
    """
    if isinstance(bands, str):
        if bands not in NAMED_LAYOUTS:
            raise ValueError(f"bands must be one of {sorted(NAMED_LAYOUTS)}, (lo, hi) pairs or a dict; got {bands!r}")
        bands = NAMED_LAYOUTS[bands]
    if n_bands is None:
        n_bands = DEFAULT_N_BANDS
    if bands is not None:
        vals = list(bands.values()) if isinstance(bands, dict) else list(bands)
        edges = np.asarray(vals, dtype=float)
        if edges.ndim != 2 or edges.shape[1] != 2 or np.any(edges[:, 1] <= edges[:, 0]):
            raise ValueError(f"bands must be (lo_hz, hi_hz) pairs with lo < hi, got {bands!r}")
        return edges
    if n_bands < 1:
        raise ValueError(f"n_bands must be >= 1, got {n_bands}")
    e = np.linspace(0.0, sfreq / 2.0, n_bands + 1)
    return np.stack([e[:-1], e[1:]], axis=1)


def default_band_edges(sfreq: float) -> np.ndarray:
    """The shared default layout ``(DEFAULT_N_BANDS, 2)`` Hz (module docstring)."""
    return band_edges(sfreq, DEFAULT_N_BANDS)


def band_labels(edges: np.ndarray) -> list[str]:
    """Readable labels like ``'8-12 Hz'`` for ``edges (n_bands, 2)``."""
    return [f"{lo:g}-{hi:g} Hz" for lo, hi in np.round(edges, 1)]


def bin_band_index(freqs: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index of each bin ``(n_bins,)``; -1 where a bin is in no band."""
    idx = np.full(len(freqs), -1, dtype=int)
    for b, (lo, hi) in enumerate(edges):
        last = b == len(edges) - 1
        sel = (freqs >= lo) & ((freqs <= hi) if last else (freqs < hi))
        idx[sel & (idx < 0)] = b
    return idx


def aggregate_bins(values: np.ndarray, freqs: np.ndarray, edges: np.ndarray, reduce: str = "sum") -> np.ndarray:
    """Reduce the last axis ``(..., n_bins)`` to bands ``(..., n_bands)`` by ``sum``/``mean``/``max``."""
    idx = bin_band_index(freqs, edges)
    out = np.zeros(values.shape[:-1] + (len(edges),), dtype=np.float64)
    fn = {"sum": np.sum, "mean": np.mean, "max": np.max}[reduce]
    for b in range(len(edges)):
        sel = idx == b
        if sel.any():
            out[..., b] = fn(values[..., sel], axis=-1)
    return out


def band_truth(truth_freq: np.ndarray, sfreq: float, n_times: int, edges: np.ndarray) -> np.ndarray:
    """Band truth ``(ch, n_bands)`` in [0, 1] from ``truth_freq (ch, n_times//2+1)``: the max over each band's bins."""
    return aggregate_bins(np.asarray(truth_freq, float), rfft_freqs(n_times, sfreq), edges, "max")
