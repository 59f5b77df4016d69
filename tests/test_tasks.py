"""Paper 3's other two tasks: the simulated "auditory" and "attention" layouts and load("kul").

Checks that the planted correlates sit where the docstrings say (parieto-occipital alpha;
lateralised to the attended side; higher for internal attention), in the band they say, that
the class order is the documented one, that the KUL loader maps L/R and windows honestly, and
that adding the layouts left the existing ones unchanged.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy.signal import welch

from eegnb.data import simulate
from eegnb.data.layouts import BIOSEMI64_CHANNELS, LAYOUTS, TASK_LAYOUTS, get_layout
from eegnb.data.loaders import load

TASKS = ["auditory", "attention"]


def _fingerprint(d) -> str:
    """Hash of X (rounded to 1e-3 uV: BLAS thread counts move the last bits), y, subject and
    truth; exact enough to notice any change of a random stream or a formula."""
    h = hashlib.sha256()
    for a in (np.round(d.X.astype(np.float64), 3), d.y.astype(np.int64),
              d.subject.astype(np.int64), np.round(d.truth.astype(np.float64), 4),
              np.round(np.asarray(d.truth_freq, np.float64), 4)):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:20]


# computed on main (d7d6453) before the new layouts were added: simulate(layout,
# n_subjects=2, seed=0, quick=True); identical with 1 and 2 BLAS threads
MAIN_FINGERPRINTS = {
    "eegbci": "8706d174caf8733d94b8",
    "deap": "b646e28effa8db2655f3",
    "seed": "0f0f97086973fd695ec7",
    "sleep-edf": "50004e1fd5b292c79d17",
}


@pytest.mark.parametrize("layout", list(MAIN_FINGERPRINTS))
def test_existing_layouts_unchanged(layout):
    d = simulate(layout, n_subjects=2, seed=0, quick=True)
    assert _fingerprint(d) == MAIN_FINGERPRINTS[layout]


@pytest.fixture(scope="module")
def easy():
    return {t: simulate(t, n_subjects=3, seed=0, quick=True, difficulty=0.0) for t in TASKS}


def _logpower(d, chans, band):
    ix = [d.ch_names.index(c) for c in chans]
    f, P = welch(d.X[:, ix], d.sfreq, nperseg=int(d.sfreq), axis=-1)
    return np.log(P[..., (f >= band[0]) & (f <= band[1])].mean(-1))  # (n, len(chans))


def _hemisphere(ch: str) -> str:
    """10-20 convention: odd numbers left, even right, z midline."""
    tail = ch[-1]
    return "mid" if tail in "zZ" else ("left" if int(tail) % 2 else "right")


def test_layouts_shape_api_and_montage(easy):
    import mne

    # the BioSemi order is MNE's biosemi64 montage order (KUL RawData.Channels 1..64)
    assert BIOSEMI64_CHANNELS == mne.channels.make_standard_montage("biosemi64").ch_names
    assert set(TASKS).isdisjoint(LAYOUTS)  # the papers' datasets loop (notebook 02) unchanged
    for t, names in (("auditory", ["left", "right"]), ("attention", ["external", "internal"])):
        d = easy[t]
        lay = get_layout(t)
        assert lay is TASK_LAYOUTS[t] and d.class_names == names == lay.class_names
        assert (d.n_chans, d.n_times, d.sfreq) == (64, 512, 128.0)
        assert d.ch_names == BIOSEMI64_CHANNELS and d.truth.shape == d.X.shape
        assert d.truth_freq.shape == (64, 257) and d.truth.max() == 1.0
        assert d.subjects.tolist() == [1, 2, 3] and np.bincount(d.y).tolist() == [36, 36]
        # windows of a trial share its label (a trial is one attended side / one task)
        assert (d.meta.assign(y=d.y).groupby(["subject", "trial"])["y"].nunique() == 1).all()
        p = d.info["planted"]
        assert {"channels", "weights", "truth_threshold", "sources", "band_hz", "bands_hz",
                "channels_by_hemisphere", "snr", "rule", "window_s"} <= set(p)
        assert d.info["layout"] == t and d.info["unit"] == "uV"
    assert (easy["auditory"].meta["attended_ear"] == np.where(easy["auditory"].y, "R", "L")).all()
    assert (easy["attention"].meta["task"]
            == np.where(easy["attention"].y, "internal", "external")).all()


@pytest.mark.parametrize("task", TASKS)
def test_truth_is_parieto_occipital(easy, task):
    d = easy[task]
    p = d.info["planted"]
    w = d.truth.max(axis=(0, 2))
    pos = [d.ch_names[i] for i in np.flatnonzero(w >= 0.5)]
    assert sorted(pos) == sorted(p["channels"]) and len(pos) >= 3
    assert all(c.startswith(("P", "O")) for c in pos)  # parietal / parieto-occipital / occipital
    far = [d.ch_names.index(c) for c in ("Fp1", "Fp2", "Fz", "C3", "C4", "T7", "T8")]
    # (the average reference gives every channel a little: about 0.03-0.06 far away)
    assert w[far].max() < 0.1 and w[far].max() < 0.1 * w.max()
    # hemispheres: the left generator's channels are left-hemisphere ones, and vice versa
    for side, chans in p["channels_by_hemisphere"].items():
        assert chans and all(_hemisphere(c) == side for c in chans)
    src = {"auditory": ["PO7", "PO8"], "attention": ["PO3", "PO4"]}[task]
    assert list(p["sources"]) == src
    # whole segment: the evidence spans every time point of a marked channel
    assert (d.truth[:, w > 0] == w[w > 0][None, :, None]).all()
    # truth_freq: the planted alpha band only
    f = d.freqs
    top = d.truth_freq[int(np.argmax(w))]
    assert top[(f >= 7.0) & (f <= 13.5)].min() == 1.0 and top[(f < 6.9) | (f > 13.6)].max() == 0


def test_auditory_alpha_lateralised_to_the_attended_side(easy):
    d = easy["auditory"]
    left, right = (d.info["planted"]["channels_by_hemisphere"][k] for k in ("left", "right"))
    aL = _logpower(d, left, (8, 12)).mean(1)
    aR = _logpower(d, right, (8, 12)).mean(1)
    li = aR - aL  # lateralisation index, log alpha power right minus left hemisphere
    is_right = np.array(d.class_names)[d.y] == "right"
    assert d.info["planted"]["alpha_up_hemisphere"] == {"left": "left", "right": "right"}
    # attending right (class 1) raises alpha over the right (ipsilateral) hemisphere and
    # lowers it over the left (contralateral) one; attending left the reverse
    assert li[is_right].mean() > li[~is_right].mean() + 1.0
    assert aR[is_right].mean() > aR[~is_right].mean() + 0.5
    assert aL[~is_right].mean() > aL[is_right].mean() + 0.5
    # per subject too (each subject's own alpha level and asymmetry are label independent)
    for s in d.subjects:
        i = d.subject == s
        assert li[i & is_right].mean() > li[i & ~is_right].mean() + 0.5


def test_attention_alpha_up_for_internal_attention(easy):
    d = easy["attention"]
    pos = d.info["planted"]["channels"]
    a = _logpower(d, pos, (8, 12)).mean(1)
    internal = np.array(d.class_names)[d.y] == "internal"
    assert a[internal].mean() > a[~internal].mean() + 1.0
    for s in d.subjects:
        i = d.subject == s
        assert a[i & internal].mean() > a[i & ~internal].mean() + 0.5
    # both hemispheres go up together (no lateralisation)
    by = d.info["planted"]["channels_by_hemisphere"]
    for side in ("left", "right"):
        x = _logpower(d, by[side], (8, 12)).mean(1)
        assert x[internal].mean() > x[~internal].mean() + 0.8


@pytest.mark.parametrize("task", TASKS)
def test_evidence_only_in_alpha_and_only_where_truth_says(easy, task):
    from eegnb.data.views import evidence_contrast

    d = easy[task]
    pos = d.info["planted"]["channels"]

    def gap(band, chans):
        x = _logpower(d, chans, band)
        return np.abs(x[d.y == 1].mean(0) - x[d.y == 0].mean(0)).max()

    alpha = gap((8, 12), pos)
    assert alpha > 0.8
    for band in ((1, 4), (18, 26), (30, 45)):  # the class rule touches alpha only
        assert gap(band, pos) < 0.25 * alpha
    c = evidence_contrast(d)
    assert c.loc["other", "max_abs_gap"] < 0.5 * c.loc["planted", "max_abs_gap"]


@pytest.mark.parametrize("task", TASKS)
def test_deterministic_subject_stable_and_difficulty(task):
    a = simulate(task, n_subjects=2, seed=3, quick=True)
    b = simulate(task, n_subjects=2, seed=3, quick=True)
    c = simulate(task, n_subjects=3, seed=3, quick=True)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.by_subject(1).X, c.by_subject(1).X)
    assert simulate(task, n_subjects=2, seed=4, quick=True).fingerprint() != a.fingerprint()
    # per-subject variation like eegbci's: alpha peaks differ between subjects
    assert c.meta.groupby("subject")["alpha_freq"].first().nunique() == 3
    # difficulty lowers the in-band SNR and the modulation depth
    assert a.info["planted"]["snr"] == pytest.approx(2.5, abs=0.01)
    hard = simulate(task, n_subjects=1, seed=3, quick=True, difficulty=1.0)
    assert hard.info["effect"] < a.info["effect"] < 0.8
    n = simulate(task, n_subjects=1, seed=0, n_trials=4, n_segments=5)
    assert len(n) == 20 and n.meta["trial"].nunique() == 4
    with pytest.raises(ValueError, match="n_trials"):
        simulate(task, n_subjects=1, n_trials=1)


def test_band_power_decoder_beats_chance_across_subjects():
    """A cheap learnability check: logistic regression on log alpha power of the 64 channels,
    trained on two subjects, tested on the third (difficulty 0.2, as notebook 30 runs)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for task in TASKS:
        d = simulate(task, n_subjects=3, seed=1, quick=True, difficulty=0.2)
        f, P = welch(d.X, d.sfreq, nperseg=int(d.sfreq), axis=-1)
        F = np.log(P[..., (f >= 8) & (f <= 12)].mean(-1))
        for s in d.subjects:  # per-subject standardisation, as eegnb.experiments.crp.prepare
            F[d.subject == s] = (F[d.subject == s] - F[d.subject == s].mean(0)) / F[d.subject == s].std(0)
        tr, te = d.subject != 3, d.subject == 3
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(F[tr], d.y[tr])
        assert clf.score(F[te], d.y[te]) > 0.8, task


# --------------------------------------------------------------------------- KUL loader
def _kul_trial(rng, n_samples, ear, *, fs=128.0, channels=None, eeg=None, trial_id=1):
    eeg = rng.standard_normal((n_samples, 64)) if eeg is None else eeg
    return {
        "RawData": {"Channels": np.arange(1, 65, dtype=float)[:, None] if channels is None
                    else channels, "EegData": eeg},
        "FileHeader": {"SampleRate": float(fs)},
        "TrialID": float(trial_id), "attended_ear": ear,
        "stimuli": np.array(["part1_track1_dry.wav", "part1_track2_dry.wav"], dtype=object),
        "condition": "dry", "experiment": 1.0, "part": 1.0, "attended_track": 1.0,
        "repetition": 0.0, "subject": "S1",
    }


def _write_kul(path, trials):
    import scipy.io

    cells = np.empty((1, len(trials)), dtype=object)
    for i, t in enumerate(trials):
        cells[0, i] = t
    scipy.io.savemat(path, {"trials": cells})


@pytest.fixture
def kul_dir(tmp_path):
    rng = np.random.default_rng(0)
    # S1: three trials, 10.5 s, 9 s and 8.2 s at 128 Hz with ears L, R, R; S2: one R, one L
    lens = {1: [(1344, "L"), (1152, "R"), (1050, "R")], 2: [(1024, "R"), (1100, "L")]}
    raw = {}
    for s, spec in lens.items():
        trials = [_kul_trial(rng, n, e, trial_id=i + 1) for i, (n, e) in enumerate(spec)]
        raw[s] = trials
        _write_kul(tmp_path / f"S{s}.mat", trials)
    return tmp_path, raw


def test_kul_format_labels_and_windows(kul_dir):
    root, raw = kul_dir
    d = load("kul", root)
    T = 512  # 4 s at 128 Hz
    assert d.class_names == ["left", "right"] and d.ch_names == BIOSEMI64_CHANNELS
    assert d.X.shape[1:] == (64, T) and d.sfreq == 128.0
    # windows: floor(length / 512) per trial, tails dropped and accounted for, no overlap
    per_trial = d.meta.groupby(["subject", "trial"]).size().to_dict()
    assert per_trial == {(1, 1): 2, (1, 2): 2, (1, 3): 2, (2, 1): 2, (2, 2): 2}
    tails = sum(n % T for spec in ([1344, 1152, 1050], [1024, 1100]) for n in spec)
    assert d.info["dropped_tail_s"] == pytest.approx(tails / 128.0)
    # labels follow attended_ear: L -> 0 ("left"), R -> 1 ("right")
    ears = {(1, 1): "L", (1, 2): "R", (1, 3): "R", (2, 1): "R", (2, 2): "L"}
    want = np.array([ears[(s, t)] == "R" for s, t in zip(d.meta["subject"], d.meta["trial"])])
    np.testing.assert_array_equal(d.y, want.astype(int))
    assert (np.array(d.class_names)[d.y] == np.where(d.meta["attended_ear"] == "R", "right", "left")).all()
    # each window is exactly its slice of the trial (channels x samples), none repeated
    for k in range(len(d)):
        s, t, seg = (int(d.meta[c].iloc[k]) for c in ("subject", "trial", "segment"))
        eeg = raw[s][t - 1]["RawData"]["EegData"]
        np.testing.assert_allclose(d.X[k], eeg[seg * T:(seg + 1) * T].T, rtol=1e-6)
    assert len({d.X[k].tobytes() for k in range(len(d))}) == len(d)
    # subjects and trials are selectable; meta keeps the file's fields
    one = load("kul", root, subjects=["S2"], trials=[2])
    assert one.meta["subject"].unique().tolist() == [2] and one.y.tolist() == [0, 0]
    assert {"condition", "experiment", "part", "attended_track", "repetition",
            "stimulus_left", "stimulus_right"} <= set(d.meta.columns)
    w2 = load("kul", root, subjects=[1], window_seconds=2.0)
    assert w2.n_times == 256 and len(w2) == 5 + 4 + 4


def test_kul_channel_order_and_resampling(tmp_path):
    rng = np.random.default_rng(1)
    eeg = rng.standard_normal((1024, 64))
    perm = rng.permutation(64)
    # the file lists its columns in another order: the loader puts them back in BioSemi order
    t = _kul_trial(rng, 0, "R", eeg=eeg[:, perm], channels=(perm + 1).astype(float))
    _write_kul(tmp_path / "S3.mat", [t])
    d = load("kul", tmp_path)
    np.testing.assert_allclose(d.X[0], eeg[:512].T, rtol=1e-6)
    # labels by name are matched too
    t = _kul_trial(rng, 0, "L", eeg=eeg[:, perm],
                   channels=np.array([BIOSEMI64_CHANNELS[i] for i in perm], dtype=object))
    _write_kul(tmp_path / "S3.mat", [t])
    np.testing.assert_allclose(load("kul", tmp_path).X[1], eeg[512:1024].T, rtol=1e-6)
    # a trial at 256 Hz is resampled to 128 Hz (8 s -> two 4 s windows) and reported
    _write_kul(tmp_path / "S3.mat", [_kul_trial(rng, 2048, "L", fs=256.0)])
    d = load("kul", tmp_path)
    assert len(d) == 2 and d.info["resampled"] == [{"file": "S3.mat", "trial": 1, "from_hz": 256.0}]


def test_kul_bad_input(tmp_path):
    rng = np.random.default_rng(2)
    with pytest.raises(FileNotFoundError, match="S1.mat"):
        load("kul", tmp_path)  # empty folder
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load("kul", "")

    def bad(trial_or_dict, match, exc=ValueError, **kw):
        import scipy.io

        p = tmp_path / "S1.mat"
        if isinstance(trial_or_dict, list):
            _write_kul(p, trial_or_dict)
        else:
            scipy.io.savemat(p, trial_or_dict)
        with pytest.raises(exc, match=match):
            load("kul", tmp_path, **kw)

    good = _kul_trial(rng, 600, "L")
    bad({"data": np.zeros(3)}, "no 'trials'")
    bad([{**good, "attended_ear": "X"}], "attended_ear")
    bad([{k: v for k, v in good.items() if k != "attended_ear"}], "attended_ear")
    bad([{**good, "FileHeader": {"Rate": 128.0}}], "SampleRate")
    bad([{**good, "RawData": {"Channels": good["RawData"]["Channels"]}}], "EegData")
    bad([_kul_trial(rng, 0, "L", eeg=rng.standard_normal((64, 600)), channels=None)],
        "samples x 64|channels x samples|RawData.Channels")
    bad([_kul_trial(rng, 300, "R")], "shorter than one")
    bad([_kul_trial(rng, 600, "R", eeg=rng.standard_normal((600, 63)),
                    channels=np.arange(1, 64, dtype=float))], "missing channels")
    dup = np.arange(1, 65, dtype=float)
    dup[5] = 1.0
    bad([_kul_trial(rng, 600, "R", channels=dup)], "missing channels|repeats")
    nan = rng.standard_normal((600, 64))
    nan[10, 3] = np.nan
    bad([_kul_trial(rng, 0, "R", eeg=nan)], "non-finite")
    _write_kul(tmp_path / "S1.mat", [_kul_trial(rng, 0, "R", eeg=nan), good])
    d = load("kul", tmp_path, drop_nonfinite=True)
    assert len(d) == 1 and d.info["dropped_nonfinite"] == 1
    bad([good, good], "repeats", trials=[1, 1])
    bad([good], "do not exist", trials=[2])
    bad([good], "no files for subjects", exc=FileNotFoundError, subjects=[7])
    (tmp_path / "S1.mat").write_bytes(b"MATLAB 5.0 MAT-file, truncated")
    with pytest.raises(ValueError, match="cannot read"):
        load("kul", tmp_path)
