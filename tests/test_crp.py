"""CRP on EEGNet filters (eegnb.explain.crp), and the CRP notebooks in quick mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from eegnb.explain import crp, lrp
from eegnb.models import build

SFREQ, N_CH, N_T = 160.0, 6, 320
PLANTED = dict(channels=["C3", "C4"], bands=[(8.0, 14.5), (18.0, 26.0)])


@pytest.fixture(scope="module")
def model():
    m = build("eegnet", N_CH, N_T, 2, sfreq=SFREQ, seed=1, F1=4, D=2, F2=6).eval()
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
            mod.bias.data.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
    return m


@pytest.fixture(scope="module")
def X():
    return torch.randn(5, N_CH, N_T, generator=torch.Generator().manual_seed(2)) * 5


def test_concept_layer(model):
    assert crp.concept_layer(model) == "net.conv_separable_point"
    with pytest.raises(ValueError, match="no layer"):
        crp.concept_heatmaps(model, torch.zeros(1, N_CH, N_T), layer="nope")


@pytest.mark.parametrize("rule", ["epsilon_plus", "epsilon"])
def test_filter_heatmaps_sum_to_unconditioned(model, X, rule):
    cr = crp.filter_relevance(model, X, rule=rule)
    H = crp.concept_heatmaps(model, X, rule=rule)
    assert H.shape == (5, 6, N_CH, N_T)  # channel x time kept, not summed over electrodes
    assert cr.heatmap.shape == (5, N_CH, N_T) and cr.filter_relevance.shape == (5, 6)
    np.testing.assert_allclose(H.sum(1), cr.heatmap, rtol=1e-3, atol=1e-5 * np.abs(cr.heatmap).max())
    # the unconditioned heatmap is the plain LRP map of the same composite
    ref = lrp.lrp_relevance(model, X, cr.target, lrp.make_composite(rule, model=model))
    np.testing.assert_allclose(cr.heatmap, ref, rtol=1e-3, atol=1e-5 * np.abs(ref).max())
    # filters differ: conditional maps are not copies of one another
    assert np.abs(H[:, 0] - H[:, 1]).max() > 1e-3 * np.abs(H).max()


def test_filter_relevance_is_class_conditional(model, X):
    r0 = crp.filter_relevance(model, X, 0).filter_relevance
    r1 = crp.filter_relevance(model, X, 1).filter_relevance
    assert not np.allclose(r0, r1)


def test_concept_spectra_conserve_heatmaps(model, X):
    S, H = crp.concept_spectra(model, X[:2], filters=[0, 3], rule="epsilon", return_heatmaps=True)
    assert S.shape == (2, 2, N_CH, N_T // 2 + 1) and H.shape == (2, 2, N_CH, N_T)
    np.testing.assert_allclose(S.sum(-1), H.sum(-1), rtol=1e-3, atol=1e-6)
    H2 = crp.concept_heatmaps(model, X[:2], filters=[0, 3], rule="epsilon")
    np.testing.assert_allclose(H, H2, rtol=1e-3, atol=1e-6)


def test_relevance_maximization_picks_most_relevant_samples(model, X):
    ref = crp.relevance_maximization(model, X, n_ref=3, filters=[0, 2, 5])
    assert ref.indices.shape == (3, 3) and ref.relevance.shape == (3, 3)
    fr = crp.filter_relevance(model, X).filter_relevance
    normed = fr / (np.abs(fr).sum(1, keepdims=True) + 1e-10)
    for j, f in enumerate([0, 2, 5]):
        np.testing.assert_array_equal(ref.indices[:, j], np.argsort(-normed[:, f])[:3])
        np.testing.assert_allclose(ref.relevance[:, j], normed[ref.indices[:, j], f], rtol=1e-3, atol=1e-6)
        assert ref.heatmaps[f].shape == (3, N_CH, N_T)


def test_relevance_shares_and_prepare():
    from eegnb.data import EEGData
    from eegnb.experiments import crp as paper3

    ch = ["C3", "C4", "Fz", "Pz"]
    freqs = np.arange(0, 41.0)
    spec = np.zeros((2, 4, len(freqs)))
    spec[:, 0, 10] = 1.0  # all positive relevance on C3 at 10 Hz
    spec[:, 2, 2] = -5.0  # negative relevance does not count
    sh = paper3.relevance_shares(spec, freqs, ch, channels=["C3", "C4"], bands=[(8.0, 14.5), (18.0, 26.0)])
    assert sh["channel_share"] == pytest.approx(1.0) and sh["band_share"] == pytest.approx(1.0)
    assert sh["channel_uniform"] == pytest.approx(0.5) and 0 < sh["band_uniform"] < 1

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4, 640)).astype(np.float32) * 20
    raw = EEGData(X=X, y=np.array([0, 1] * 3), subject=np.array([1, 1, 1, 2, 2, 2]), sfreq=160.0, ch_names=ch)
    p = paper3.prepare(raw, sfreq=80.0, tmin=0.5, tmax=3.5)
    assert p.X.shape == (6, 4, 240) and p.sfreq == 80.0
    for s in (1, 2):  # standardised per subject and channel
        np.testing.assert_allclose(p.X[p.subject == s].std((0, 2)), 1.0, rtol=1e-3)
    with pytest.raises(ValueError, match="outside"):
        paper3.prepare(raw, tmin=3.0, tmax=5.0)


def test_bad_filters_and_n_ref_raise(model, X):
    for fn in (crp.concept_heatmaps, crp.concept_spectra):
        with pytest.raises(ValueError, match=r"filters must lie in \[0, 6\)"):
            fn(model, X[:1], filters=[6])
    with pytest.raises(ValueError, match="filters must lie"):
        crp.relevance_maximization(model, X, filters=[-1])
    with pytest.raises(ValueError, match="n_ref"):
        crp.relevance_maximization(model, X, n_ref=0)


def _fake_concepts():
    """Two models x three filters with known relevance: filter 0 on C3 at 10 Hz, filter 1 on Fz
    at 2 Hz, filter 2 on C4 at 20 Hz (explained class 1 only for the second half of samples)."""
    from eegnb.experiments.crp import FoldConcepts

    ch = ["C3", "C4", "Fz", "Pz"]
    freqs = np.fft.rfftfreq(160, 1 / 80.0)  # 0..40 Hz in 0.5 Hz bins
    folds = []
    for f in range(2):
        S = np.zeros((4, 3, 4, len(freqs)), np.float32)
        S[:, 0, 0, np.searchsorted(freqs, 10.0)] = 3.0
        S[:, 1, 2, np.searchsorted(freqs, 2.0)] = 1.0
        S[:, 2, 1, np.searchsorted(freqs, 20.0)] = 2.0
        pred = np.array([0, 0, 1, 1])
        folds.append(FoldConcepts(np.arange(4) + 4 * f, pred, pred, freqs, S, S.sum(1).sum(-1)[..., None]))
    table = pd.DataFrame(dict(fold=[0, 1], test_subject=[7, 8]))
    return folds, table, ch


def test_filter_table_descriptors_and_band_topographies():
    from eegnb.experiments import crp as paper3

    folds, table, ch = _fake_concepts()
    ft = paper3.filter_table(folds, table, ch, class_names=["left", "right"])
    meta = ft["meta"]
    assert len(meta) == 6 and list(meta["test_subject"]) == [7, 7, 7, 8, 8, 8]
    assert ft["descriptors"].shape == (6, 4 + 40) and ft["spectral"].shape == (6, 40)
    np.testing.assert_allclose(np.abs(ft["spatial"]).sum(1), 1.0, rtol=1e-6)  # L1-normalised
    np.testing.assert_allclose(np.abs(ft["spectral"]).sum(1), 1.0, rtol=1e-6)
    assert ft["spatial"][0].argmax() == 0 and ft["spatial"][2].argmax() == 1  # C3, C4
    assert ft["hz"][ft["spectral"][0].argmax()] == pytest.approx(10.5)  # the 10-11 Hz bin
    np.testing.assert_allclose(meta.groupby("fold")["share"].sum(), 1.0)
    np.testing.assert_allclose(meta["share"][:3], [0.5, 1 / 6, 1 / 3])
    np.testing.assert_allclose(meta["relevance_left"][:3], [3.0, 1.0, 2.0])
    # bands: 10 Hz -> alpha, 2 Hz -> delta, 20 Hz -> beta; per class the same here
    bt = ft["band_topo"]
    assert bt.shape == (6, 4, 5) and ft["band_names"][int(bt[0, 0].argmax())] == "alpha"
    assert ft["band_names"][int(bt[1, 2].argmax())] == "delta" and ft["band_names"][int(bt[2, 1].argmax())] == "beta"
    assert ft["band_topo_class"].shape == (6, 2, 4, 5)
    np.testing.assert_allclose(ft["band_topo_class"][:, 0], bt)


def test_cluster_summary_coverage_and_planted_shares():
    from eegnb.experiments import crp as paper3

    folds, table, ch = _fake_concepts()
    ft = paper3.filter_table(folds, table, ch, class_names=["left", "right"])
    clusters = ft["meta"].assign(cluster=[0, 1, 0, 0, -1, 0])  # C3/C4 mu-beta filters of both models
    ct = paper3.cluster_summary(clusters, ft, n_folds=2, **PLANTED).set_index("cluster")
    assert ct.loc[0, "n_filters"] == 4 and ct.loc[0, "coverage"] == 1.0 and ct.loc[0, "subjects"] == [7, 8]
    assert ct.loc[1, "coverage"] == 0.5 and ct.loc[1, "n_subjects"] == 1
    assert ct.loc[0, "channel_share"] == pytest.approx(1.0) and ct.loc[0, "band_share"] == pytest.approx(1.0)
    assert ct.loc[1, "channel_share"] == pytest.approx(0.0) and ct.loc[1, "band_share"] == pytest.approx(0.0)


@pytest.mark.parametrize("subjects,expected", [([7, 8], ["S7", "S8"]), ([1, 1], ["fold 0", "fold 1"])])
def test_recurrence_plots_name_models_by_subject_or_fold(subjects, expected):
    """LOSO models are named by their held-out subject; within-subject folds of one subject by fold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eegnb.experiments import crp as paper3
    from eegnb.plots import crp as plots

    folds, table, ch = _fake_concepts()
    table["test_subject"] = subjects
    ft = paper3.filter_table(folds, table, ch, class_names=["left", "right"])
    clusters = ft["meta"].assign(cluster=[0, 1, 0, 0, -1, 0], umap_x=np.arange(6.0), umap_y=np.arange(6.0) ** 2)
    ct = paper3.cluster_summary(clusters, ft, n_folds=2, **PLANTED)
    fig = plots.plot_cluster_recurrence(clusters, ct)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == expected
    plt.close(fig)
    fig = plots.plot_filter_umap(clusters)
    assert len(fig.axes[1].get_legend().get_texts()) == 2
    plt.close(fig)


def test_crp_completeness_is_exact_without_biases_and_reports_the_leak(model, X):
    """Filter relevances at the concept layer sum to the explained logit when no bias absorbs any;
    with the fixture's BatchNorm biases the diagnostic shows a leak (it does not hide it)."""
    from eegnb.experiments import crp as paper3

    for target in (0, 1):  # the denominator is the explained class's logit, not another class's
        d = paper3.crp_diagnostics(model, X, target, rules=("epsilon",), zero_params="bias")
        np.testing.assert_allclose(d["completeness"], 1.0, rtol=1e-3)
        np.testing.assert_allclose(d["conservation"], 1.0, rtol=1e-3)
    d = paper3.crp_diagnostics(model, X, 0, rules=("epsilon", "alphabeta"))
    assert set(d["rule"]) == {"epsilon", "alphabeta"} and len(d) == 2 * len(X)
    assert np.abs(d["conservation"] - 1).max() > 1e-3  # biases absorb relevance: measured, not assumed


def test_planted_channels_and_bands_come_from_the_data():
    from eegnb.data import EEGData
    from eegnb.experiments import crp as paper3

    ch = ["C3", "C4", "Cz", "Pz", "O1"]
    X = np.zeros((2, 5, 160), np.float32)
    freqs = np.fft.rfftfreq(160, 1 / 80.0)
    tf = np.zeros((5, len(freqs)))
    tf[:2, (freqs >= 8) & (freqs <= 12)] = 1.0
    tf[0, (freqs >= 20) & (freqs <= 24)] = 0.5
    d = EEGData(X=X, y=np.array([0, 1]), subject=np.array([1, 1]), sfreq=80.0, ch_names=ch, truth_freq=tf,
                info={"planted": {"channels": ["O1"], "weights": {"O1": 1.0, "Pz": 0.3, "Cz": 0.1}}})
    assert paper3.planted_channels(d) == ["O1", "Pz"]  # weight >= 0.2, from info, not a fixed list
    assert paper3.planted_bands(d) == [(8.0, 12.0), (20.0, 24.0)]
    d2 = EEGData(X=X, y=np.array([0, 1]), subject=np.array([1, 1]), sfreq=80.0, ch_names=ch)
    assert paper3.planted_channels(d2) == ["C3", "C4"]  # real data: the motor expectation
    assert paper3.planted_bands(d2) == paper3.MOTOR_EXPECTATION_BANDS


def test_functional_groups_from_montage_positions():
    from eegnb.experiments import crp as paper3

    ch = ["Fz", "C3", "T8", "Pz", "O1", "PO8", "FC4", "CP5", "Fp1", "xyz"]
    g = paper3.functional_groups(ch).set_index("channel")
    expect = {"Fz": "frontal midline", "C3": "central left", "T8": "temporal right", "Pz": "parietal midline",
              "O1": "occipital left", "PO8": "occipital right", "FC4": "central right", "CP5": "central left",
              "Fp1": "frontal left"}
    assert g.loc[list(expect), "group"].to_dict() == expect
    assert pd.isna(g.loc["xyz", "group"])
    maps = np.zeros((2, 9))
    maps[0, 1] = 2.0  # all positive relevance on C3
    maps[1, 2], maps[1, 0], maps[1, 3] = 1.0, 3.0, -5.0  # T8 1, Fz 3, negative Pz ignored
    sh = paper3.group_shares(maps, g.iloc[:9].reset_index())
    assert sh.loc[0, "central left"] == pytest.approx(1.0) and sh.loc[1, "frontal midline"] == pytest.approx(0.75)
    assert sh.loc[1, "temporal right"] == pytest.approx(0.25) and sh.loc[1, "parietal midline"] == 0.0
    np.testing.assert_allclose(sh.sum(1), 1.0)


def test_planted_share_is_per_sample_not_of_the_averaged_pattern():
    from eegnb.experiments import crp as paper3

    ch, freqs = ["C3", "Fz", "Pz"], np.array([10.0, 30.0])
    S = np.zeros((2, 3, 2))
    S[0, 0, 0], S[0, 1, 0] = 2.0, 2.0  # half on the planted C3
    S[1, 1, 0], S[1, 2, 0] = -2.0, 1.0  # nothing positive on C3
    ps = paper3.per_sample_planted_shares(S, freqs, ch, channels=["C3"], bands=[(8, 12)])
    np.testing.assert_allclose(ps["channel"], [0.5, 0.0])  # the averaged pattern would give 2/3
    np.testing.assert_allclose(ps["band"], [1.0, 1.0])
    assert ps["channel_uniform"] == pytest.approx(1 / 3) and ps["band_uniform"] == pytest.approx(0.5)
    sh = paper3.relevance_shares(S, freqs, ch, channels=["C3"], bands=[(8, 12)])
    assert sh["channel_share"] == pytest.approx(0.25)


def _pools(n_models=3, n=10, F=2, ch=4, n_hz=6, C=2):
    """Fake common-pool CRP: filter 0 is most relevant for class 0 on pool sample 3 (pattern on channel
    0) and for class 1 on sample 7 (pattern on channel 1); filter 1 uniform."""
    pools = []
    for _m in range(n_models):
        pm = []
        for c in range(C):
            rel = np.full((n, F), 0.1)
            spatial = np.full((n, F, ch), 0.1)
            spectral = np.full((n, F, n_hz), 0.1)
            s = 3 if c == 0 else 7
            rel[s, 0] = 5.0
            spatial[s, 0, c] = 10.0
            spectral[s, 0, 2 + c] = 10.0
            pm.append(dict(rel=rel, spatial=spatial, spectral=spectral, band_topo=np.zeros((n, F, ch, 5)),
                           hz=np.arange(n_hz) + 0.5))
        pools.append(pm)
    return pools


def test_pool_filter_table_relevance_maximisation_per_class():
    from eegnb.experiments import crp as paper3

    tab = paper3.pool_filter_table(_pools(), pd.DataFrame(dict(fold=[0, 1, 2], test_subject=[1, 2, 3])),
                                   ["C3", "C4", "Fz", "Pz"], ["left", "right"], fraction=0.1)
    D = tab["descriptors"]
    assert D.shape == (6, 2 * (4 + 6)) and tab["top_index"].shape == (6, 2, 1)
    assert tab["top_index"][0, 0, 0] == 3 and tab["top_index"][0, 1, 0] == 7  # the most relevant sample per class
    assert D[0, :4].argmax() == 0 and D[0, 10:14].argmax() == 1  # class 0 block on C3, class 1 block on C4
    assert D[0, 4:10].argmax() == 2 and D[0, 14:20].argmax() == 3
    np.testing.assert_allclose(tab["meta"]["relevance_left"][0], 5.0)
    with pytest.raises(ValueError, match="fraction"):
        paper3.pool_filter_table(_pools(), pd.DataFrame(dict(fold=[0], test_subject=[1])), ["a"] * 4, ["l", "r"],
                                 fraction=0.0)


def test_neighbour_share_and_recurrence_against_chance():
    from eegnb.experiments import crp as paper3

    rng = np.random.default_rng(0)
    models = np.repeat(np.arange(4), 5)
    by_model = np.eye(4)[models] * 10 + rng.normal(size=(20, 4)) * 0.01 + 1  # descriptors tell models apart
    by_type = np.eye(5)[np.tile(np.arange(5), 4)] * 10 + rng.normal(size=(20, 5)) * 0.01 + 1  # same types in every model
    own, chance = paper3.neighbour_own_share(by_model, models, k=4)
    np.testing.assert_allclose(own, 1.0) and np.testing.assert_allclose(chance, 4 / 19)
    own2, _ = paper3.neighbour_own_share(by_type, models, k=3)
    assert own2.mean() < 0.1
    # recurrence: clusters that each hold one filter of every model, vs clusters that are models
    per_type = pd.DataFrame(dict(fold=models, cluster=np.tile(np.arange(5), 4)))
    per_model = pd.DataFrame(dict(fold=models, cluster=models))
    r1 = paper3.recurrence_test(per_type, n_perm=300, seed=0)
    r2 = paper3.recurrence_test(per_model, n_perm=300, seed=0)
    assert r1["observed"] == 1.0 and r1["p"] < 0.05 and r1["chance_mean"] < 1.0
    assert r2["observed"] == 0.25 and r2["p"] > 0.5
    assert r1["nmi"] == pytest.approx(0.0, abs=1e-9) and r1["p_model_tied"] > 0.5
    assert r2["nmi"] == pytest.approx(1.0) and r2["p_model_tied"] < 0.05
    noise = paper3.recurrence_test(per_type.assign(cluster=-1), n_perm=10)
    assert noise["n_clusters"] == 0 and np.isnan(noise["observed"])


def test_reference_overlap():
    from eegnb.experiments import crp as paper3

    same = paper3.reference_overlap(np.array([[0, 0, 0], [1, 1, 1]]), 20)
    apart = paper3.reference_overlap(np.array([[0, 2, 4], [1, 3, 5]]), 20)
    assert same["observed"] == 1.0 and apart["observed"] == 0.0 and same["chance"] == pytest.approx(0.1)


@pytest.mark.notebook
def test_notebook_30_crp_concepts(run_notebook):
    rec = run_notebook("30_crp_concepts")
    assert len(rec["acc_per_fold"]) == 2
    assert rec["mean_acc"] > 0.7  # the planted ERD is learnable across subjects
    # the hand-written conditioning loop is CRP, and the filters' maps decompose the LRP map
    assert rec["hood_vs_zennit_crp"] < 1e-4 and rec["hood_sum_vs_lrp"] < 1e-3
    # completeness: filter relevances sum to the logit up to the bias leak, which is reported
    assert 0.9 < rec["completeness_epsilon"]["mean"] < 1.1 and rec["completeness_max_leak"] >= 0
    assert rec["n_clusters"] >= 1 and rec["n_filters"] == rec["n_models"] * 16
    # per trial, filters put more positive relevance on the planted channels and bands than a random map
    assert rec["filter_channel_share"]["lo"] > rec["random_channel_share"]["hi"]
    assert rec["filter_band_share"]["lo"] > rec["random_band_share"]["hi"]
    assert rec["oracle_channel_share"]["mean"] > rec["filter_channel_share"]["mean"]
    # common-pool descriptors tell models apart less than own-subject ones
    assert rec["own_neighbours_pool"]["mean"] < rec["own_neighbours_own"]["mean"]
    assert rec["reference_overlap"] < 1.0


@pytest.mark.parametrize("task", ["auditory", "attention"])
def test_task_layouts_load_like_motor(task):
    """Every paper-3 task gives about the configured windows per subject and its own planted sites."""
    from eegnb.experiments import crp as paper3

    cfg = paper3.CRPConfig.quick()
    data = paper3.load_data("sim", config=cfg, seed=0, task=task)
    per_subject = len(data) / len(data.subjects)
    assert abs(per_subject - cfg.n_trials) <= 3, per_subject
    assert data.info["layout"] == paper3.TASK_LAYOUTS[task]
    planted = set(data.info["planted"]["channels"])
    assert planted and not planted & {"C3", "C4"}
