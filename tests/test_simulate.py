"""simulate(): shapes, determinism, planted truth, label independence outside the truth."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import welch

from eegnb.data import LAYOUTS, MODALITY_EVIDENCE, calibrate_hypnogram, effect_size, simulate
from eegnb.data.layouts import DEAP_CHANNELS, SEED_CHANNELS, position_array
from eegnb.data.simulate import TRANSITIONS_CSV, load_transitions, simulate_hypnogram

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXPECTED = {  # layout: (n_chans, n_times, sfreq, n_classes)
    "deap": (32, 512, 128.0, 2),
    "seed": (62, 400, 200.0, 2),
    "eegbci": (64, 640, 160.0, 2),
    "sleep-edf": (3, 3000, 100.0, 5),
}


@pytest.fixture(scope="module")
def sims():
    return {lay: simulate(lay, n_subjects=3, seed=0, quick=True) for lay in EXPECTED}


@pytest.mark.parametrize("layout", list(EXPECTED))
def test_shapes_and_fields(sims, layout):
    d = sims[layout]
    ch, t, sf, k = EXPECTED[layout]
    assert (d.n_chans, d.n_times, d.sfreq, d.n_classes) == (ch, t, sf, k)
    assert d.ch_names == LAYOUTS[layout].ch_names
    assert d.truth.shape == d.X.shape and d.truth.dtype == np.float32
    assert 0 <= d.truth.min() and d.truth.max() == 1.0
    assert d.truth_freq.shape == (ch, t // 2 + 1) and d.truth_freq.max() == 1.0
    assert np.isfinite(d.X).all() and d.X.std() > 1  # microvolts
    assert d.subjects.tolist() == [1, 2, 3]
    assert {"subject", "onset"} <= set(d.meta.columns)
    assert d.info["layout"] == layout and d.info["unit"] == "uV"
    counts = np.bincount(d.y, minlength=k)
    assert counts.min() > 0  # every class present


def test_channel_names_and_positions():
    assert len(DEAP_CHANNELS) == 32 and DEAP_CHANNELS[:4] == ["Fp1", "AF3", "F3", "F7"]
    assert len(SEED_CHANNELS) == 62 and SEED_CHANNELS[-1] == "CB2"
    pos = position_array(SEED_CHANNELS)
    cb1, o1 = pos[SEED_CHANNELS.index("CB1")], pos[SEED_CHANNELS.index("O1")]
    assert cb1[2] < o1[2] - 0.02  # approximated below O1


def test_deterministic_and_subject_stable():
    a = simulate("eegbci", n_subjects=2, seed=3, quick=True)
    b = simulate("eegbci", n_subjects=2, seed=3, quick=True)
    c = simulate("eegbci", n_subjects=3, seed=3, quick=True)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.fingerprint() == b.fingerprint()
    # subject 1's data do not depend on how many subjects are simulated
    np.testing.assert_array_equal(a.by_subject(1).X, c.by_subject(1).X)
    assert simulate("eegbci", n_subjects=2, seed=4, quick=True).fingerprint() != a.fingerprint()


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown layout"):
        simulate("bci4", n_subjects=1)
    with pytest.raises(ValueError, match="difficulty"):
        simulate("deap", n_subjects=1, difficulty=1.5)
    with pytest.raises(ValueError, match="n_subjects"):
        simulate("deap", n_subjects=0)
    with pytest.raises(ValueError, match="label"):
        simulate("deap", n_subjects=1, label="dominance")
    assert effect_size("deap", 0.0) > effect_size("deap", 0.5) > effect_size("deap", 1.0) > 0


def _band_logpower(d, chans, band, tsl=slice(None)):
    ix = [d.ch_names.index(c) for c in chans]
    f, P = welch(d.X[:, ix, tsl], d.sfreq, nperseg=min(d.n_times, int(d.sfreq)), axis=-1)
    return np.log(P[..., (f >= band[0]) & (f <= band[1])].mean(-1)).mean(-1)


def test_seed_evidence_only_where_truth_says():
    d = simulate("seed", n_subjects=3, seed=0, quick=True, difficulty=0.0)
    planted = _band_logpower(d, ["T7", "T8", "TP7", "TP8"], (16, 45))
    far = _band_logpower(d, ["FZ", "PZ", "O1", "O2"], (16, 45))
    gap = planted[d.y == 1].mean() - planted[d.y == 0].mean()
    gap_far = far[d.y == 1].mean() - far[d.y == 0].mean()
    assert gap > 0.8  # positive: more beta/gamma over lateral temporal channels
    # new contract: the far channels get a little of the dipoles' field (truth < 0.05 there),
    # which at difficulty 0 (in-band SNR 6) is visible, but much weaker
    assert d.truth[:, [d.ch_names.index(c) for c in ["FZ", "PZ", "O1", "O2"]]].max() < 0.05
    assert abs(gap_far) < 0.5 * gap
    tch = d.truth.max(axis=(0, 2)) > 0
    # new contract (lead field): graded weights spread from the dipoles under T7/T8
    assert {d.ch_names[i] for i in np.flatnonzero(tch)} >= {"T7", "T8", "TP7", "TP8"}
    assert set(d.info["planted"]["channels"]) == {"T7", "T8"}  # truth >= 0.5
    assert (d.truth[:, tch] > 0).all()  # whole segment


def test_eegbci_contralateral_erd_in_window():
    d = simulate("eegbci", n_subjects=3, seed=0, quick=True, difficulty=0.0)
    win = slice(int(1.0 * d.sfreq), int(3.0 * d.sfreq))
    c3 = _band_logpower(d, ["C3"], (8, 14), win)
    c4 = _band_logpower(d, ["C4"], (8, 14), win)
    lat = c3 - c4  # right hand (1): C3 desynchronises -> lower
    assert lat[d.y == 1].mean() < lat[d.y == 0].mean() - 1.0
    # before the cue window (first 0.25 s) the truth is ~0 and there is no class difference
    assert d.truth[:, :, : int(0.2 * d.sfreq)].max() < 0.05
    assert d.truth[:, d.ch_names.index("Oz")].max() == 0
    assert set(d.info["planted"]["channels"]) == {"C3", "C4"}  # truth >= 0.5


@pytest.mark.parametrize("label", ["arousal", "valence"])
def test_deap_label_choice_and_time_localised_truth(label):
    d = simulate("deap", n_subjects=2, seed=0, quick=True, label=label)
    assert {"valence", "arousal"} <= set(d.meta.columns)
    np.testing.assert_array_equal(d.y, d.meta[label].to_numpy())
    tch = {d.ch_names[i] for i in np.flatnonzero(d.truth.max(axis=(0, 2)) > 0)}
    assert tch == set(d.info["planted"]["weights"])
    # new contract (lead field): the dipoles' projection, not a fixed channel list
    assert set(d.info["planted"]["channels"]) == (
        {"F7", "T7", "F8", "FC6", "T8"} if label == "arousal" else {"AF3", "F3", "AF4", "F4", "Fp2"})
    active = (d.truth.max(axis=1) > 0).sum(-1) / d.sfreq  # seconds of evidence per sample
    assert 0.5 <= active.min() and active.max() <= 1.1
    onsets = d.meta["burst_onset"].to_numpy()
    assert onsets.std() > 0.3  # window moves between segments


def test_deap_arousal_beta_theta_balance():
    d = simulate("deap", n_subjects=3, seed=1, quick=True, difficulty=0.0)
    chans = ["F7", "F8", "T7", "T8"]
    ratio = _band_logpower(d, chans, (18, 25)) - _band_logpower(d, chans, (5, 7))
    assert ratio[d.y == 1].mean() > ratio[d.y == 0].mean() + 0.3


def test_spatial_correlation_and_subject_clusters():
    d = simulate("deap", n_subjects=4, seed=0, quick=True)
    pos = position_array(d.ch_names)
    C = np.corrcoef(d.X.transpose(1, 0, 2).reshape(d.n_chans, -1))
    D = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    near, far = C[(D > 0) & (D < 0.04)].mean(), C[D > 0.1].mean()
    assert near > 0.5 and far < 0.3 and near > far + 0.3
    from sklearn.metrics import silhouette_score

    feats = np.log(d.X.var(-1))
    assert silhouette_score(feats, d.subject) > 0.3  # subjects form clusters
    f, P = welch(d.X, d.sfreq, nperseg=256, axis=-1)
    Pm = P.mean((0, 1))
    # alpha peak above the aperiodic fit (new contract: alpha is weak, calibrated to EEGBCI
    # S001, so the raw spectrum need not peak in 7-13 Hz; the excess over 1/f must)
    from eegnb.data.realism import aperiodic_fit

    slope, icpt = aperiodic_fit(f, Pm)
    band = (f >= 7) & (f <= 13)
    excess = Pm[band] / 10 ** (icpt + slope * np.log10(f[band]))
    assert 8 <= f[band][np.argmax(excess)] <= 12.5 and excess.max() > 1.1
    assert Pm[np.argmin(abs(f - 5))] > Pm[np.argmin(abs(f - 40))] * 5  # 1/f


def test_sleep_layout_meta_and_modalities(sims):
    d = sims["sleep-edf"]
    assert d.ch_types == ["eeg", "eog", "emg"]
    assert d.info["modality_evidence"] == MODALITY_EVIDENCE
    assert MODALITY_EVIDENCE["REM"] == "eog" and MODALITY_EVIDENCE["N3"] == "eeg"
    eff = d.info["planted_effects"]
    assert list(eff.columns) == ["stage", "modality", "covariate", "sign", "description"]
    assert {"age", "sex", "medication"} <= set(eff["covariate"])
    assert {"night", "age", "sex", "medication", "stage"} <= set(d.meta.columns)
    per = d.meta.groupby("subject")["medication"].agg(lambda s: sorted(set(s)))
    assert all(v == ["placebo", "temazepam"] for v in per)
    # truth lies in the channel of each stage's dominant modality
    for k, stage in enumerate(d.class_names):
        ch = d.ch_types.index(MODALITY_EVIDENCE[stage])
        tr = d.truth[d.y == k]
        assert tr[:, ch].sum() > 0
        assert np.delete(tr, ch, axis=1).sum() == 0


def test_sleep_signatures_and_covariate_effects():
    d = simulate("sleep-edf", n_subjects=6, seed=0, quick=True, difficulty=0.0)
    st = np.array(d.class_names)[d.y]
    f, P = welch(d.X, d.sfreq, nperseg=400, axis=-1)

    def band(ch, lo, hi):
        return np.log(P[:, ch, (f >= lo) & (f <= hi)].mean(-1))

    delta, emg = band(0, 0.5, 2), band(2, 15, 45)
    assert delta[st == "N3"].mean() > delta[st == "W"].mean() + 1.0
    assert emg[st == "W"].mean() > emg[st == "REM"].mean() + 1.0
    # age lowers N3 delta power: negative correlation across N3 epochs
    n3 = st == "N3"
    age = d.meta["age"].to_numpy()
    assert np.corrcoef(age[n3], delta[n3])[0, 1] < -0.2
    # temazepam lowers REM eye-movement amplitude (EOG)
    rem = st == "REM"
    eog_amp = np.log(np.abs(d.X[:, 1]).mean(-1))
    tem = (d.meta["medication"] == "temazepam").to_numpy()
    assert eog_amp[rem & tem].mean() < eog_amp[rem & ~tem].mean()


def test_transition_table_and_hypnogram():
    P, stats = load_transitions()
    assert P.shape == (3, 5, 5) and np.allclose(P.sum(-1), 1)
    assert stats["n_nights"] == 20 and 800 < stats["mean_epochs"] < 1300
    rng = np.random.default_rng(0)
    hyps = [simulate_hypnogram(rng, 1050, P) for _ in range(20)]
    prop = np.bincount(np.concatenate(hyps), minlength=5) / (20 * 1050)
    # Sleep-EDF-20 proportions: W ~0.2, N1 ~0.07, N2 ~0.42, N3 ~0.13, REM ~0.18
    assert 0.3 < prop[2] < 0.55 and prop[2] == prop.max()
    assert 0.03 < prop[1] < 0.15 and 0.05 < prop[3] < 0.25 and 0.1 < prop[4] < 0.3
    assert all(h[0] == 0 for h in hyps)  # nights start awake
    first, last = np.concatenate([h[:350] for h in hyps]), np.concatenate([h[-350:] for h in hyps])
    assert (first == 3).mean() > (last == 3).mean()  # N3 early in the night
    assert (last == 4).mean() > (first == 4).mean()  # REM late
    df = pd.read_csv(TRANSITIONS_CSV, comment="#")
    assert set(df["from"]) == {"W", "N1", "N2", "N3", "REM"}


@pytest.mark.realdata
def test_calibrate_hypnogram_on_real_files():
    paths = sorted((SHARED / "sleep-edfx" / "sleep-cassette").glob("*-Hypnogram.edf"))
    if len(paths) < 20:
        pytest.skip("Sleep-EDF hypnograms not in ../shared/data")
    df = calibrate_hypnogram(paths)
    assert df.attrs["n_nights"] == 20
    committed = pd.read_csv(TRANSITIONS_CSV, comment="#")
    np.testing.assert_allclose(df[["W", "N1", "N2", "N3", "REM"]].to_numpy(),
                               committed[["W", "N1", "N2", "N3", "REM"]].to_numpy(), atol=1e-4)


def test_evidence_contrast_and_pooled_split():
    from eegnb.data.calibration import pooled_within_subject_split
    from eegnb.data.views import evidence_contrast, spatial_correlation, subject_separability

    d = simulate("seed", n_subjects=3, seed=0, quick=True, difficulty=0.2)
    c = evidence_contrast(d)
    # new contract: "other" (truth < 0.05) still sees a little of the lead-field spread
    assert c.loc["planted", "max_abs_d"] > 1.5
    assert c.loc["planted", "max_abs_gap"] > 1.5 * c.loc["other", "max_abs_gap"]
    sc = spatial_correlation(d)
    assert sc["correlation"].iloc[0] > sc["correlation"].iloc[-1] + 0.3
    assert subject_separability(d) > 0.2
    sp = pooled_within_subject_split(d, seed=0)
    parts = [set(sp.train), set(sp.val), set(sp.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert set(d.subject[sp.test]) == {1, 2, 3}
    assert 0.15 < len(sp.test) / len(d) < 0.25


@pytest.mark.parametrize("layout", list(EXPECTED))
def test_quick_size_simulates_in_seconds(layout):
    import time

    simulate(layout, n_subjects=1, seed=0, quick=True)  # imports and montage loaded once
    t0 = time.perf_counter()
    d = simulate(layout, n_subjects=3, seed=1, quick=True)
    # about a second on 2 cores; the bound leaves room for a busy CI machine
    assert time.perf_counter() - t0 < 30 and len(d) > 0


@pytest.mark.parametrize("layout", ["deap", "eegbci"])
def test_label_dependence_only_on_planted_channels(layout):
    from eegnb.data.views import evidence_contrast

    # 40 trials per subject: with fewer, DEAP's independently drawn valence labels can
    # correlate with arousal by chance, and the (also planted) valence alpha leaks into
    # the arousal contrast of the valence channels
    d = simulate(layout, n_subjects=3, seed=0, difficulty=0.0, n_trials=40)
    c = evidence_contrast(d)
    # new contract: realistic in-band SNR (was > 2.0 with a sensor-level evidence ~10x
    # stronger); "other" = truth < 0.05 (with a lead field every channel gets a little)
    assert c.loc["planted", "max_abs_d"] > 1.2
    assert c.loc["other", "max_abs_gap"] < 0.5 * c.loc["planted", "max_abs_gap"]
    # the contrast grows with the truth weight
    from scipy.stats import spearmanr

    from eegnb.data.views import channel_contrast

    dch = channel_contrast(d)[1].max(axis=1)
    assert spearmanr(dch, d.truth.max(axis=(0, 2))).statistic > 0.6
    # channels never marked by truth are exactly the "other" channels
    marked = {d.ch_names[i] for i in np.flatnonzero(d.truth.max(axis=(0, 2)) > 0)}
    assert marked == set(d.info["planted"]["weights"]) >= set(d.info["planted"]["channels"])


def test_truth_freq_matches_planted_bands():
    d = simulate("seed", n_subjects=1, seed=0, quick=True)
    f = d.freqs
    top = d.truth_freq[np.argmax(d.truth_freq.max(1))]
    assert d.ch_names[np.argmax(d.truth_freq.max(1))] in ("T7", "T8")
    assert top[(f >= 16) & (f <= 45)].min() == 1.0 and top[(f < 15) | (f > 46)].max() == 0.0
    assert d.truth_freq[d.ch_names.index("OZ")].max() < 0.05  # far: (almost) nothing
    # neighbours graded by the lead field (new contract; was a fixed 0.5)
    tp7 = d.truth_freq[d.ch_names.index("TP7")].max()
    assert 0.1 < tp7 < 0.5 and tp7 == pytest.approx(d.info["planted"]["weights"]["TP7"], abs=1e-3)


@pytest.mark.notebook
def test_notebook_02_records(run_notebook):
    r = run_notebook("02_data")
    assert max(r["sim_seconds"].values()) < 30  # every layout simulates in seconds at quick size
    # evidence where the truth is: the class contrast in log power (gap) is larger on the
    # channels with truth >= 0.5 than on those with truth < 0.05 (new contract: with volume
    # conduction the others get a little; d was used before and saturates)
    g = r["evidence_contrast_max_gap"]
    for layout in ("deap", "seed", "eegbci"):
        assert g[str((layout, "planted"))] > 1.5 * g[str((layout, "other"))], layout
    # realism against S001 and the semi-synthetic layout (when the shared data are there)
    if "semi_max_diff_outside_burst" in r:
        assert r["semi_max_diff_outside_burst"] == 0
        real, sim = r["realism"]["EEGBCI S001 (real)"], r["realism"]["sim eegbci"]
        assert abs(real["slope"] - sim["slope"]) < 0.2
        assert abs(real["mean_abs_corr"] - sim["mean_abs_corr"]) < 0.15
    # quick sweep (2 subjects, 10 epochs): sleep-edf at difficulty 0.2 and 0.8; easier means
    # more accurate (measured 0.56 vs 0.31), and above the largest stage's share (N2, ~0.42)
    acc = r["eegnet_acc"]
    assert acc["sleep-edf@0.2"] > 0.45 and acc["sleep-edf@0.2"] > acc["sleep-edf@0.8"] + 0.15


# ---------------------------------------------------------------------------------------
# volume conduction, lead-field truth, realism, semi-synthetic layout
# ---------------------------------------------------------------------------------------
def test_volume_conduction_correlates_channels():
    from eegnb.data.realism import realism_table

    r = realism_table(simulate("eegbci", n_subjects=2, seed=0, quick=True))
    assert 0.45 < r["mean_abs_corr"] < 0.8  # S001: 0.66; independent channels: ~0
    assert r["corr_near"] > 0.85 and r["corr_near"] > r["corr_far"] + 0.2
    assert -2.0 < r["slope"] < -1.3


def test_truth_is_normalised_lead_field_power():
    from eegnb.data.leadfield import head_model, patch_under, project

    d = simulate("eegbci", n_subjects=1, seed=0, quick=True)
    w = d.truth.max(axis=(0, 2))
    assert w.max() == 1.0 and {d.ch_names[i] for i in np.flatnonzero(w >= 0.99)} == {"C3", "C4"}
    assert w[d.ch_names.index("Oz")] == 0 and w[d.ch_names.index("Cz")] > 0
    graded = (w > 0) & (w < 0.5)
    assert graded.sum() >= 6  # neighbours get intermediate weights
    # recompute independently: squared lead field of the radial patches under C3 and C4,
    # summed over the two (independent) generators, max 1
    head = head_model(d.ch_names)
    P = np.stack([project(head, i, o, "ears").sum(1)
                  for i, o in (patch_under(head, e) for e in ("C3", "C4"))], axis=1)
    p = ((P / np.abs(P).max(0)) ** 2).sum(1)
    p /= p.max()
    np.testing.assert_allclose(w, np.where(p >= 0.01, p, 0), atol=1e-5)


def test_truth_and_evidence_follow_the_electrodes():
    from eegnb.data.layouts import channel_positions

    pos = channel_positions(["C3", "O1"])
    kw = dict(n_subjects=2, seed=0, quick=True, difficulty=0.0)
    a = simulate("eegbci", **kw)
    b = simulate("eegbci", positions={"C3": pos["O1"], "O1": pos["C3"]}, **kw)
    ia, io = a.ch_names.index("C3"), a.ch_names.index("O1")
    wa, wb = a.truth.max(axis=(0, 2)), b.truth.max(axis=(0, 2))
    assert wa[ia] == pytest.approx(1.0, abs=1e-3) and wa[io] == 0.0
    assert wb[io] == pytest.approx(1.0, abs=0.02) and wb[ia] == 0.0
    win = slice(int(1.0 * a.sfreq), int(3.0 * a.sfreq))
    for d, ch in ((a, "C3"), (b, "O1")):  # the ERD shows at the electrode above the dipole
        lat = _band_logpower(d, [ch], (8, 14), win) - _band_logpower(d, ["C4"], (8, 14), win)
        assert lat[d.y == 1].mean() < lat[d.y == 0].mean() - 0.5, ch


def test_realism_table_measures_what_it_says():
    from eegnb.data.realism import realism_table

    rng = np.random.default_rng(0)
    sf, ch = 160.0, ["C3", "C4", "Cz", "Pz", "Fz", "Oz"]
    white = rng.standard_normal((20, len(ch), 640))
    r = realism_table(white, sf, ch)
    assert abs(r["slope"]) < 0.15 and abs(r["alpha_ratio"] - 1) < 0.15
    assert r["mean_abs_corr"] < 0.05
    brown = np.cumsum(white, axis=-1)  # 1/f^2
    assert realism_table(brown, sf, ch)["slope"] == pytest.approx(-2.0, abs=0.25)
    t = np.arange(640) / sf
    alpha = white + 0.5 * np.sin(2 * np.pi * 10 * t)  # a 10 Hz rhythm shared by all channels
    ra = realism_table(alpha, sf, ch)
    assert ra["alpha_ratio"] > 3 and ra["mean_abs_corr"] > 0.05
    with pytest.raises(ValueError, match="sfreq"):
        realism_table(white)
    with pytest.raises(ValueError, match="shape"):
        realism_table(white[0], sf, ch)


def test_semi_eegbci_needs_data_dir(tmp_path):
    with pytest.raises(ValueError, match="data_dir"):
        simulate("semi-eegbci", n_subjects=1)
    with pytest.raises(FileNotFoundError):
        simulate("semi-eegbci", n_subjects=1, data_dir=tmp_path / "nowhere")


EEGBCI_DIR = SHARED / "eegmmidb"


@pytest.mark.realdata
def test_simulated_eegbci_matches_s001():
    from eegnb.data import load
    from eegnb.data.realism import realism_table

    if not (EEGBCI_DIR / "S001" / "S001R04.edf").exists():
        pytest.skip("EEGBCI S001 not in ../shared/data")
    real = realism_table(load("eegbci", EEGBCI_DIR, subjects=[1]))
    sim = realism_table(simulate("eegbci", n_subjects=3, seed=0))
    assert abs(sim["slope"] - real["slope"]) < 0.2
    assert abs(sim["mean_abs_corr"] - real["mean_abs_corr"]) < 0.15
    assert abs(sim["alpha_ratio"] - real["alpha_ratio"]) < 0.3  # stated tolerance


@pytest.mark.realdata
def test_semi_eegbci_on_s001():
    from eegnb.data import load

    if not (EEGBCI_DIR / "S001" / "S001R04.edf").exists():
        pytest.skip("EEGBCI S001 not in ../shared/data")
    d = simulate("semi-eegbci", n_subjects=1, seed=0, data_dir=EEGBCI_DIR, difficulty=0.0)
    real = load("eegbci", EEGBCI_DIR, subjects=[1])
    assert d.X.shape == real.X.shape and d.truth.shape == d.X.shape
    np.testing.assert_array_equal(d.meta["real_label"].to_numpy(), real.y)
    Xr = real.X.astype(np.float64)
    Xr = (Xr - Xr.mean(-1, keepdims=True)).astype(np.float32)
    outside = d.truth.max(axis=1, keepdims=True) == 0  # (n, 1, t)
    assert outside.mean() > 0.3
    diff = d.X - Xr
    assert np.abs(np.where(outside, diff, 0)).max() == 0  # real background, untouched
    assert np.abs(np.where(outside, 0, diff)).max() > 1  # the burst is there
    # truth: the burst's source per class; max 1 at C4 (left hand) / C3 (right hand)
    w = d.truth.max(axis=2)
    ic3, ic4 = d.ch_names.index("C3"), d.ch_names.index("C4")
    assert (w[d.y == 0, ic4] == 1).all() and (w[d.y == 0, ic3] == 0).all()
    assert (w[d.y == 1, ic3] == 1).all() and (w[d.y == 1, ic4] == 0).all()
    # the planted mu raises C3-vs-C4 9-13 Hz power for the right hand
    lat = _band_logpower(d, ["C3"], (9, 13)) - _band_logpower(d, ["C4"], (9, 13))
    assert lat[d.y == 1].mean() > lat[d.y == 0].mean() + 0.5
    assert d.info["planted"]["channels_by_class"] == {"left_hand": ["C4"], "right_hand": ["C3"]}
