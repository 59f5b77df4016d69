"""Generic figures: channel x time/band maps and bars with standard errors (matplotlib/seaborn)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_map(
    m: np.ndarray,
    *,
    ax=None,
    ch_names: Sequence[str] | None = None,
    sfreq: float | None = None,
    x_labels: Sequence[str] | None = None,
    title: str = "",
    signed: bool = False,
    cmap: str | None = None,
    colorbar: bool = True,
    cbar_label: str = "importance",
    max_ticks: int = 16,
):
    """Image of one map ``(ch, t)`` or ``(ch, n_bands)``; time axis in s when ``sfreq`` is given.

    Signed maps use a diverging colormap centred on zero.
    """
    m = np.asarray(m, float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if signed:
        v = np.nanmax(np.abs(m)) or 1.0
        im = ax.imshow(m, aspect="auto", cmap=cmap or "RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
    else:
        im = ax.imshow(m, aspect="auto", cmap=cmap or "viridis", interpolation="nearest")
    n_ch, n_x = m.shape
    if ch_names is not None:
        step = max(1, int(np.ceil(n_ch / max_ticks)))
        ax.set_yticks(range(0, n_ch, step))
        ax.set_yticklabels([ch_names[i] for i in range(0, n_ch, step)], fontsize=7)
    ax.set_ylabel("channel")
    if x_labels is not None:
        ax.set_xticks(range(n_x))
        ax.set_xticklabels(x_labels, rotation=45, ha="right", fontsize=7)
        ax.set_xlabel("frequency band")
    elif sfreq is not None:
        ticks = np.linspace(0, n_x - 1, 5)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t / sfreq:.1f}" for t in ticks])
        ax.set_xlabel("time (s)")
    else:
        ax.set_xlabel("sample")
    if title:
        ax.set_title(title)
    if colorbar:
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label=cbar_label)
    return ax


def plot_maps(maps: Sequence[np.ndarray], titles: Sequence[str], *, ncols: int | None = None, **kw):
    """A row (or grid) of :func:`plot_map` panels; returns the figure."""
    n = len(maps)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows), squeeze=False)
    for ax, m, t in zip(axes.ravel(), maps, titles):
        plot_map(m, ax=ax, title=t, **kw)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def bar_with_sem(ax, labels: Sequence[str], values: Sequence[Sequence[float]], *, colors=None, ylabel: str = "", chance: float | None = None):
    """Bars of the mean with standard-error whiskers and the individual values as dots.

    ``values[i]`` holds the per-subject (or per-fold) values of bar ``i``.
    """
    means = [np.nanmean(v) for v in values]
    sems = [np.nanstd(v, ddof=1) / np.sqrt(np.sum(np.isfinite(v))) if np.sum(np.isfinite(v)) > 1 else 0.0 for v in values]
    x = np.arange(len(labels))
    ax.bar(x, means, yerr=sems, color=colors, capsize=3, alpha=0.85)
    for i, v in enumerate(values):
        v = np.asarray(v, float)
        ax.scatter(np.full(len(v), x[i]) + np.linspace(-0.15, 0.15, len(v)), v, s=8, color="k", zorder=3)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=30, ha="right")
    if chance is not None:
        ax.axhline(chance, color="grey", ls="--", lw=0.8)
    ax.set_ylabel(ylabel)
    return ax
