"""Deletion curves and faithfulness areas (eegnb.metrics.faithfulness) on hand-built models.

Quantus' RegionPerturbation / PixelFlipping perturb image patches of ``(n, c, h, w)`` inputs
and order ties by sort position, so they cannot score channel / time-step / rfft-band removal
with whole tie groups; the curves are checked against hand-computed values instead.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain.bands import band_edges, rfft_freqs
from eegnb.explain.context_mask import context_perturbation
from eegnb.metrics.faithfulness import deletion_curve, element_scores, faithfulness_area
from eegnb.metrics.removal import removal_accuracy

N, C, T = 16, 6, 32


class ReadChannel0(torch.nn.Module):
    """Logit = 3 x mean of channel 0 (class 1 positive); blind to every other channel."""

    def forward(self, x):
        z = 3.0 * x[:, 0].mean(-1)
        return torch.stack([-z, z], 1)


class ReadEarlyTime(torch.nn.Module):
    """Logit = 3 x mean over channels of the first 8 time steps."""

    def forward(self, x):
        z = 3.0 * x[:, :, :8].mean((1, 2))
        return torch.stack([-z, z], 1)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(N) % 2
    X = 0.3 * rng.standard_normal((N, C, T)).astype(np.float32)
    X += (2 * y[:, None, None] - 1).astype(np.float32)  # every channel/time step carries the class
    return X, y


def close(actual, desired, atol=1e-6):
    """assert_allclose with broadcasting of ``desired`` (numpy 2.4 no longer broadcasts)."""
    actual = np.asarray(actual)
    np.testing.assert_allclose(actual, np.broadcast_to(desired, actual.shape), atol=atol)


def _prob(model, X, y):
    with torch.no_grad():
        p = torch.softmax(model(torch.as_tensor(X)), 1).numpy()
    return p[np.arange(len(y)), y]


def _channel_map(first=0):
    """Distinct channel scores with channel ``first`` ranked first."""
    order = [first] + [c for c in range(C) if c != first]
    m = np.zeros((N, C, T))
    for rank, c in enumerate(order):
        m[:, c] = C - rank
    return m


def test_most_first_drops_at_once_least_first_at_the_end():
    X, y = _data()
    model = ReadChannel0()
    p0 = _prob(model, X, y)
    m = _channel_map(0)
    most = deletion_curve(model, X, y, m, order="most")
    least = deletion_curve(model, X, y, m, order="least")
    assert most["fraction"].tolist() == list(np.linspace(0, 1, C + 1)) and most["curve"].shape == (N, C + 1)
    close(most["curve"][:, 0], p0, atol=1e-6)
    close(most["curve"][:, 1:], 0.5, atol=1e-6)  # channel 0 gone at step 1
    close(least["curve"][:, :-1], p0[:, None], atol=1e-6)  # kept to the end
    close(least["curve"][:, -1], 0.5, atol=1e-6)
    assert most["n_degenerate"] == 0
    # accuracy and logit scores
    acc = deletion_curve(model, X, y, m, score="accuracy")["curve"]
    assert acc[:, 0].tolist() == [1.0] * N
    close(acc[:, 1:], (y == 0)[:, None].astype(float))  # tied logits: argmax says class 0
    lg = deletion_curve(model, X, y, m, score="logit")["curve"]
    close(lg[:, 1:], 0.0, atol=1e-6)
    # the same engine behind the paper-1 removal game
    assert removal_accuracy(model, X, y, m, k=1, order="top") == acc[:, 1].mean()


def test_time_axis_ranks_time_steps():
    X, y = _data()
    model = ReadEarlyTime()
    p0 = _prob(model, X, y)
    m = np.broadcast_to(-np.arange(T, dtype=float), (N, C, T)).copy()  # early steps first
    most = deletion_curve(model, X, y, m, axis="time")
    least = deletion_curve(model, X, y, m, axis="time", order="least")
    assert most["n_elements"] == T and most["curve"].shape == (N, T + 1)
    close(most["curve"][:, 8:], 0.5, atol=1e-6)
    assert (most["curve"][:, 4] < p0 - 0.02).all() and (np.diff(most["curve"][:, :9], axis=1) < 0).all()
    close(least["curve"][:, : T - 8 + 1], p0[:, None], atol=1e-6)
    close(element_scores(m, "time")[0], -np.arange(T))


def test_ties_removed_together_and_interpolated():
    X, y = _data()
    model = ReadChannel0()
    p0 = _prob(model, X, y)
    m = _channel_map(0)
    m[:, :3] = 10.0  # channels 0, 1, 2 tie on top: one group of 3
    c = deletion_curve(model, X, y, m)["curve"]
    for k in range(4):
        close(c[:, k], p0 + k / 3 * (0.5 - p0), atol=1e-6)
    # fractional k on a coarser grid is interpolated too (no ties here: between k=1 and k=2)
    c4 = deletion_curve(model, X, y, _channel_map(1), n_steps=4)
    assert c4["k"].tolist() == [0, 1.5, 3, 4.5, 6]
    close(c4["curve"][:, 1], p0 + 0.5 * (0.5 - p0), atol=1e-6)
    # batching does not change anything
    close(deletion_curve(model, X, y, m, batch_size=5)["curve"], c, atol=1e-6)


def test_constant_map_gives_the_straight_line_and_is_flagged():
    X, y = _data()
    model = ReadChannel0()
    p0 = _prob(model, X, y)
    for order in ("most", "least"):
        d = deletion_curve(model, X, y, np.zeros((N, C, T)), order=order)
        line = p0[:, None] + np.linspace(0, 1, C + 1)[None] * (0.5 - p0[:, None])
        close(d["curve"], line, atol=1e-6)
        assert d["degenerate"].all() and d["n_degenerate"] == N
    fa = faithfulness_area(model, X, y, np.zeros((N, C, T)))
    close(fa["gap"], 0.0, atol=1e-9)
    nan_map = _channel_map(0)
    nan_map[0, 0, 0] = np.nan
    d = deletion_curve(model, X, y, nan_map)
    assert np.isnan(d["curve"][0]).all() and np.isfinite(d["curve"][1:]).all() and d["degenerate"][0]


def test_faithfulness_gap_sign_and_negation():
    X, y = _data()
    model = ReadChannel0()
    good = _channel_map(0)
    fa = faithfulness_area(model, X, y, good)
    assert (fa["gap"] > 0.2).all() and fa["gap"].max() <= 1.0
    neg = faithfulness_area(model, X, y, -good)
    close(neg["gap"], -fa["gap"], atol=1e-9)
    close(neg["area_most"], fa["area_least"], atol=1e-9)
    # a map that ranks channel 0 last is unfaithful
    assert (faithfulness_area(model, X, y, _channel_map(0)[:, ::-1])["gap"] < 0).all()
    # trapezoid area of a hand curve
    f = fa["fraction"]
    close(fa["area_most"], np.trapezoid(fa["curve_most"], f, axis=1))
    with pytest.raises(ValueError, match="order"):
        faithfulness_area(model, X, y, good, order="most")


def test_replacements_mean_context_and_callable():
    X, y = _data()
    model = ReadChannel0()
    p0 = _prob(model, X, y)
    m = _channel_map(0)
    # the channel's own mean keeps the mean the model reads: nothing changes
    close(deletion_curve(model, X, y, m, replace="mean")["curve"], p0[:, None], atol=1e-5)
    ctx = deletion_curve(model, X, y, m, replace="context", context_kw=dict(temporal_kernel=5, spatial_kernel=3))
    P = context_perturbation(torch.as_tensor(X), temporal_kernel=5, spatial_kernel=3).numpy()
    close(ctx["curve"][:, 1], _prob(model, np.concatenate([P[:, :1], X[:, 1:]], 1), y), atol=1e-5)
    seen = []

    def plus_two(Xb, rem):
        seen.append(rem.shape)
        return np.where(rem[:, :, None], Xb + 2.0, Xb)

    cb = deletion_curve(model, X, y, m, replace=plus_two)
    assert seen and all(s[1:] == (C,) for s in seen)
    close(cb["curve"][:, 1], _prob(model, X + np.eye(C, dtype=np.float32)[0][None, :, None] * 2, y), atol=1e-5)
    with pytest.raises(ValueError, match="replace"):
        deletion_curve(model, X, y, m, replace="band_noise")
    with pytest.raises(ValueError, match="shape"):
        deletion_curve(model, X, y, m[:, :, :5])
    with pytest.raises(ValueError, match="axis"):
        deletion_curve(model, X, y, m, axis="space")


SF, TB, CB, NB = 100.0, 200, 4, 5
CH, BAND = 2, 3  # the band model reads channel 2 in 30-40 Hz (band 3 of 5 equal-width bands)


class ReadBand(torch.nn.Module):
    """Logit = correlation of channel CH with a fixed 30-40 Hz template, in that band's bins."""

    def __init__(self, tmpl: np.ndarray):
        super().__init__()
        f = rfft_freqs(TB, SF)
        sel = torch.as_tensor(((f >= 30) & (f < 40)).astype(np.float32))
        self.register_buffer("tf", torch.fft.rfft(torch.as_tensor(tmpl)) * sel)

    def forward(self, x):
        z = (torch.fft.rfft(x[:, CH], dim=-1) * self.tf.conj()).real.sum(-1) * 0.02
        return torch.stack([-z, z], 1)


def _band_data(n=12):
    rng = np.random.default_rng(0)
    t = np.arange(TB) / SF
    tmpl = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) for f in (31, 33, 35, 37)).astype(np.float32)
    y = np.arange(n) % 2
    X = 0.2 * rng.standard_normal((n, CB, TB)).astype(np.float32)
    X[:, CH] += (2 * y[:, None] - 1) * tmpl
    return X, y, tmpl


def test_band_axis_with_a_model_reading_one_band():
    X, y, tmpl = _band_data()
    model = ReadBand(tmpl)
    p0 = _prob(model, X, y)
    assert (p0 > 0.9).all()
    edges = band_edges(SF, NB)
    m = np.random.default_rng(1).random((len(X), CB, NB)) * 0.5
    m[:, CH, BAND] = 1.0
    kw = dict(axis="band", sfreq=SF, edges=edges)
    most = deletion_curve(model, X, y, m, **kw)
    least = deletion_curve(model, X, y, m, order="least", **kw)
    assert most["n_elements"] == CB * NB and most["curve"].shape == (len(X), CB * NB + 1)
    close(most["curve"][:, 1:], 0.5, atol=1e-4)
    close(least["curve"][:, :-1], p0[:, None], atol=1e-4)
    # band noise: seeded, and it also destroys the evidence (noise is not the template)
    bn = deletion_curve(model, X, y, m, replace="band_noise", seed=3, **kw)
    close(bn["curve"], deletion_curve(model, X, y, m, replace="band_noise", seed=3, **kw)["curve"])
    assert bn["curve"][:, 1].mean() < p0.mean() - 0.2
    with pytest.raises(ValueError, match="edges"):
        deletion_curve(model, X, y, m, axis="band", sfreq=SF)
    with pytest.raises(ValueError, match="n_bands"):
        deletion_curve(model, X, y, m[:, :, :4], **kw)
    with pytest.raises(ValueError, match="band"):
        deletion_curve(model, X, y, m, replace="mean", **kw)
