"""DFT-LRP virtual inspection layer (eegnb.explain.dft_lrp)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain import METHODS, dft_lrp, explain, lrp
from eegnb.explain.bands import band_edges
from eegnb.models import build

SFREQ, N_CH, N_T = 160.0, 6, 320


@pytest.fixture(scope="module")
def model():
    m = build("eegnet", N_CH, N_T, 2, sfreq=SFREQ, seed=0).eval()
    g = torch.Generator().manual_seed(0)
    for mod in m.modules():  # non-trivial BatchNorm statistics, as after training
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
    return m


def _x(n=3, seed=0):
    return torch.randn(n, N_CH, N_T, generator=torch.Generator().manual_seed(seed)) * 5


@pytest.mark.parametrize("n", [8, 9, 320])
def test_dft_matrices_invert(n):
    F, G = dft_lrp.dft_matrices(n)
    assert F.shape == (2 * (n // 2 + 1), n) and G.shape == (n, 2 * (n // 2 + 1))
    np.testing.assert_allclose(G @ F, np.eye(n), atol=1e-10)
    x = np.random.default_rng(0).normal(size=n)
    spec = np.fft.rfft(x)
    np.testing.assert_allclose(F @ x, np.concatenate([spec.real, spec.imag]), atol=1e-10)


def test_stdft_matrices_invert():
    F, G, centres, freqs = dft_lrp.stdft_matrices(N_T, SFREQ, window_s=0.5, hop_s=0.25)
    np.testing.assert_allclose(G @ F, np.eye(N_T), atol=1e-8)
    assert freqs[1] == pytest.approx(2.0)
    assert centres[0] == pytest.approx(0.0) and centres[-1] >= (N_T - 1) / SFREQ  # frames span the epoch
    # overlapping windows: no sample relies on a window tail, so the inverse is well conditioned
    assert np.abs(G).max() < 10 * np.abs(dft_lrp.dft_matrices(80)[1]).max()
    with pytest.raises(ValueError):
        dft_lrp.stdft_matrices(N_T, SFREQ, window_s=10.0)


@pytest.mark.parametrize("kind", ["dft", "stdft"])
def test_reconstructed_model_output_equals_original(model, kind):
    vi = dft_lrp.VirtualInspection(model, kind=kind)
    X = _x()
    with torch.no_grad():
        np.testing.assert_allclose(vi(X).numpy(), model(X).numpy(), rtol=1e-4, atol=1e-5)


def test_frequency_relevance_conserves_time_relevance(model):
    X = _x()
    vi = dft_lrp.VirtualInspection(model)
    Rf, Rt = dft_lrp.frequency_relevance(vi, X, rule="epsilon")
    assert Rf.shape == (3, N_CH, N_T // 2 + 1)
    # the inspection layer's time relevance is plain LRP of the model
    np.testing.assert_allclose(Rt, explain("lrp_epsilon", model, X), rtol=1e-3, atol=1e-6)
    # LRP-0 through the bias-free inverse DFT conserves relevance channel by channel
    np.testing.assert_allclose(Rf.sum(-1), Rt.sum(-1), rtol=1e-3, atol=1e-6)


BANDS = {"mu": (8.0, 13.0), "beta": (20.0, 30.0), "delta": (1.0, 4.0)}


def test_band_reading_model_gets_its_relevance_in_its_band():
    """A hand-built model that reads only one band puts most DFT-LRP (epsilon) relevance there; a
    model that reads another band does not (fails if bins are swapped, mis-folded or the axis reversed)."""
    from eegnb.experiments.crp import band_reading_check

    check = band_reading_check(N_CH, N_T, SFREQ, BANDS, rule="epsilon", n=4, seed=1)
    M = check.loc[list(BANDS), list(BANDS)].to_numpy()
    assert np.diag(M).min() > 0.8, check
    assert M[~np.eye(3, dtype=bool)].max() < 0.1, check


def test_zplus_rule_does_not_follow_the_band_read():
    """Documented behaviour (eegnb.explain.crp docstring): with z+ (alphabeta, alpha=1, beta=0) on
    the band-pass convolution the relevance follows the input's spectrum, not the band the model
    reads; on white noise less than half of it lands in that band."""
    from eegnb.experiments.crp import band_reading_check

    check = band_reading_check(N_CH, N_T, SFREQ, BANDS, rule="alphabeta", n=4, seed=1)
    assert np.diag(check.loc[list(BANDS), list(BANDS)].to_numpy()).max() < 0.5, check


def test_registered_bands_and_time_frequency(model):
    m = METHODS["dft_lrp"]
    assert m.domain == "frequency" and m.signed and m.needs_sfreq
    X = _x()
    B = explain("dft_lrp", model, X, sfreq=SFREQ)
    assert B.shape == (3, N_CH, 10)
    d = dft_lrp.DFTLRP(model, SFREQ)
    S = d.spectrum(X)
    np.testing.assert_allclose(B.sum(-1), S.sum(-1), rtol=1e-3, atol=1e-6)  # bands cover 0..Nyquist
    B5 = explain("dft_lrp", model, X, sfreq=SFREQ, bands={"alpha": (8, 13), "beta": (13, 30)})
    assert B5.shape == (3, N_CH, 2)
    TF = d.time_frequency(X)
    times, freqs = d.tf_axes(N_T)
    assert TF.shape == (3, N_CH, len(times), len(freqs))
    np.testing.assert_allclose(TF.sum((2, 3)), S.sum(-1), rtol=1e-3, atol=1e-6)
    with pytest.raises(ValueError, match="sfreq"):
        explain("dft_lrp", model, X)
    assert band_edges(SFREQ).shape == (10, 2)


def test_registered_full_spectrum_on_request(model):
    X = _x(2)
    S = explain("dft_lrp", model, X, sfreq=SFREQ, spectrum=True)
    assert S.shape == (2, N_CH, N_T // 2 + 1)
    np.testing.assert_allclose(S, dft_lrp.DFTLRP(model, SFREQ).spectrum(X), rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="spectrum=True"):
        explain("dft_lrp", model, X, sfreq=SFREQ, spectrum=True, bands={"alpha": (8, 13)})


@pytest.mark.parametrize("rule", lrp.RULES)
def test_every_rule_conserves_through_the_inspection_layer(model, rule):
    """For every rule the bins' relevance sums to the time relevance, channel by channel (LRP-0
    on the bias-free inverse DFT), and the time relevance is that rule's plain LRP map."""
    X = _x(2)
    vi = dft_lrp.VirtualInspection(model)
    Rf, Rt = dft_lrp.frequency_relevance(vi, X, rule=rule)
    assert np.isfinite(Rf).all() and Rf.shape == (2, N_CH, N_T // 2 + 1)
    np.testing.assert_allclose(Rf.sum(-1), Rt.sum(-1), rtol=1e-3, atol=1e-6 * np.abs(Rt).max())
    ref = lrp.lrp_relevance(model, X, None, lrp.make_composite(rule, model=model))
    np.testing.assert_allclose(Rt, ref, rtol=1e-3, atol=1e-5 * np.abs(ref).max())


@pytest.mark.notebook
def test_notebook_31_crp_frequency_topography(run_notebook):
    rec = run_notebook("31_crp_frequency_topography")
    assert rec["inspection_max_output_difference"] < 1e-4
    # band-reading models: relevance in the band they read, not in the other one
    assert rec["band_check_in_band_min"] > 0.8 and rec["band_check_other_band_max"] < 0.1
    assert rec["hood_vs_dft_lrp"] < 1e-4 and np.allclose(rec["hood_sum_over_logit"], 1.0, atol=1e-3)
    # positive relevance lands on the planted evidence well above the uniform share
    assert rec["channel_share"] > 2 * rec["channel_uniform"]
    assert rec["band_share"] > 1.5 * rec["band_uniform"]
    assert rec["joint_share"] > 4 * rec["joint_uniform"]
    assert rec["ica_abs_share_by_label"].get("brain", 0) > 0.5
    # against the controls through the same metric
    cs = rec["control_shares_ci"]
    assert rec["shares_ci"]["joint"]["lo"] > cs["random"]["joint"]["hi"]
    assert cs["oracle"]["joint"]["mean"] > rec["shares_ci"]["joint"]["mean"]
    # functional grouping: the motor task's relevance sits in the central region, above a random map
    assert rec["top_region"] == "central"
    assert rec["top_region_share_model"]["mean"] > 1.5 * rec["top_region_share_random"]["mean"]  # 2 folds at quick size
