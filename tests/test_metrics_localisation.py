"""Localisation metrics and controls (eegnb.metrics.localisation / controls).

Quantus 0.6 cross-checks: Quantus' localisation metrics reject ``(n, ch, t)`` maps (they read
axis 1 as the image channel and require it to be 1 for segmentations), so the maps are passed
as ``(n, 1, ch, t)``, which leaves every element in place; on that shape RelevanceMassAccuracy,
RelevanceRankAccuracy and AUC run and must agree with ours (RelevanceRankAccuracy only on maps
without ties: Quantus orders ties by sort position, we count them as ties, checked by hand).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from eegnb.explain.bands import band_edges, rfft_freqs
from eegnb.metrics.controls import (
    degenerate,
    degenerate_summary,
    oracle_map,
    random_map,
    shuffled_map,
)
from eegnb.metrics.localisation import (
    band_localisation_truth,
    localisation_auc,
    relevance_mass,
    relevance_share,
    topk_precision,
    truth_mask,
)


def _planted(n=400, ch=8, t=32, seed=0):
    """Truth with weight 1 on a block, 0.5 on its neighbours, 0 elsewhere (per sample)."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((n, ch, t), np.float32)
    for i in range(n):
        c, s = rng.integers(1, ch - 1), rng.integers(2, t - 10)
        truth[i, c - 1 : c + 2, s - 1 : s + 9] = 0.5
        truth[i, c, s : s + 8] = 1.0
    return truth


def test_oracle_random_shuffled_and_constant_controls():
    truth = _planted()
    np.testing.assert_allclose(localisation_auc(oracle_map(truth), truth), 1.0)
    r = localisation_auc(random_map(truth.shape, seed=1), truth)
    assert abs(r.mean() - 0.5) < 0.02 and r.std() > 0.02  # chance on average, noisy per sample
    sh = localisation_auc(shuffled_map(oracle_map(truth), seed=2), truth)
    assert abs(sh.mean() - 0.5) < 0.02
    const = np.ones_like(truth)
    np.testing.assert_allclose(localisation_auc(const, truth), 0.5)  # all tied: average ranks
    assert degenerate(const).all() and not degenerate(oracle_map(truth)).any()
    # inverted oracle ranks every positive last
    np.testing.assert_allclose(localisation_auc(1 - oracle_map(truth), truth, absolute=False), 0.0)


def test_threshold_half_is_positive():
    t = np.array([[0.5, 0.0, 0.0, 0.0]])
    assert truth_mask(t).tolist() == [[True, False, False, False]]
    assert not truth_mask(np.array([0.49])).any() and truth_mask(np.array([0.49]), 0.4).all()
    m = np.array([[1.0, 0.0, 0.2, 0.1]])
    assert localisation_auc(m, t)[0] == 1.0
    assert np.isnan(localisation_auc(m, np.array([[0.49, 0, 0, 0]]))[0])  # no positives
    assert relevance_mass(m, t)[0] == pytest.approx(1 / 1.3)
    assert topk_precision(m, t)[0] == 1.0


def test_auc_matches_sklearn_with_ties_and_nan_cases():
    rng = np.random.default_rng(0)
    maps = np.round(rng.standard_normal((30, 4, 12)), 1)  # many ties
    truth = rng.random((30, 4, 12)) > 0.7
    ours = localisation_auc(maps, truth)
    ref = [roc_auc_score(t.ravel(), np.abs(m).ravel()) for m, t in zip(maps, truth)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    signed = localisation_auc(maps, truth, absolute=False)
    np.testing.assert_allclose(signed, [roc_auc_score(t.ravel(), m.ravel()) for m, t in zip(maps, truth)])
    # truth with one shape for all samples, all-positive truth, non-finite maps
    np.testing.assert_allclose(localisation_auc(maps, truth[0]), localisation_auc(maps, np.broadcast_to(truth[0], maps.shape)))
    assert np.isnan(localisation_auc(maps[:1], np.ones((4, 12))))[0]
    bad = maps[:2].copy()
    bad[0, 0, 0] = np.nan
    out = localisation_auc(bad, truth[:2])
    assert np.isnan(out[0]) and np.isfinite(out[1])
    with pytest.raises(ValueError, match="truth shape"):
        localisation_auc(maps, np.ones(5))


def test_topk_ties_are_ties():
    m = np.array([[3.0, 2.0, 2.0, 2.0, 0.0]])
    t = np.array([[1, 1, 0, 0, 0]])
    # k = 2 positives: one sure hit above, then one place for a group of 3 holding 1 positive
    assert topk_precision(m, t)[0] == pytest.approx((1 + 1 / 3) / 2)
    assert topk_precision(m, t, k=1)[0] == 1.0
    assert topk_precision(m, t, k=4)[0] == pytest.approx(0.5)
    # the answer does not depend on where the positive sits inside the tie group
    assert topk_precision(m, np.array([[1, 0, 0, 1, 0]]))[0] == topk_precision(m, t)[0]
    assert np.isnan(topk_precision(m, np.zeros((1, 5))))[0]
    # a constant map: expected precision = share of positives
    assert topk_precision(np.ones((1, 5)), t)[0] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="k must be"):
        topk_precision(m, t, k=9)


def test_relevance_mass_hand_case():
    m = np.array([[2.0, -1.0, 1.0, 1.0]])
    t = np.array([[1.0, 1.0, 0.0, 0.0]])
    assert relevance_mass(m, t)[0] == pytest.approx(0.5)  # positive relevance only: 2 of 4
    assert relevance_share(m, t, positive=False)[0] == pytest.approx(3 / 5)
    assert np.isnan(relevance_mass(-np.abs(m), t))[0]  # no positive relevance
    assert relevance_share(m, t)[0] == relevance_mass(m, t)[0]


def test_quantus_agrees_on_n_1_ch_t():
    quantus = pytest.importorskip("quantus")
    rng = np.random.default_rng(3)
    n, ch, t = 12, 4, 16
    x = rng.standard_normal((n, 1, ch, t)).astype(np.float32)
    a = rng.random((n, ch, t)).astype(np.float32)  # non-negative, no ties
    s = rng.random((n, ch, t)) > 0.7
    kw = dict(model=None, x_batch=x, y_batch=np.zeros(n, int), a_batch=a[:, None], s_batch=s[:, None].astype(np.float32))
    q = dict(abs=False, normalise=False, disable_warnings=True)
    np.testing.assert_allclose(relevance_mass(a, s), quantus.RelevanceMassAccuracy(**q)(**kw), atol=1e-6)
    np.testing.assert_allclose(topk_precision(a, s), quantus.RelevanceRankAccuracy(**q)(**kw), atol=1e-6)
    np.testing.assert_allclose(localisation_auc(a, s), quantus.AUC(**q)(**kw), atol=1e-6)


def test_band_maps_use_the_same_functions():
    sfreq, n_t, ch = 100.0, 200, 3
    edges = band_edges(sfreq, 5)  # the edges the (hypothetical) method used
    tf = np.zeros((ch, n_t // 2 + 1))
    f = rfft_freqs(n_t, sfreq)
    tf[1, (f >= 22) & (f < 28)] = 1.0  # crosses the 20-30 Hz band only
    bt = band_localisation_truth(tf, sfreq, n_t, edges)
    assert bt.shape == (ch, 5) and bt.sum() == 1 and bt[1, 2] == 1
    maps = np.broadcast_to(bt, (4, ch, 5)) + 0.01 * random_map((4, ch, 5), 0)
    np.testing.assert_allclose(localisation_auc(maps, bt), 1.0)
    assert topk_precision(maps, bt).tolist() == [1.0] * 4
    with pytest.raises(ValueError, match="bins"):
        band_localisation_truth(tf[:, :-1], sfreq, n_t, edges)
    with pytest.raises(ValueError, match="edges"):
        band_localisation_truth(tf, sfreq, n_t, np.array([10.0, 20.0]))


def test_controls_shapes_seeds_and_degenerate_summary():
    r = random_map((3, 2, 5), seed=4)
    assert r.dtype == np.float32 and np.array_equal(r, random_map((3, 2, 5), seed=4))
    m = np.broadcast_to(np.arange(10.0), (2, 10)).reshape(2, 2, 5)
    sh = shuffled_map(m, seed=0)
    assert all(sorted(sh[i].ravel()) == list(range(10)) for i in range(2))
    assert not np.array_equal(sh[0], sh[1])  # each sample permuted independently
    assert np.array_equal(sh, shuffled_map(m, seed=0)) and not np.array_equal(sh, shuffled_map(m, seed=1))
    maps = np.stack([np.zeros((2, 3)), np.arange(6.0).reshape(2, 3), np.full((2, 3), np.nan)])
    assert degenerate(maps).tolist() == [True, False, True]
    assert degenerate_summary(maps) == dict(n_degenerate=2, share=2 / 3, n=3)
    assert oracle_map(np.array([[True, False]])).dtype == np.float32
