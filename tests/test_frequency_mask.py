"""Paper 2: frequency-domain mask perturbation, easyPEASI, the RN/RS removal games and
notebooks 20/21 (quick mode)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from eegnb.explain import METHODS, explain
from eegnb.explain.bands import band_edges, bin_band_index, rfft_freqs
from eegnb.explain.easypeasi import easypeasi_group, easypeasi_scores
from eegnb.explain.frequency_mask import (
    GENERATORS,
    FrequencyMask,
    Reference,
    apply_mask,
    expand_mask,
    make_generator,
)
from eegnb.metrics.frequency_removal import (
    generator_flops,
    kde_score,
    removal_game,
    remove_components,
    salient_split,
)

SFREQ, T, C = 100.0, 200, 16
CH, BAND = 3, 5  # the toy model reads only channel 3 in 25-30 Hz (band 5 of 10 equal-width bands)
_F = rfft_freqs(T, SFREQ)
_IN_BAND = (_F >= 25) & (_F < 30)


def _template() -> np.ndarray:
    """A fixed waveform band-limited to 25-30 Hz (sines at every bin of the band, fixed phases)."""
    rng = np.random.default_rng(42)
    t = np.arange(T) / SFREQ
    w = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in _F[_IN_BAND])
    return (w / np.abs(w).max()).astype(np.float32)


def _toy_data(n=24, seed=0, amp=1.5):
    """White noise; class 1 adds the 25-30 Hz template on channel 3, class 0 subtracts it."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, C, T)).astype(np.float32)
    y = np.arange(n) % 2
    X[:, CH] += (amp * (2 * y[:, None] - 1) * _template()).astype(np.float32)
    return X, y


class PhaseBandModel(torch.nn.Module):
    """Logit = correlation of channel 3 with the template, read through the 25-30 Hz rfft bins.

    It only sees one channel and one band (and the waveform's phase there)."""

    def __init__(self):
        super().__init__()
        tmpl = torch.fft.rfft(torch.as_tensor(_template()))
        self.register_buffer("tmpl", tmpl * torch.as_tensor(_IN_BAND, dtype=torch.float32))
        self.scale = torch.nn.Parameter(torch.tensor(4.0 / float((self.tmpl.abs() ** 2).sum())))

    def forward(self, x):
        z = (torch.fft.rfft(x[:, CH], dim=-1) * self.tmpl.conj()).real.sum(-1) * self.scale
        return torch.stack([-z, z], 1)


class PowerBandModel(torch.nn.Module):
    """Logit = log power of channel 3 in 25-30 Hz minus a threshold (phase blind)."""

    def __init__(self, thr: float):
        super().__init__()
        f = torch.as_tensor(rfft_freqs(T, SFREQ))
        self.register_buffer("sel", ((f >= 25) & (f < 30)).float())
        self.thr = torch.nn.Parameter(torch.tensor(float(thr)))

    def power(self, x):
        return torch.log((torch.fft.rfft(x[:, CH], dim=-1).abs() ** 2 * self.sel).sum(-1) / self.sel.sum())

    def forward(self, x):
        z = 3 * (self.power(x) - self.thr)
        return torch.stack([-z, z], 1)


def _tiny_cnn(n_chans: int = C):
    """A small seeded CNN on ``(n, n_chans, t)`` (shared with test_frequency_engine)."""
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, n_chans)),
        torch.nn.Conv2d(1, 3, (1, 9), padding=(0, 4)),
        torch.nn.ELU(),
        torch.nn.Conv2d(3, 3, (n_chans, 1)),
        torch.nn.ELU(),
        torch.nn.AdaptiveAvgPool2d((1, 4)),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 2),
    )


# --------------------------------------------------------------------------- spectrum handling
def test_registered_as_frequency_methods():
    for name in ("frequency_mask", "easypeasi"):
        m = METHODS[name]
        assert m.domain == "frequency" and m.needs_sfreq and "paper 2" in m.paper
    assert not METHODS["frequency_mask"].signed


def test_irfft_of_unperturbed_spectrum_reproduces_input():
    x = torch.randn(3, C, T)
    xf = torch.fft.rfft(x, dim=-1)
    junk = torch.randn_like(xf)
    out = apply_mask(xf, torch.ones(xf.shape), junk, T)
    assert out.dtype == torch.float32 and out.shape == x.shape
    torch.testing.assert_close(out, x, atol=1e-5, rtol=1e-5)
    # M = 0: the signal is the inverse transform of the perturbation alone (and real).
    torch.testing.assert_close(apply_mask(xf, torch.zeros(xf.shape), junk, T), torch.fft.irfft(junk, n=T, dim=-1))
    # odd lengths round-trip too
    x7 = torch.randn(2, C, 201)
    torch.testing.assert_close(apply_mask(torch.fft.rfft(x7), torch.ones(2, C, 101), torch.zeros(2, C, 101, dtype=torch.complex64), 201), x7, atol=1e-5, rtol=1e-5)


def test_scalable_mask_repeats_to_bins():
    edges = band_edges(SFREQ, 10)
    bidx = torch.as_tensor(bin_band_index(rfft_freqs(T, SFREQ), edges))
    assert len(bidx) == T // 2 + 1 == 101
    m = torch.rand(2, C, 10)
    full = expand_mask(m, bidx)
    assert full.shape == (2, C, 101)
    # 100 bins split evenly into 10 bands (the paper's repeat), the Nyquist bin joins the last band
    torch.testing.assert_close(full[..., :100], m.repeat_interleave(10, dim=-1))
    torch.testing.assert_close(full[..., 100], m[..., -1])
    # explicit bands: bins in no band are kept (mask 1)
    e2 = band_edges(SFREQ, bands=[(8, 12), (20, 30)])
    b2 = torch.as_tensor(bin_band_index(rfft_freqs(T, SFREQ), e2))
    full2 = expand_mask(torch.zeros(1, C, 2), b2)
    f = rfft_freqs(T, SFREQ)
    assert torch.all(full2[..., (f < 8) | ((f >= 12) & (f < 20)) | (f > 30)] == 1)
    assert torch.all(full2[..., (f >= 8) & (f < 12)] == 0)


@pytest.mark.parametrize("kind", GENERATORS)
def test_generator_shapes(kind):
    gen = make_generator(kind, C, 101)
    re, im = torch.randn(4, C, 101), torch.randn(4, C, 101)
    r, i = gen(re, im)
    assert r.shape == i.shape == (4, C, 101)
    with pytest.raises(ValueError, match="generator"):
        make_generator("transformer", C, 101)


def test_two_branch_keeps_real_and_imaginary_paths_apart():
    gen = make_generator("two_branch", C, 101)
    re, im = torch.randn(2, C, 101), torch.randn(2, C, 101)
    r1, i1 = gen(re, im)
    r2, i2 = gen(re, im + 5)
    torch.testing.assert_close(r1, r2)  # the real branch never sees the imaginary part
    assert not torch.allclose(i1, i2)


def test_target_cluster_is_nearest_subject_centre():
    rng = np.random.default_rng(0)
    offsets = {10: -3.0, 20: 0.0, 30: 3.0}  # subjects differ by a DC offset: three clusters
    Xr = np.concatenate([rng.standard_normal((8, C, T)) * 0.3 + o for o in offsets.values()]).astype(np.float32)
    sr = np.repeat(list(offsets), 8)
    ref = Reference.from_data(Xr, sr)
    assert list(ref.subjects) == [10, 20, 30]
    Xq = np.stack([np.full((C, T), v, np.float32) for v in (2.6, -2.2, 0.4, 3.9)])
    assert list(ref.subjects[ref.nearest(torch.as_tensor(Xq)).numpy()]) == [30, 10, 20, 30]
    res = FrequencyMask(_tiny_cnn(), SFREQ, reference=(Xr, sr), epochs=2).fit(Xq)
    assert list(res.target_subject) == [30, 10, 20, 30]
    with pytest.raises(ValueError, match="reference"):
        Reference.from_data(Xr, sr[:-1])


def test_mask_in_unit_interval_and_shapes():
    X, _ = _toy_data(6)
    res = FrequencyMask(_tiny_cnn(), SFREQ, epochs=15, lambda_dist=0, keep_signals=True).fit(X)
    assert res.saliency.shape == (6, C, 10) and res.mask_bins.shape == (6, C, T // 2 + 1)
    assert res.saliency.min() >= 0 and res.saliency.max() <= 1
    np.testing.assert_allclose(res.mask_bins[..., :100], np.repeat(res.saliency, 10, axis=-1))
    assert res.perturbed.shape == X.shape and res.perturbation.shape == X.shape
    assert res.history[0].shape[1] == 5 and 1 <= res.epochs[0] <= 15
    assert res.edges.shape == (10, 2) and res.band_labels[0] == "0-5 Hz"


def test_alignment_off_without_reference_warns():
    X, _ = _toy_data(4)
    with pytest.warns(UserWarning, match="target-alignment"):
        res = FrequencyMask(_tiny_cnn(), SFREQ, epochs=3).fit(X)
    assert res.target_subject is None and np.all(res.history[0][:, 4] == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FrequencyMask(_tiny_cnn(), SFREQ, epochs=3, lambda_dist=0.0).fit(X)


def test_alignment_term_is_mean_squared_distance_to_cluster():
    # with the generator fixed at zero output, L_dist = mean_k mean|x_k^f|^2 / batch power
    rng = np.random.default_rng(1)
    Xr = rng.standard_normal((10, C, T)).astype(np.float32)
    ref = Reference.from_data(Xr, np.zeros(10, int))
    f = np.fft.rfft(Xr, axis=-1)
    direct = np.mean(np.abs(f) ** 2)
    stat = ((ref.spec_mean[0].abs() ** 2) + ref.spec_var[0]).mean()
    np.testing.assert_allclose(float(stat), direct, rtol=1e-4)


def test_bad_inputs_raise():
    m = _tiny_cnn()
    with pytest.raises(ValueError, match="generator"):
        FrequencyMask(m, SFREQ, generator="lstm")
    with pytest.raises(ValueError, match="sfreq"):
        FrequencyMask(m, 0)
    with pytest.raises(ValueError, match=r"\(n, ch, t\)"):
        FrequencyMask(m, SFREQ, lambda_dist=0).fit(np.zeros((C, T), np.float32))
    with pytest.raises(ValueError, match="sfreq"):
        explain("frequency_mask", m, np.zeros((2, C, T), np.float32))
    with pytest.raises(ValueError, match="noise_stats"):
        easypeasi_scores(m, np.zeros((2, C, T), np.float32), sfreq=SFREQ, noise_stats="global")


def test_more_bad_inputs_raise():
    m = _tiny_cnn()
    X, y = _toy_data(4)
    for bs in (0, -2, 1.5):
        with pytest.raises(ValueError, match="batch_size"):
            FrequencyMask(m, SFREQ, lambda_dist=0, batch_size=bs)
    # the reference must have X's channels and length (else the nearest-centre search fails)
    ref = (np.zeros((4, C - 1, T), np.float32), np.arange(4))
    with pytest.raises(ValueError, match="reference"):
        FrequencyMask(m, SFREQ, reference=ref, epochs=2).fit(X)
    ref = (np.zeros((4, C, T + 1), np.float32), np.arange(4))
    with pytest.raises(ValueError, match="reference"):
        FrequencyMask(m, SFREQ, reference=ref, epochs=2).fit(X)
    with pytest.raises(ValueError, match="n_bands"):
        FrequencyMask(m, SFREQ, lambda_dist=0, n_bands=0)
    with pytest.raises(ValueError, match="bands"):
        FrequencyMask(m, SFREQ, lambda_dist=0, bands=[(10, 5)])
    with pytest.raises(ValueError, match="n_repeats"):
        easypeasi_scores(m, X, sfreq=SFREQ, n_repeats=0)
    with pytest.raises(ValueError, match="y must"):
        easypeasi_scores(m, X, sfreq=SFREQ, y=y[:3])
    # removal game: labels and per-sample maps must match X
    sal = np.random.default_rng(0).random((4, C, 10))
    with pytest.raises(ValueError, match="y must"):
        removal_game(m, X, y[:3], sal, sfreq=SFREQ)
    with pytest.raises(ValueError, match="one map per sample"):
        removal_game(m, X, y, sal[:3], sfreq=SFREQ, level="instance")
    with pytest.raises(ValueError, match="level"):
        removal_game(m, X, y, sal, sfreq=SFREQ, level="subject")


def test_paper_defaults_and_band_edges_retrievable():
    with pytest.warns(UserWarning):
        fmk = FrequencyMask(_tiny_cnn(), 200.0)
    c = fmk.config()
    assert (c["lambda_dist"], c["lr"], c["epochs"], c["patience"], c["generator"]) == (0.05, 0.01, 300, 10, "two_branch")
    # 10 equal-width one-sided bands from 0 Hz to Nyquist; explicit bands override
    np.testing.assert_allclose(fmk.edges, band_edges(200.0, 10))
    assert fmk.edges[0, 0] == 0 and fmk.edges[-1, 1] == 100 and len(fmk.band_labels) == 10
    fb = FrequencyMask(_tiny_cnn(), 200.0, bands=[(4, 8), (8, 12)], lambda_dist=0)
    np.testing.assert_allclose(fb.edges, [[4, 8], [8, 12]])


def test_deterministic_given_seed():
    X, _ = _toy_data(4)
    kw = dict(epochs=10, lambda_dist=0.0, seed=3)
    a = FrequencyMask(_tiny_cnn(), SFREQ, **kw).fit(X).saliency
    b = FrequencyMask(_tiny_cnn(), SFREQ, **kw).fit(X).saliency
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- easyPEASI
def test_easypeasi_leaves_other_channels_untouched():
    X, _ = _toy_data(3)
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.append(x.detach().clone())
            return torch.zeros(len(x), 2)

    res = easypeasi_scores(Recorder(), X, sfreq=SFREQ, n_bands=10, forward_batch=4 * C)
    batches = torch.cat(seen[1:])  # seen[0] is the unperturbed baseline
    assert len(batches) == 3 * C * 10 == res.n_forward - 3
    Xt = torch.as_tensor(X)
    k = 0
    for _b in range(10):
        for i in range(3):
            for c in range(C):
                diff = (batches[k] - Xt[i]).abs().amax(-1)
                assert torch.all(diff[torch.arange(C) != c] == 0), "another channel changed"
                k += 1
    assert (batches - Xt.repeat_interleave(C, 0).repeat(10, 1, 1)).abs().amax() > 0.01


def test_easypeasi_default_bands_and_shapes():
    X, y = _toy_data(4)
    m = PhaseBandModel()
    # the shared default layout (10 equal-width bands to Nyquist), reported in info
    out, info = explain("easypeasi", m, X, sfreq=SFREQ, return_info=True)
    assert out.shape == (4, C, 10)
    np.testing.assert_allclose(info["band_edges"], band_edges(SFREQ, 10))
    # the easyPEASI paper's named bands by keyword
    out, info = explain("easypeasi", m, X, sfreq=SFREQ, bands="easypeasi", return_info=True)
    assert out.shape == (4, C, 6) and info["band_edges"][-1].tolist() == [25.0, 40.0]
    g = easypeasi_group(m, X, y, sfreq=SFREQ, n_bands=10)
    assert g.shape == (C, 10)


# --------------------------------------------------------------------------- toy recovery
def test_both_methods_rank_the_models_band_top():
    X, y = _toy_data(16)
    m = PhaseBandModel()
    assert (explain("gradient", m, X).shape == X.shape)
    from eegnb.explain import predict

    assert (predict(m, X).argmax(1) == y).mean() == 1.0
    ours = explain("frequency_mask", m, X, sfreq=SFREQ, reference=(X, np.arange(16) % 4), epochs=150)
    assert np.unravel_index(ours.mean(0).argmax(), ours.shape[1:]) == (CH, BAND)
    # per sample too: the model's band is the top component in most samples
    top = [np.unravel_index(s.argmax(), s.shape) == (CH, BAND) for s in ours]
    assert np.mean(top) >= 0.8
    ep = explain("easypeasi", m, X, sfreq=SFREQ, n_bands=10)
    assert np.unravel_index(ep.mean(0).argmax(), ep.shape[1:]) == (CH, BAND)
    g = easypeasi_group(m, X, y, sfreq=SFREQ, n_bands=10)
    assert np.unravel_index(g.argmax(), g.shape) == (CH, BAND) and g[CH, BAND] > 0.1


def test_easypeasi_noise_stats_on_a_power_model():
    # Noise matched to the sample's own band statistics keeps the band's power, so a model that
    # reads only band power barely notices; pooled (dataset) statistics remove the class difference.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, C, T)).astype(np.float32)
    y = np.arange(24) % 2
    phase = rng.uniform(0, 2 * np.pi, (24, 1))  # random phase: only the power carries the class
    X[:, CH] += (3.0 * y[:, None] * np.sin(2 * np.pi * 26 * np.arange(T) / SFREQ + phase)).astype(np.float32)
    m = PowerBandModel(0.0)
    with torch.no_grad():
        m.thr.fill_(float(m.power(torch.as_tensor(X)).median()))
    pooled = easypeasi_scores(m, X, sfreq=SFREQ, y=y, n_bands=10, noise_stats="dataset")
    own = easypeasi_scores(m, X, sfreq=SFREQ, y=y, n_bands=10, noise_stats="sample")
    assert np.unravel_index(pooled.group.argmax(), pooled.group.shape) == (CH, BAND)
    assert pooled.group[CH, BAND] > 0.3 and own.group[CH, BAND] < 0.1


def test_easypeasi_score_variants():
    # a saturated model: the signed probability drop is ~0, the log-odds drop still sees the band
    X, y = _toy_data(8, amp=6.0)
    m = PhaseBandModel()
    with torch.no_grad():
        m.scale.mul_(8.0)
    r = easypeasi_scores(m, X, sfreq=SFREQ, n_bands=10)
    assert r.instance.shape == r.instance_abs.shape == r.instance_logit.shape == (8, C, 10)
    np.testing.assert_allclose(r.instance_abs >= np.abs(r.instance) - 1e-6, True)
    off = np.ones((C, 10), bool)
    off[CH, BAND] = False
    assert np.abs(r.instance_logit[:, ~off]).min() > 10 * np.abs(r.instance_logit[:, off]).max()
    # noise destroys the template correlation: the target's log-odds fall (a positive drop) by far
    # more than the saturated probability does
    assert r.instance_logit[:, CH, BAND].mean() > 1.0
    assert r.instance_logit[:, CH, BAND].mean() > 20 * r.instance[:, CH, BAND].mean()
    lo = explain("easypeasi", m, X, sfreq=SFREQ, n_bands=10, score="logit")
    np.testing.assert_allclose(lo, r.instance_logit, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="score"):
        explain("easypeasi", m, X, sfreq=SFREQ, score="margin")


# --------------------------------------------------------------------------- removal games
def test_remove_components_and_split():
    X, _ = _toy_data(3)
    edges = band_edges(SFREQ, 10)
    none = np.zeros((C, 10), bool)
    np.testing.assert_allclose(remove_components(X, none, sfreq=SFREQ, edges=edges), X, atol=1e-5)
    one = none.copy()
    one[CH, BAND] = True
    Z = remove_components(X, one, sfreq=SFREQ, edges=edges)
    f = rfft_freqs(T, SFREQ)
    spec = np.abs(np.fft.rfft(Z, axis=-1))
    assert np.all(spec[:, CH, (f >= 25) & (f < 30)] < 1e-3)
    np.testing.assert_allclose(np.delete(Z, CH, axis=1), np.delete(X, CH, axis=1), atol=1e-5)
    # median split by average rank: distinct values split in exact halves; a tie group that
    # straddles the median goes wholly to one side (no random draw), sizes are reported
    s = np.zeros((C, 10))
    s[0, :3] = 1
    sal, info = salient_split(s, return_info=True)
    assert sal.sum() == 3 and sal[0, :3].all() and info["n_nonsalient"].tolist() == [C * 10 - 3]
    np.testing.assert_array_equal(sal, salient_split(s, seed=1))
    s[1:, :] = 2  # 150 tied on top: average rank 75.5 <= 80.5, the whole group is salient
    assert salient_split(s)[1:].all() and not salient_split(s)[0].any()
    assert salient_split(np.random.rand(4, C, 10)).reshape(4, -1).sum(1).tolist() == [C * 5] * 4


def test_salient_split_and_game_on_degenerate_maps():
    """A constant / all-zero map splits nothing: counted as degenerate, never a random split."""
    X, y = _toy_data(10)
    m = PhaseBandModel()
    zero = np.zeros((C, 10))
    sal, info = salient_split(zero, return_info=True)
    assert not sal.any() and info["degenerate"].tolist() == [True] and info["n_degenerate"] == 1
    g = removal_game(m, X, y, zero, sfreq=SFREQ, level="group")
    assert g["degenerate"] and np.isnan(g["rn"]) and np.isnan(g["rs"]) and g["n_degenerate"] == 1
    maps = np.zeros((10, C, 10))
    maps[:6, CH, BAND] = 1.0  # 4 of 10 samples get an all-zero map
    inst = removal_game(m, X, y, maps, sfreq=SFREQ, level="instance")
    assert inst["n_degenerate"] == 4 and inst["n"] == 6 and inst["n_salient"] == 1
    ref = removal_game(m, X[:6], y[:6], maps[:6], sfreq=SFREQ, level="instance")
    assert (inst["rs"], inst["rn"], inst["ori"]) == (ref["rs"], ref["rn"], ref["ori"])


def test_removal_game_rs_hurts_with_a_correct_map():
    X, y = _toy_data(40)
    m = PhaseBandModel()
    truth = np.zeros((C, 10))
    truth[CH, BAND] = 1.0
    g = removal_game(m, X, y, truth, sfreq=SFREQ, level="group")
    assert g["ori"] == 1.0 and g["rn"] == 1.0 and g["rs"] <= 0.6
    inst = removal_game(m, X, y, np.broadcast_to(truth, (40, C, 10)), sfreq=SFREQ, level="instance")
    assert inst["rs"] < inst["rn"]
    with pytest.raises(ValueError, match="instance"):
        removal_game(m, X, y, truth, sfreq=SFREQ, level="instance")


def test_kde_score_prefers_data_like_samples():
    rng = np.random.default_rng(0)
    X, _ = _toy_data(60)
    held = _toy_data(30, seed=1)[0]
    loud = held * np.exp(rng.normal(0, 1.0, (30, C, 1))).astype(np.float32)
    assert kde_score(X, held, sfreq=SFREQ) > kde_score(X, loud, sfreq=SFREQ) + 1.0


def test_generator_flops_match_layer_arithmetic():
    n_bins = 101
    two = generator_flops("two_branch", C, n_bins)
    assert two["per_sample"] == 2 * C * 2 * n_bins * n_bins  # two (bins x bins) matmuls per channel
    gru = generator_flops("gru", C, n_bins)
    assert gru["per_sample"] == 2 * 2 * 6 * C * C * n_bins  # 2 branches, 2 FLOPs/MAC, 3 gates x 2 matmuls
    assert generator_flops("one_branch", C, n_bins)["per_sample"] == 2 * two["per_sample"]


# --------------------------------------------------------------------------- notebooks
@pytest.mark.notebook
def test_notebook_20_method(run_notebook):
    r = run_notebook("20_frequency_mask_method")
    acc = r["accuracy"]["eegnet"]
    assert acc["ours"]["group"]["rs"] < acc["ours"]["group"]["rn"] - 0.1
    assert r["band_auc"]["eegnet"]["ours"]["mean"] > 0.65
    assert r["band_auc"]["eegnet"]["ours"]["mean"] > r["band_auc"]["eegnet"]["random"]["mean"] + 0.1
    # easyPEASI's instance-level cost: one pass per channel x band, plus the unperturbed one
    assert r["n_forward"]["eegnet"]["easypeasi_per_sample"] == 62 * 10 + 1
    # easyPEASI runs on the mask's segments: same count (and so the same subjects)
    assert r["n_forward"]["eegnet"]["easypeasi_instance"] == r["n_explained"]["eegnet"] * 621
    auc = r["band_auc"]["eegnet"]
    assert auc["oracle"]["mean"] == 1.0 and auc["random"]["mean"] < 0.8
    assert {"easypeasi_sample_prob", "easypeasi_dataset_logit", "easypeasi_sample_abs"} <= set(auc)
    assert set(r["degenerate"]["eegnet"]) >= {"ours", "random", "oracle"}
    assert r["n_positive"]["components"] > 0
    # early stopping per sample ran fewer epochs than the budget on average
    assert r["n_forward"]["eegnet"]["ours_epochs_mean"] < r["n_forward"]["eegnet"]["ours_budget"]


def test_notebook_20_exercises_follow_the_convention():
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "20_frequency_mask_method.ipynb").read_text())
    cells = nb["cells"]
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "".join(c["source"]).strip() == "## Exercises")
    rest = cells[start + 1 :]
    tags = [tuple(c.get("metadata", {}).get("tags", [])) for c in rest]
    assert 3 <= len(rest) // 2 <= 5 and len(rest) % 2 == 0
    assert tags == [("exercise",), ("solution",)] * (len(rest) // 2)
    for c in rest:
        src = "".join(c["source"])
        if c["cell_type"] == "markdown":
            assert "Predict before you run" in src
        else:
            assert "nb.record" not in src and "savefig" not in src
    assert all("## Exercises" not in "".join(c["source"]) for c in cells[:start])


@pytest.mark.notebook
def test_notebook_21_experiments(run_notebook):
    r = run_notebook("21_frequency_mask_experiments")
    loso = r["loso_accuracy"]
    assert np.mean([v["rs"] for v in loso.values()]) < np.mean([v["rn"] for v in loso.values()])
    assert set(r["kde_score"]) >= {"0.05", "0"} and all(np.isfinite(v) for v in r["kde_score"].values())
    assert set(r["lambda_sweep"]) >= {"original", "complex", "logpower"}
    d = r["alignment_diagnostic"]
    # the complex alignment's minimiser (the cluster mean spectrum) carries a small share of the power
    assert d["mean_power_ratio"] < 0.2 and d["L_sample"] > 1.5 * d["L_zero"] and d["logpower_zero"] > d["logpower_sample"]
    es = r["early_stopping"]
    assert es["on"]["epochs_mean"] <= es["off"]["epochs_mean"]
    assert set(r["ablation"]) == {"full", "no_l1", "one_branch", "gru"}
    assert r["flops"]["gru"]["per_sample"] > 0 and r["flops"]["two_branch"]["per_sample"] > 0


def test_kde_feature_spaces():
    X, _ = _toy_data(40)
    held = _toy_data(20, seed=2)[0]
    assert np.isfinite(kde_score(X, held, sfreq=SFREQ, features="time"))
    with pytest.raises(ValueError, match="features"):
        kde_score(X, held, sfreq=SFREQ, features="wavelet")


# --------------------------------------------------------------------------- experiment helpers
def test_band_auc_by_subject_and_channel_select():
    from eegnb.experiments.frequency_mask import ChannelSelect, band_auc_by_subject, random_maps

    truth = np.zeros((C, 10))
    truth[CH, BAND] = truth[CH + 1, BAND] = 1
    subj = np.repeat([1, 2, 3], 4)
    perfect = np.broadcast_to(truth, (12, C, 10)) + 0.01 * random_maps((12, C, 10), 0)
    a = band_auc_by_subject(perfect, truth, subj)
    assert a["mean"] == 1.0 and set(a["per_subject"]) == {1, 2, 3} and a["sem"] == 0.0
    r = band_auc_by_subject(random_maps((12, C, 10), 1), truth, subj)
    assert 0.1 < r["mean"] < 0.9 and r["sem"] > 0
    # the wrapper lets a model trained on a channel subset or order take the full montage
    wrapped = ChannelSelect(PhaseBandModel(), list(range(C)), C)
    X, _ = _toy_data(4)
    torch.testing.assert_close(wrapped(torch.as_tensor(X)), PhaseBandModel()(torch.as_tensor(X)))
