"""EEGData: validation, aligned subsetting, summaries and the MNE round trip."""

import numpy as np
import pandas as pd
import pytest

from eegnb.data import EEGData


def _toy(n=12, ch=4, t=64, truth=True):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, ch, t)).astype(np.float32)
    y = np.arange(n) % 2
    subject = np.repeat([1, 2, 3], n // 3)
    meta = pd.DataFrame({"subject": subject, "trial": np.arange(n), "onset": np.arange(n) * 0.5})
    tr = rng.random((n, ch, t)).astype(np.float32) if truth else None
    return EEGData(X=X, y=y, subject=subject, sfreq=128.0, ch_names=["Fz", "Cz", "Pz", "Oz"],
                   class_names=["a", "b"], meta=meta, truth=tr,
                   truth_freq=np.zeros((ch, t // 2 + 1)), info={"layout": "toy"})


def test_fields_and_sizes():
    d = _toy()
    assert d.X.dtype == np.float32 and d.y.dtype == np.int64
    assert (len(d), d.n_chans, d.n_times, d.n_classes) == (12, 4, 64, 2)
    assert d.subjects.tolist() == [1, 2, 3]
    assert d.ch_types == ["eeg"] * 4
    assert d.freqs.shape == (33,) and d.freqs[-1] == 64.0
    assert "n=12" in repr(d) and "toy" in repr(d)


def test_float64_input_is_converted():
    d = _toy()
    d2 = EEGData(X=d.X.astype(np.float64), y=d.y, subject=d.subject, sfreq=128, ch_names=d.ch_names)
    assert d2.X.dtype == np.float32 and d2.class_names == ["0", "1"]
    assert list(d2.meta.columns) == ["subject"]


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(X=np.zeros((3, 4))), "3-D"),
        (dict(y=np.zeros(5)), "y must have shape"),
        (dict(subject=np.zeros(3)), "subject must have shape"),
        (dict(ch_names=["a", "b"]), "ch_names"),
        (dict(ch_names=["a", "a", "b", "c"]), "unique"),
        (dict(ch_types=["eeg"] * 3), "ch_types"),
        (dict(ch_types=["eeg", "eeg", "eeg", "meg2"]), "unknown channel types"),
        (dict(truth=np.zeros((12, 4, 63))), "truth must have the shape"),
        (dict(truth=np.full((12, 4, 64), 2.0)), r"\[0, 1\]"),
        (dict(truth_freq=np.zeros((4, 64))), "truth_freq"),
        (dict(meta=pd.DataFrame({"subject": [1, 2]})), "meta has 2 rows"),
        (dict(class_names=["only"]), "y must lie in"),
        (dict(sfreq=0), "sfreq"),
    ],
)
def test_validation_errors(change, match):
    d = _toy()
    kw = dict(X=d.X, y=d.y, subject=d.subject, sfreq=d.sfreq, ch_names=d.ch_names,
              class_names=d.class_names, meta=d.meta, truth=d.truth, truth_freq=d.truth_freq)
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        EEGData(**kw)


@pytest.mark.parametrize("kind", ["ints", "mask", "slice", "int"])
def test_getitem_keeps_alignment(kind):
    d = _toy()
    idx = {"ints": np.array([5, 0, 7]), "mask": d.y == 1, "slice": slice(2, 8, 2),
           "int": 4}[kind]
    sub = d[idx]
    rows = np.arange(len(d))[idx] if kind != "int" else np.array([4])
    np.testing.assert_array_equal(sub.X, d.X[rows])
    np.testing.assert_array_equal(sub.y, d.y[rows])
    np.testing.assert_array_equal(sub.subject, d.subject[rows])
    np.testing.assert_array_equal(sub.truth, d.truth[rows])
    assert sub.meta["trial"].tolist() == d.meta["trial"].to_numpy()[rows].tolist()
    assert sub.meta.index.tolist() == list(range(len(rows)))  # reset index


def test_bad_index_and_mask():
    d = _toy()
    with pytest.raises(ValueError, match="boolean mask"):
        d[np.ones(3, bool)]
    with pytest.raises(ValueError, match="index"):
        d[np.array([0.5, 1.5])]


def test_by_subject_summary_and_fingerprint():
    d = _toy()
    s2 = d.by_subject(2)
    assert set(s2.subject) == {2} and len(s2) == 4
    assert len(d.by_subject([1, 3])) == 8
    with pytest.raises(ValueError, match="unknown subjects"):
        d.by_subject(9)
    summ = d.summary()
    assert summ.loc[1, "a"] == 2 and summ.loc[1, "b"] == 2 and summ["total"].sum() == 12
    assert d.fingerprint() == _toy().fingerprint()
    assert d.fingerprint() != d[np.arange(11)].fingerprint()


def test_concat_and_pick_channels():
    d = _toy()
    both = EEGData.concat([d.by_subject(1), d.by_subject(2)])
    assert len(both) == 8 and both.truth.shape == (8, 4, 64)
    p = d.pick_channels(["Pz", "Fz"])
    np.testing.assert_array_equal(p.X, d.X[:, [2, 0]])
    assert p.truth_freq.shape == (2, 33)
    with pytest.raises(ValueError, match="not in"):
        d.pick_channels(["T7"])


def test_mne_round_trip_keeps_names_types_montage_rate():
    d = _toy(truth=False)
    ep = d.to_epochs()
    assert ep.ch_names == d.ch_names and ep.info["sfreq"] == 128.0
    assert ep.get_montage() is not None  # 10-05 positions of Fz, Cz, Pz, Oz
    assert abs(ep.get_data()[0, 0, 0] - d.X[0, 0, 0] * 1e-6) < 1e-12  # uV -> V
    back = EEGData.from_epochs(ep)
    np.testing.assert_allclose(back.X, d.X, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(back.y, d.y)
    np.testing.assert_array_equal(back.subject, d.subject)
    assert back.class_names == ["a", "b"] and back.ch_types == d.ch_types


def test_from_epochs_maps_event_codes():
    import mne

    info = mne.create_info(["C3", "C4", "EOG"], 100.0, ["eeg", "eeg", "eog"])
    X = np.random.default_rng(1).standard_normal((4, 3, 50)) * 1e-6
    events = np.array([[0, 0, 7], [100, 0, 3], [200, 0, 7], [300, 0, 3]])
    ep = mne.EpochsArray(X, info, events=events, event_id={"rest": 3, "move": 7}, verbose="error")
    d = EEGData.from_epochs(ep, subject=5)
    assert d.class_names == ["rest", "move"]  # ordered by code
    assert d.y.tolist() == [1, 0, 1, 0] and set(d.subject) == {5}
    assert d.ch_types == ["eeg", "eeg", "eog"]
    d2 = EEGData.from_epochs(ep, y=[0, 0, 1, 1])
    assert d2.y.tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="mne.Epochs"):
        EEGData.from_epochs(X)


def test_round_trip_keeps_own_montage_and_modalities():
    """Users' own recordings: custom positions, eog/emg types and rate survive both ways."""
    import mne

    names = ["C3", "C4", "HEOG", "Chin"]
    info = mne.create_info(names, 250.0, ["eeg", "eeg", "eog", "emg"])
    pos = {"C3": [-0.05, 0.0, 0.08], "C4": [0.051, 0.001, 0.079]}  # not the template's
    mont = mne.channels.make_dig_montage(ch_pos=pos, coord_frame="head")
    X = np.random.default_rng(2).standard_normal((3, 4, 100)) * 1e-5
    events = np.array([[0, 0, 1], [100, 0, 2], [200, 0, 1]])
    ep = mne.EpochsArray(X, info, events=events, event_id={"a": 1, "b": 2}, verbose="error")
    ep.set_montage(mont, on_missing="ignore", verbose="error")
    d = EEGData.from_epochs(ep, subject=[4, 4, 5])
    assert d.ch_types == ["eeg", "eeg", "eog", "emg"] and d.sfreq == 250.0
    assert d.subjects.tolist() == [4, 5] and d.y.tolist() == [0, 1, 0]
    np.testing.assert_allclose(d.X, X * 1e6, rtol=1e-6)  # volts -> microvolts
    back = d[[0, 2]].to_epochs()  # a subset keeps the montage too
    assert back.ch_names == names and back.info["sfreq"] == 250.0
    assert back.get_channel_types() == ["eeg", "eeg", "eog", "emg"]
    got = back.get_montage().get_positions()["ch_pos"]
    for ch, p in pos.items():
        np.testing.assert_allclose(got[ch], p, atol=1e-9)
    np.testing.assert_allclose(back.get_data(), X[[0, 2]], rtol=1e-6)


def test_subset_keeps_truth_freq_info_and_classes():
    d = _toy()
    d.info["modality_evidence"] = {"a": "eeg"}
    sub = d.by_subject(3)
    assert sub.class_names == d.class_names and sub.truth_freq is d.truth_freq
    assert sub.info["modality_evidence"] == {"a": "eeg"} and sub.info is not d.info
    empty = d[np.zeros(len(d), bool)]
    assert len(empty) == 0 and empty.truth.shape == (0, 4, 64) and len(empty.meta) == 0
