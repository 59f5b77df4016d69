"""Real-data loaders on small files written here in each dataset's real format, plus bad input.

DEAP: Python-2-style pickles; SEED: ``scipy.io.savemat``; Sleep-EDF and EEGBCI: EDF files
written with ``mne.export.export_raw`` (edfio). EDF stores integers, so NaN/inf can only be
tested on DEAP and SEED. The last tests read ``../shared/data`` when it is there.
"""

import pickle
from pathlib import Path

import numpy as np
import pytest

from eegnb.data import load
from eegnb.data.layouts import DEAP_CHANNELS, EEGBCI_CHANNELS, SEED_CHANNELS
from eegnb.data.simulate import hypnogram_epochs

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


# ---------------------------------------------------------------------------------- DEAP
def _write_deap(folder: Path, s=1, n_trials=3, n_ch=40, seconds=11, labels=None, nan_at=None):
    rng = np.random.default_rng(s)
    data = rng.standard_normal((n_trials, n_ch, int(seconds * 128))) * 10
    if nan_at is not None:
        data[nan_at] = np.nan
    if labels is None:
        labels = np.tile([[7.0, 2.0, 5.0, 5.0], [3.0, 8.0, 5.0, 5.0]], (n_trials, 1))[:n_trials]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"s{s:02d}.dat", "wb") as f:
        pickle.dump({"data": data, "labels": np.asarray(labels)}, f, protocol=2)
    return data


def test_deap_format(tmp_path):
    raw = _write_deap(tmp_path, s=1)
    _write_deap(tmp_path, s=2)
    d = load("deap", tmp_path, label="valence")
    # 11 s - 3 s baseline = 8 s -> 2 segments of 4 s per trial
    assert (len(d), d.n_chans, d.n_times, d.sfreq) == (12, 32, 512, 128.0)
    assert d.ch_names == DEAP_CHANNELS and d.subjects.tolist() == [1, 2]
    np.testing.assert_allclose(d.X[0], raw[0, :32, 384:896], rtol=1e-6)
    assert d.y[d.meta["trial"] == 0].tolist() == [1] * 4  # valence 7 > 5 (2 subjects x 2)
    assert d.meta.loc[d.meta["trial"] == 1, "arousal"].tolist() == [1] * 4
    assert d.info["unit"] == "uV" and d.truth is None
    a = load("deap", tmp_path, subjects=[2], label="arousal")
    assert a.subjects.tolist() == [2] and a.y[a.meta["trial"] == 0].tolist() == [0, 0]
    # the parent folder of data_preprocessed_python is accepted too
    _write_deap(tmp_path / "p" / "data_preprocessed_python", s=3)
    assert load("deap", tmp_path / "p").subjects.tolist() == [3]


def test_deap_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="s01.dat"):
        load("deap", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="s01.dat"):
        load("deap", tmp_path)
    with pytest.raises(FileNotFoundError, match="no data_dir"):
        load("deap", "")
    _write_deap(tmp_path, s=1)
    with pytest.raises(FileNotFoundError, match=r"subjects \[4\]"):
        load("deap", tmp_path, subjects=[4])
    good = (tmp_path / "s01.dat").read_bytes()
    (tmp_path / "s01.dat").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="s01.dat"):
        load("deap", tmp_path)
    _write_deap(tmp_path, s=1, n_ch=20)
    with pytest.raises(ValueError, match=r"missing EEG channels \['F8', 'FC6'"):
        load("deap", tmp_path)
    _write_deap(tmp_path, s=1, labels=np.ones((2, 4)))
    with pytest.raises(ValueError, match="do not match 3 trials"):
        load("deap", tmp_path)
    _write_deap(tmp_path, s=1, nan_at=(1, 5, 1000))
    with pytest.raises(ValueError, match=r"s01.dat trial 1, channels \['FC1'\]"):
        load("deap", tmp_path)
    d = load("deap", tmp_path, drop_nonfinite=True)
    assert len(d) == 5 and d.info["dropped_nonfinite"] == 1
    with pytest.raises(ValueError, match="label"):
        load("deap", tmp_path, label="liking")
    with pytest.raises(ValueError, match="unknown dataset"):
        load("bci4", tmp_path)


# ---------------------------------------------------------------------------------- SEED
SEED_LABELS = [1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1]


def _write_seed(root: Path, subject=1, date="20131027", n_trials=15, n_ch=62, nan=False,
                labels=True):
    import scipy.io

    folder = root / "Preprocessed_EEG"
    folder.mkdir(parents=True, exist_ok=True)
    if labels:
        scipy.io.savemat(folder / "label.mat", {"label": np.array([SEED_LABELS])})
    rng = np.random.default_rng(subject)
    trials = {f"djc_eeg{i + 1}": rng.standard_normal((n_ch, 850)) for i in range(n_trials)}
    if nan:
        trials["djc_eeg1"][60, 10] = np.inf
    scipy.io.savemat(folder / f"{subject}_{date}.mat", trials)
    return trials


def test_seed_format(tmp_path):
    trials = _write_seed(tmp_path, subject=1, date="20131027")
    _write_seed(tmp_path, subject=1, date="20131030", labels=False)
    _write_seed(tmp_path, subject=2, date="20140404", labels=False)
    d = load("seed", tmp_path)
    # 850 samples -> 2 segments of 400; binary keeps 10 of 15 trials; 3 sessions
    assert (len(d), d.n_chans, d.n_times, d.sfreq) == (60, 62, 400, 200.0)
    assert d.ch_names == SEED_CHANNELS and d.class_names == ["negative", "positive"]
    first = d.meta.index[(d.meta["subject"] == 1) & (d.meta["session"] == 1)][0]
    np.testing.assert_allclose(d.X[first], trials["djc_eeg1"][:, :400], rtol=1e-6)
    assert d.y[first] == 1  # trial 1 is positive
    d3 = load("seed", tmp_path / "Preprocessed_EEG", subjects=[2], n_classes=3)
    assert len(d3) == 30 and np.bincount(d3.y).tolist() == [10, 10, 10]
    assert d3.class_names == ["negative", "neutral", "positive"]
    assert load("seed", tmp_path, subjects=[1], sessions=[2]).meta["session"].unique().tolist() == [2]


def test_seed_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="label.mat"):
        load("seed", tmp_path)
    _write_seed(tmp_path, n_trials=14)
    with pytest.raises(ValueError, match="14 trials but label.mat has 15"):
        load("seed", tmp_path)
    _write_seed(tmp_path, n_ch=60)
    with pytest.raises(ValueError, match=r"missing channels \['O2', 'CB2'\]"):
        load("seed", tmp_path)
    _write_seed(tmp_path, nan=True)
    with pytest.raises(ValueError, match=r"1_20131027.mat trial djc_eeg1, channels \['O2'\]"):
        load("seed", tmp_path)
    assert load("seed", tmp_path, drop_nonfinite=True).info["dropped_nonfinite"] == 1
    (tmp_path / "Preprocessed_EEG" / "1_20131027.mat").write_bytes(b"MATLAB 5.0 MAT-file, broken")
    with pytest.raises(ValueError, match="1_20131027.mat"):
        load("seed", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"subjects \[3\]"):
        load("seed", tmp_path, subjects=[3])


# ----------------------------------------------------------------------------- Sleep-EDF
def _export(raw, path: Path):
    import mne

    path.parent.mkdir(parents=True, exist_ok=True)
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")


def _write_sleep(folder: Path, psg="SC4011E0-PSG.edf", hyp="SC4011EH-Hypnogram.edf",
                 minutes=10, channels=("EEG Fpz-Cz", "EOG horizontal", "EMG submental"),
                 stages=None):
    import mne

    rng = np.random.default_rng(0)
    n = int(minutes * 60 * 100)
    info = mne.create_info(list(channels) + ["Resp oro-nasal"], 100.0, "misc")
    raw = mne.io.RawArray(rng.standard_normal((len(channels) + 1, n)) * 2e-5, info,
                          verbose="error")
    _export(raw, folder / psg)
    if stages is None:  # 30 s epochs
        stages = (["W"] * 4 + ["1", "2", "2", "3", "4", "R", "Movement time", "2", "?"]
                  + ["W"] * 6)
    onsets = np.arange(len(stages)) * 30.0
    desc = [s if s == "Movement time" else f"Sleep stage {s}" for s in stages]
    h = mne.io.RawArray(np.zeros((1, int(len(stages) * 30))),
                        mne.create_info(["dummy"], 1.0, "misc"), verbose="error")
    h.set_annotations(mne.Annotations(onsets, 30.0, desc))
    _export(h, folder / hyp)


def test_sleep_edf_format_and_demographics(tmp_path):
    _write_sleep(tmp_path / "sleep-cassette")
    _write_sleep(tmp_path / "sleep-telemetry", psg="ST7011J0-PSG.edf",
                 hyp="ST7011JP-Hypnogram.edf")
    d = load("sleep-edf", tmp_path, trim_wake_min=1.0)
    assert (d.n_chans, d.n_times, d.sfreq) == (3, 3000, 100.0)
    assert d.ch_types == ["eeg", "eog", "emg"] and d.class_names == ["W", "N1", "N2", "N3", "REM"]
    sc = d.meta[d.meta["study"] == "cassette"]
    # W W [W W 1 2 2 3 4 R M 2 ? W] W W W W W: wake trimmed to 1 min (2 epochs) around
    # the first and last sleep epoch, movement (M) and unknown (?) dropped
    assert sc["stage"].tolist() == ["W", "W", "N1", "N2", "N2", "N3", "N3", "REM", "N2", "W"]
    assert sc["epoch"].tolist()[:2] == [2, 3] and sc["onset"].iloc[0] == 60.0
    assert sc["age"].iloc[0] == 33 and sc["sex"].iloc[0] == "F" and sc["medication"].iloc[0] == "none"
    st = d.meta[d.meta["study"] == "telemetry"]
    assert set(st["subject"]) == {101}  # telemetry numbered 100 + ss with study="both"
    assert st["age"].iloc[0] == 60 and st["sex"].iloc[0] == "M" and st["medication"].iloc[0] == "placebo"
    assert d.info["unit"] == "z"
    x = d.X[d.subject == 1]
    assert abs(x.mean()) < 1e-6 and np.allclose(x.std(axis=(0, 2)), 1, atol=1e-4)
    only = load("sleep-edf", tmp_path, subjects=[1], study="telemetry", trim_wake_min=None)
    assert len(only) == 17 and only.meta["study"].unique().tolist() == ["telemetry"]


def test_sleep_edf_stray_wake_after_the_signal(tmp_path):
    # cassette hypnograms can score a lone wake epoch hours after the night (e.g. SC4092EC);
    # wake trimming drops it, so the recording loads; without trimming it is a count mismatch
    stages = ["W"] * 4 + ["1", "2", "2", "3", "W"] + ["?"] * 300 + ["W"]
    _write_sleep(tmp_path, minutes=10, stages=stages)  # 20 epochs of signal, 310 scored
    d = load("sleep-edf", tmp_path, trim_wake_min=1.0)
    assert d.meta["stage"].tolist() == ["W", "W", "N1", "N2", "N2", "N3", "W"]
    with pytest.raises(ValueError, match="scores 310 epochs.*count mismatch"):
        load("sleep-edf", tmp_path, trim_wake_min=None)


def test_sleep_edf_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="SC4ssNE0-PSG.edf"):
        load("sleep-edf", tmp_path)
    _write_sleep(tmp_path, channels=("EEG Fpz-Cz", "EOG horizontal"))
    with pytest.raises(ValueError, match=r"missing channels \['EMG submental'\]"):
        load("sleep-edf", tmp_path)
    _write_sleep(tmp_path, minutes=5)  # hypnogram scores 10 min
    with pytest.raises(ValueError, match="count mismatch"):
        load("sleep-edf", tmp_path)
    _write_sleep(tmp_path)
    psg = tmp_path / "SC4011E0-PSG.edf"
    psg.write_bytes(psg.read_bytes()[:300])
    with pytest.raises(ValueError, match="SC4011E0-PSG.edf"):
        load("sleep-edf", tmp_path)
    (tmp_path / "SC4011EH-Hypnogram.edf").unlink()
    _write_sleep(tmp_path / "other", hyp="SC4012EH-Hypnogram.edf")
    with pytest.raises(FileNotFoundError, match="SC4011"):
        load("sleep-edf", tmp_path)


# -------------------------------------------------------------------------------- EEGBCI
def _bci_name(c: str) -> str:
    for a, b in (("FC", "Fc"), ("CP", "Cp"), ("AF", "Af"), ("PO", "Po"), ("FT", "Ft"),
                 ("TP", "Tp")):
        c = c.replace(a, b)
    return c + "." * max(0, 4 - len(c))  # BCI2000 labels are padded with dots


def _write_eegbci(folder: Path, s=1, runs=(4, 8, 12), n_ch=64):
    import mne

    names = [_bci_name(c) for c in EEGBCI_CHANNELS[:n_ch]]
    rng = np.random.default_rng(s)
    for run in runs:
        raw = mne.io.RawArray(rng.standard_normal((n_ch, 160 * 40)) * 2e-5,
                              mne.create_info(names, 160.0, "eeg"), verbose="error")
        raw.set_annotations(mne.Annotations([0, 4.2, 8.3, 12.5, 16.6, 20.8, 37.0],
                                            [4.1] * 6 + [2.9],
                                            ["T0", "T1", "T0", "T2", "T0", "T1", "T2"]))
        _export(raw, folder / f"S{s:03d}" / f"S{s:03d}R{run:02d}.edf")


def test_eegbci_format(tmp_path):
    _write_eegbci(tmp_path, s=1)
    _write_eegbci(tmp_path, s=2)
    d = load("eegbci", tmp_path)
    # per run: T1, T2, T1 fit; the T2 at 37 s has no 4 s left and is not an epoch
    assert (len(d), d.n_chans, d.n_times, d.sfreq) == (18, 64, 640, 160.0)
    assert d.ch_names == EEGBCI_CHANNELS and d.class_names == ["left_hand", "right_hand"]
    assert d.y[:3].tolist() == [0, 1, 0] and d.meta["run"].unique().tolist() == [4, 8, 12]
    assert d.meta["onset"].iloc[:3].tolist() == [4.2, 12.5, 20.8]
    ep = d.to_epochs()
    assert ep.get_montage() is not None and ep.info["sfreq"] == 160.0
    assert load("eegbci", tmp_path / "S002").subjects.tolist() == [2]  # subject folder itself


def test_eegbci_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="S001"):
        load("eegbci", tmp_path)
    _write_eegbci(tmp_path, runs=(4, 8))
    with pytest.raises(FileNotFoundError, match="S001R12.edf"):
        load("eegbci", tmp_path)
    _write_eegbci(tmp_path, s=2, n_ch=63)
    with pytest.raises(ValueError, match=r"missing channels \['Iz'\]"):
        load("eegbci", tmp_path, subjects=[2])
    f = tmp_path / "S001" / "S001R04.edf"
    f.write_bytes(f.read_bytes()[:1000])
    with pytest.raises(ValueError, match="S001R04.edf"):
        load("eegbci", tmp_path, subjects=[1], runs=(4,))


# ------------------------------------------------------------------------ real recordings
@pytest.mark.realdata
def test_real_eegmmidb_subject1():
    folder = SHARED / "eegmmidb"
    if not (folder / "S001" / "S001R04.edf").exists():
        pytest.skip("../shared/data/eegmmidb not present")
    d = load("eegbci", folder, subjects=[1])
    assert (d.n_chans, d.n_times, d.sfreq) == (64, 640, 160.0)
    assert 40 <= len(d) <= 45 and set(d.y.tolist()) == {0, 1}
    assert np.bincount(d.y).min() >= 20
    assert 5 < d.X.std() < 500  # microvolts
    assert load("eegbci", SHARED, subjects=[1]).fingerprint() == d.fingerprint()


@pytest.mark.realdata
def test_real_sleep_hypnograms():
    folder = SHARED / "sleep-edfx" / "sleep-cassette"
    paths = sorted(folder.glob("*-Hypnogram.edf"))
    if len(paths) < 20:
        pytest.skip("../shared/data/sleep-edfx hypnograms not present")
    for p in paths:
        st = hypnogram_epochs(p)
        counts = np.bincount(st[st >= 0], minlength=5)
        assert 2000 < len(st) < 3500  # about a day of 30 s epochs per cassette recording
        assert (counts > 0).all()  # every stage occurs in every night
        assert counts[2] + counts[3] > counts[1:].sum() / 2  # N2 + N3 make most of sleep
        assert counts[1] < counts[2]  # N1 is rarer than N2
    # the PSG signals are not shipped: the loader says so instead of inventing data
    with pytest.raises(FileNotFoundError, match="20 hypnograms but no PSG"):
        load("sleep-edf", SHARED / "sleep-edfx")


@pytest.mark.realdata
def test_real_sleep_demographics_and_stage_totals():
    """The 20 real Sleep-EDF-20 hypnograms: their PSG records' demographics and stage totals."""
    from eegnb.data import sleep_records

    paths = sorted((SHARED / "sleep-edfx" / "sleep-cassette").glob("*-Hypnogram.edf"))
    if len(paths) < 20:
        pytest.skip("../shared/data/sleep-edfx hypnograms not present")
    rec = sleep_records().set_index("psg")
    psgs = [p.name[:7] + "0-PSG.edf" for p in paths]  # SC4ssNx-Hypnogram -> SC4ssNE0-PSG
    assert set(psgs) <= set(rec.index)
    r = rec.loc[psgs]
    assert sorted(set(r["subject"])) == list(range(10)) and set(r["night"]) == {1, 2}
    assert r["age"].between(25, 34).all() and set(r["sex"]) <= {"F", "M"}
    assert (r["study"] == "cassette").all() and (r["medication"] == "none").all()
    assert r.loc["SC4001E0-PSG.edf", "age"] == 33  # subject 0: 33-year-old woman
    assert r.loc["SC4001E0-PSG.edf", "sex"] == "F"
    # the whole age table spans the cassette study's 25-101 years; telemetry has the drug nights
    assert rec.loc[rec["study"] == "cassette", "age"].max() > 90
    assert set(rec.loc[rec["study"] == "telemetry", "medication"]) == {"placebo", "temazepam"}
    counts = np.zeros(5, int)
    for p in paths:
        st = hypnogram_epochs(p)
        counts += np.bincount(st[st >= 0], minlength=5)
    sleep = counts[1:] / counts[1:].sum()  # N1, N2, N3, REM shares of scored sleep
    assert 0.3 < sleep[1] < 0.65 and sleep[1] == sleep.max()  # N2 dominates
    assert 0.03 < sleep[0] < 0.15 and 0.1 < sleep[2] < 0.3 and 0.1 < sleep[3] < 0.3


@pytest.mark.realdata
def test_real_eegmmidb_runs_and_montage():
    folder = SHARED / "eegmmidb"
    if not (folder / "S001" / "S001R04.edf").exists():
        pytest.skip("../shared/data/eegmmidb not present")
    d = load("eegbci", folder, subjects=[1])
    assert d.meta.groupby("run").size().to_dict() == {4: 15, 8: 15, 12: 15}
    assert d.info["dropped"] == 0 and d.truth is None
    ep = d.to_epochs()
    pos = ep.get_montage().get_positions()["ch_pos"]
    assert pos["C3"][0] < 0 < pos["C4"][0]  # left and right hemisphere
    # the imagery runs only: the movement-execution or both-fists runs are not read
    assert set(d.meta["run"]) == {4, 8, 12}
