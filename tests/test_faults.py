"""Fault injection: each bad input a hostile, realistic user could hand the workbook.

Every case writes the bad file in the dataset's published format (EDF via edfio, ``.mat``,
pickles) or damages a cache entry, and asserts the outcome: an error whose message names the
file and the fix, or a loaded dataset whose ``info`` says exactly what was dropped and why.
Nothing may load silently short, duplicated or mislabelled, no file may run code, and no
cache entry may go stale. The table of cases is ``docs/FAULTS.md``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from eegnb.data import load
from tests.test_loaders import (
    SHARED,
    _export,
    _write_deap,
    _write_eegbci,
    _write_seed,
    _write_sleep,
)


class _Evil:
    """Unpickling this writes a marker file: a crafted file that runs code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# ----------------------------------------------------------------------------- Sleep-EDF
def _two_sleep_subjects(root: Path):
    _write_sleep(root / "a")
    _write_sleep(root / "b", psg="SC4021E0-PSG.edf", hyp="SC4021EH-Hypnogram.edf")


@pytest.mark.parametrize("damage", ["corrupt", "200 bytes", "half"])
def test_sleep_damaged_hypnogram_is_an_error_naming_it(tmp_path, damage):
    _two_sleep_subjects(tmp_path)
    assert load("sleep-edf", tmp_path, trim_wake_min=None).subjects.tolist() == [1, 2]
    hyp = tmp_path / "b" / "SC4021EH-Hypnogram.edf"
    good = hyp.read_bytes()
    if damage == "corrupt":
        hyp.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, len(good), dtype=np.uint8)))
    elif damage == "200 bytes":
        hyp.write_bytes(good[:200])
    else:
        hyp.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"SC4021EH-Hypnogram\.edf.*(corrupt|truncated).*download it again"):
        load("sleep-edf", tmp_path)


def test_sleep_empty_or_short_hypnogram(tmp_path):
    # a well-formed hypnogram that stops after 8 of the PSG's 120 epochs (56 min unscored)
    _write_sleep(tmp_path, minutes=60, stages=["W", "W", "1", "2", "2", "3", "R", "W"])
    with pytest.raises(ValueError, match=r"SC4011EH-Hypnogram\.edf is short.*8 epochs.*holds 120.*max_unscored_min"):
        load("sleep-edf", tmp_path)
    d = load("sleep-edf", tmp_path, max_unscored_min=60)  # an explicit decision to accept it
    assert len(d) == 8
    # a hypnogram without any stage annotation
    _write_sleep(tmp_path, minutes=10, stages=["Movement time"] * 20)
    with pytest.raises(ValueError, match=r"SC4011EH-Hypnogram\.edf holds no sleep stage"):
        load("sleep-edf", tmp_path)


def test_sleep_duplicates_and_two_hypnograms(tmp_path):
    _write_sleep(tmp_path / "copy1")
    _write_sleep(tmp_path / "copy2")
    with pytest.raises(ValueError, match=r"SC4011E0-PSG\.edf found 2 times.*one copy"):
        load("sleep-edf", tmp_path)
    assert len(load("sleep-edf", tmp_path / "copy1", trim_wake_min=None)) == 17
    _write_sleep(tmp_path / "copy1", hyp="SC4011EC-Hypnogram.edf")  # a second scoring, same folder
    with pytest.raises(ValueError, match=r"SC4011E0-PSG\.edf matches 2 hypnograms"):
        load("sleep-edf", tmp_path / "copy1")


def test_sleep_psg_without_hypnogram_is_skipped_and_reported(tmp_path):
    _two_sleep_subjects(tmp_path)
    (tmp_path / "b" / "SC4021EH-Hypnogram.edf").unlink()
    with pytest.warns(UserWarning, match="SC4021E0-PSG.edf"):
        d = load("sleep-edf", tmp_path, trim_wake_min=None)
    assert d.subjects.tolist() == [1] and len(d) == 17
    assert [Path(s["file"]).name for s in d.info["skipped"]] == ["SC4021E0-PSG.edf"]
    assert d.info["skipped"][0]["reason"] == "no hypnogram"
    with pytest.raises(FileNotFoundError, match=r"SC4021\?-Hypnogram\.edf.*subject 2 was asked"):
        load("sleep-edf", tmp_path, subjects=[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asking only for complete subjects: nothing to report
        assert load("sleep-edf", tmp_path, subjects=[1]).info["skipped"] == []


def _dead_emg(root: Path, psg="SC4021E0-PSG.edf"):
    import mne

    raw = mne.io.read_raw_edf(root / psg, preload=True, verbose="error")
    raw._data[raw.ch_names.index("EMG submental")] = 0.0
    _export(raw, root / psg)


def test_sleep_dead_channel_is_flagged(tmp_path):
    _two_sleep_subjects(tmp_path)
    _dead_emg(tmp_path / "b")
    with pytest.raises(ValueError, match=r"SC4021E0-PSG\.edf: channel\(s\) \['EMG submental'\] are flat or dead.*flat='drop'"):
        load("sleep-edf", tmp_path)
    with pytest.warns(UserWarning, match="flat"):
        d = load("sleep-edf", tmp_path, flat="drop", trim_wake_min=None)
    assert d.subjects.tolist() == [1]
    assert d.info["skipped"] == [{"file": str(tmp_path / "b" / "SC4021E0-PSG.edf"),
                                  "reason": "flat channels ['EMG submental']"}]
    k = load("sleep-edf", tmp_path, flat="keep", trim_wake_min=None)
    assert k.subjects.tolist() == [1, 2] and k.info["flat_channels"][0]["channels"] == ["EMG submental"]
    assert np.all(k.X[k.subject == 2][:, 2] == 0)  # kept flat, not z-scored into noise


def test_sleep_truncated_psg_is_an_error(tmp_path):
    _write_sleep(tmp_path)
    psg = tmp_path / "SC4011E0-PSG.edf"
    psg.write_bytes(psg.read_bytes()[: psg.stat().st_size * 2 // 3])
    with pytest.raises(ValueError, match=r"SC4011E0-PSG\.edf is truncated.*download it again"):
        load("sleep-edf", tmp_path)


# -------------------------------------------------------------------------------- EEGBCI
def test_eegbci_truncated_run(tmp_path):
    _write_eegbci(tmp_path, runs=(4,))
    f = tmp_path / "S001" / "S001R04.edf"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"S001R04\.edf is truncated.*header promises.*download it again"):
        load("eegbci", tmp_path, runs=(4,))


def test_eegbci_runs_labels_duplicates_and_window(tmp_path):
    _write_eegbci(tmp_path, runs=(4, 6, 10))
    ff = load("eegbci", tmp_path, runs=(6, 10))
    assert ff.class_names == ["both_fists", "both_feet"] and ff.info["task"] == "both fists/both feet"
    lr = load("eegbci", tmp_path, runs=(4,))
    assert lr.class_names == ["left_hand", "right_hand"] and lr.info["imagery"] == {4: True}
    with pytest.raises(ValueError, match=r"mix left/right fist runs \[4\] with both fists/both feet runs \[6\]"):
        load("eegbci", tmp_path, runs=(4, 6))
    with pytest.raises(ValueError, match=r"runs \[4\] are listed more than once"):
        load("eegbci", tmp_path, runs=(4, 4))
    with pytest.raises(ValueError, match=r"runs \[1\] have no T1/T2 task"):
        load("eegbci", tmp_path, runs=(1,))
    with pytest.raises(ValueError, match=r"S001R04\.edf: no cue leaves the window.*lower tmax"):
        load("eegbci", tmp_path, runs=(4,), tmax=60.0)
    with pytest.raises(ValueError, match="tmax"):
        load("eegbci", tmp_path, runs=(4,), tmin=2.0, tmax=1.0)
    # the last cue (37 s) of every run cannot hold 4 s: dropped, counted and listed
    assert lr.info["dropped"] == 1 and len(lr) == 3
    assert lr.info["dropped_cues"] == [{"file": "S001R04.edf", "onset": 37.0,
                                        "reason": "window past the run's edge"}]


@pytest.mark.realdata
def test_eegbci_real_run_cut_in_half(tmp_path):
    src = SHARED / "eegmmidb" / "S001" / "S001R04.edf"
    if not src.exists():
        pytest.skip("../shared/data/eegmmidb not present")
    (tmp_path / "S001").mkdir()
    dst = tmp_path / "S001" / "S001R04.edf"
    data = src.read_bytes()  # the shared copy stays untouched
    dst.write_bytes(data)
    assert len(load("eegbci", tmp_path, runs=(4,))) == 15
    dst.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="S001R04.edf is truncated"):
        load("eegbci", tmp_path, runs=(4,))


# ---------------------------------------------------------------------------------- SEED
def test_seed_extra_rows_and_label_coding(tmp_path):
    import scipy.io

    _write_seed(tmp_path, n_ch=64)
    with pytest.raises(ValueError, match=r"1_20131027\.mat trial djc_eeg\d+: 64 rows but SEED has 62"):
        load("seed", tmp_path)
    _write_seed(tmp_path)
    lab = tmp_path / "Preprocessed_EEG" / "label.mat"
    codes = scipy.io.loadmat(lab)["label"] + 1  # 0/1/2 instead of -1/0/1
    scipy.io.savemat(lab, {"label": codes})
    with pytest.raises(ValueError, match=r"label\.mat codes labels \[0\.0, 1\.0, 2\.0\].*subtract 1"):
        load("seed", tmp_path)


# ---------------------------------------------------------------------------------- DEAP
def test_deap_nan_rating_and_subject_names(tmp_path):
    _write_deap(tmp_path, s=1, labels=[[7.0, np.nan, 5, 5], [3.0, 8.0, 5, 5], [6.0, 6.0, 5, 5]])
    with pytest.raises(ValueError, match=r"s01\.dat trial 0: non-finite rating.*drop_nonfinite=True"):
        load("deap", tmp_path)
    d = load("deap", tmp_path, drop_nonfinite=True)
    assert sorted(set(d.meta["trial"])) == [1, 2]
    assert d.info["dropped_nonfinite_ratings"] == [{"file": "s01.dat", "trial": 0}]
    _write_deap(tmp_path, s=2)
    assert load("deap", tmp_path, subjects=["s02"]).subjects.tolist() == [2]
    assert load("deap", tmp_path, subjects="2").subjects.tolist() == [2]
    with pytest.raises(ValueError, match="subjects is empty"):
        load("deap", tmp_path, subjects=[])
    with pytest.raises(ValueError, match=r"subject 'abc' is not a subject number"):
        load("deap", tmp_path, subjects=["abc"])
    with pytest.raises(ValueError, match=r"subjects \[2\] are listed more than once"):
        load("deap", tmp_path, subjects=[2, "s02"])


def test_deap_crafted_pickle_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"
    with open(tmp_path / "s01.dat", "wb") as f:
        pickle.dump({"data": _Evil(marker), "labels": np.ones((1, 4))}, f, protocol=2)
    with pytest.raises(ValueError, match=r"s01\.dat.*refused to load (posix|nt)\.system"):
        load("deap", tmp_path)
    assert not marker.exists()
    pickle.loads((tmp_path / "s01.dat").read_bytes())  # the plain unpickler would run it ...
    assert marker.exists()  # ... which proves the file is a working exploit


# ------------------------------------------------------------------------------ explain()
def test_explain_bad_target_and_empty_batch():
    from eegnb.explain.registry import explain
    from eegnb.models import build

    model = build("eegnet", 4, 128, 2, sfreq=128.0, seed=0).eval()
    X = np.random.default_rng(0).standard_normal((3, 4, 128)).astype("float32")
    with pytest.raises(ValueError, match="target"):
        explain("gradient", model, X, target=np.array([0, 1, 2]))  # class 2 of a 2-class model
    with pytest.raises(ValueError, match="target"):
        explain("gradient", model, X, target=[0, 1])  # wrong length
    with pytest.raises(ValueError):
        explain("gradient", model, X[:0])


# ----------------------------------------------------------------------------- caches
def _write_module(folder: Path, name: str, lr: float):
    (folder / f"{name}.py").write_text(
        "import numpy as np\n\n"
        f"def compute(lr={lr!r}):\n"
        "    return {'lr': lr, 'w': np.arange(3) * lr}\n")


def test_cache_changed_default_in_code_is_a_new_entry(tmp_path, monkeypatch):
    import importlib

    from eegnb.utils import cached

    monkeypatch.syspath_prepend(str(tmp_path))
    _write_module(tmp_path, "faultmod_default", 0.1)
    mod = importlib.import_module("faultmod_default")
    assert cached(tmp_path / "c", "k", {"x": 1}, mod.compute)["lr"] == 0.1
    _write_module(tmp_path, "faultmod_default", 0.5)  # the default changes in code only
    st = os.stat(tmp_path / "faultmod_default.py")
    os.utime(tmp_path / "faultmod_default.py", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    mod = importlib.reload(mod)
    assert cached(tmp_path / "c", "k", {"x": 1}, mod.compute)["lr"] == 0.5
    # an explicit version: same version, same entry; another version, another entry
    calls = []

    def f():
        calls.append(1)
        return 1

    for v in ("v1", "v1", "v2"):
        cached(tmp_path / "c", "k", {"x": 1}, f, version=v)
    assert len(calls) == 2


def test_cache_changed_data_folder_is_a_new_entry(tmp_path):
    from eegnb.utils import cached

    data = tmp_path / "data"
    data.mkdir()
    (data / "s01.dat").write_bytes(b"1")
    calls = []

    def compute():
        calls.append(1)
        return sorted(p.name for p in data.iterdir())

    key = {"dataset": "deap", "data_dir": str(data)}
    assert cached(tmp_path / "c", "k", key, compute) == ["s01.dat"]
    assert cached(tmp_path / "c", "k", key, compute) == ["s01.dat"] and len(calls) == 1
    (data / "s02.dat").write_bytes(b"2")  # a subject added to data_dir
    assert cached(tmp_path / "c", "k", key, compute) == ["s01.dat", "s02.dat"]
    (data / "s02.dat").write_bytes(b"22")  # a file replaced
    cached(tmp_path / "c", "k", key, compute)
    assert len(calls) == 3
    # files= names data folders a key does not call data_dir
    cached(tmp_path / "c", "k2", "x", compute, files=data)
    (data / "s03.dat").write_bytes(b"3")
    cached(tmp_path / "c", "k2", "x", compute, files=data)
    assert len(calls) == 5


def test_cache_orphans_unreadable_entries_and_permissions(tmp_path):
    from eegnb.utils import cache_entry_path, cached

    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3)}

    folder = tmp_path / "c" / "k"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    orphan = folder / f".abc.npz.{dead}.x1y2.tmp"  # a write killed before its rename
    live = folder / f".abc.npz.{os.getppid()}.x1y2.tmp"  # a write still under way
    orphan.write_bytes(b"half")
    live.write_bytes(b"half")
    old_mask = os.umask(0o022)
    try:
        cached(tmp_path / "c", "k", 1, compute)
    finally:
        os.umask(old_mask)
    assert not orphan.exists() and live.exists()
    entry = cache_entry_path(tmp_path / "c", "k", 1, compute)
    assert entry.exists() and entry.suffix == ".npz"
    assert entry.stat().st_mode & 0o040  # group-readable, not mkstemp's 0600
    for bad in (b"", entry.read_bytes()[:50], b"garbage" * 10):
        entry.write_bytes(bad)
        with pytest.warns(UserWarning, match="could not be read.*recomputing"):
            assert np.array_equal(cached(tmp_path / "c", "k", 1, compute)["x"], np.arange(3))
    assert len(calls) == 4


def test_cache_entry_cannot_run_code(tmp_path):
    import json

    from eegnb.utils import cache_entry_path, cached

    def compute():
        return {"ok": 1}

    entry = cache_entry_path(tmp_path, "k", 1, compute)
    entry.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    tree = np.frombuffer(json.dumps({"format": 1, "tree": {"$nd": 0}}).encode(), np.uint8)
    np.savez(entry, __tree__=tree, a0=np.array([_Evil(marker)], dtype=object))  # a pickled payload
    with pytest.warns(UserWarning, match="could not be read"):
        assert cached(tmp_path, "k", 1, compute) == {"ok": 1}
    assert not marker.exists()
    # a tree naming a class outside eegnb is refused, too
    tree = np.frombuffer(json.dumps({"format": 1, "tree": {"$object": "os:system", "state": {"$dict": []}}}).encode(), np.uint8)
    np.savez(entry, __tree__=tree)
    with pytest.warns(UserWarning, match="outside eegnb"):
        assert cached(tmp_path, "k", 1, compute) == {"ok": 1}
    assert not list(tmp_path.rglob("*.pkl"))


def test_cache_round_trips_what_the_experiments_store():
    from eegnb.data.container import EEGData
    from eegnb.explain.easypeasi import EasyPEASIResult
    from eegnb.utils import dumps_safe, loads_safe

    df = pd.DataFrame({"method": ["a", "b", None], "sample": [0, 1, 2], "auc": [0.5, np.nan, 1.0],
                       "control": [True, False, True],
                       "mixed": pd.Series([1, "x", None], dtype=object),
                       "cat": pd.Categorical(["u", "v", "u"])})
    multi = df.set_index(["method", "sample"])
    multi.attrs["n_nights"] = 3
    ser = df.groupby(["control", "sample"])["auc"].mean()
    d = EEGData(X=np.ones((2, 3, 4)), y=[0, 1], subject=[1, 2], sfreq=100, ch_names=list("abc"),
                ch_types=["eeg", "eog", "emg"], meta=df.iloc[:2], info={"modality_evidence": {"W": 1.0}})
    res = EasyPEASIResult(np.ones((2, 3, 4)), np.zeros((3, 4)), 0.75, np.arange(5.0), 10)
    res.seconds = 1.5  # attributes set after construction survive too
    value = {"scores": df, "multi": multi, "ser": ser, "data": d, "res": res,
             ("random", "time"): np.arange(3, dtype=np.float32), 7: (np.int64(3), np.float32(0.5), None),
             "nan": float("nan"), "list": [1, "a", [2.0]], "tensor": torch.arange(3)}
    out = loads_safe(dumps_safe(value))
    pd.testing.assert_frame_equal(out["scores"], df)
    pd.testing.assert_frame_equal(out["multi"], multi)
    assert out["multi"].attrs == {"n_nights": 3}
    pd.testing.assert_series_equal(out["ser"], ser)
    assert isinstance(out["data"], EEGData) and out["data"].fingerprint() == d.fingerprint()
    pd.testing.assert_frame_equal(out["data"].meta, d.meta)
    assert out["data"].info == d.info and out["data"].ch_types == d.ch_types
    assert isinstance(out["res"], EasyPEASIResult) and out["res"].seconds == 1.5
    np.testing.assert_array_equal(out["res"].instance, res.instance)
    assert out[("random", "time")].dtype == np.float32
    assert out[7] == (3, 0.5, None) and type(out[7][0]) is np.int64 and type(out[7][1]) is np.float32
    assert np.isnan(out["nan"]) and out["list"] == [1, "a", [2.0]]
    assert torch.equal(out["tensor"], torch.arange(3))
    with pytest.raises(TypeError, match=r"value\['f'\].*no pickle"):
        dumps_safe({"f": lambda: 1})
    with pytest.raises(TypeError, match="Linear"):
        dumps_safe([torch.nn.Linear(2, 2)])


def test_cache_round_trips_an_ica():
    import mne

    from eegnb.utils import dumps_safe, loads_safe

    rng = np.random.default_rng(0)
    info = mne.create_info(["Fz", "Cz", "Pz", "Oz"], 100.0, "eeg")
    raw = mne.io.RawArray(rng.standard_normal((4, 2000)) * 1e-5, info, verbose="error")
    ica = mne.preprocessing.ICA(n_components=3, random_state=0, max_iter=50).fit(raw, verbose="error")
    back, tab = loads_safe(dumps_safe((ica, pd.DataFrame({"c": [1]}))))
    np.testing.assert_allclose(back.unmixing_matrix_, ica.unmixing_matrix_)
    assert back.n_components_ == ica.n_components_ and list(tab["c"]) == [1]


def test_train_model_cache_defaults_and_untrusted_entry(tmp_path, monkeypatch):
    from eegnb import train
    from tests.test_train import Toy

    d = Toy(n_subjects=2)
    split = train.subject_independent(d)[0]
    kw = dict(seed=0, cache_dir=tmp_path, progress=False, epochs=1)
    train.train_model("eegnet", d, split, **kw)
    (entry,) = (tmp_path / "models").glob("*.pt")
    assert entry.stat().st_mode & 0o040 or os.umask(os.umask(0)) & 0o040
    # a changed default of fit (in code) is a new key, not the old model
    monkeypatch.setitem(train.fit.__kwdefaults__, "lr", 0.5)
    train.train_model("eegnet", d, split, **kw)
    assert len(list((tmp_path / "models").glob("*.pt"))) == 2
    monkeypatch.undo()
    # a crafted entry is refused by weights_only=True: retrained with a warning, no code runs
    marker = tmp_path / "ran"
    torch.save({"state_dict": _Evil(marker), "history": {}}, entry)
    with pytest.warns(UserWarning, match="could not be read.*retraining"):
        m = train.train_model("eegnet", d, split, **kw)
    assert not marker.exists() and len(m.history) == 1
    blob = torch.load(entry, weights_only=True)  # the rewritten entry is a plain state dict
    assert set(blob) == {"state_dict", "history"} and blob["history"]["epoch"] == [0]


# -------------------------------------------------------------------------------- pins
def test_lock_pins_every_dependency_and_make_install_uses_it():
    import re
    import tomllib

    import yaml
    from packaging.requirements import Requirement
    from packaging.version import Version

    root = Path(__file__).resolve().parents[1]
    lock = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=\s]+", line), f"not an exact pin: {line!r}"
            name, v = line.split("==")
            lock[name.lower().replace("_", "-")] = v
    assert not {"torch", "torchvision", "eegnb"} & set(lock)  # the Makefile pins the torch pair
    py = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in py["dependencies"] + py["optional-dependencies"]["dev"]]
    make = (root / "Makefile").read_text()
    x86_pair = dict(re.findall(r"(torch|torchvision)==([\d.]+)", make.split("else", 1)[1]))
    env = yaml.safe_load((root / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = {k.split("[")[0]: v for k, v in (p.split("==") for p in pip if "==" in p)}  # "dask[distributed]" pins dask
    for r in reqs:
        name = r.name.lower().replace("_", "-")
        v = x86_pair[name] if name in x86_pair else lock.get(name)
        assert v is not None, f"{name} is not in requirements.lock"
        assert r.specifier.contains(Version(v)), f"locked {name}=={v} breaks pyproject's {r}"
        assert env_pins.get(name) == v, f"environment.yml pins {name}=={env_pins.get(name)}, lock {v}"
    assert "-c $(LOCK)" in make and "LOCK ?= requirements.lock" in make


@pytest.mark.realdata
def test_edf_header_check_passes_real_files_and_catches_a_cut_hypnogram(tmp_path):
    from eegnb.data.loaders import edf_header

    hyps = sorted((SHARED / "sleep-edfx" / "sleep-cassette").glob("*-Hypnogram.edf"))
    runs = sorted((SHARED / "eegmmidb" / "S001").glob("*.edf"))
    if not hyps or not runs:
        pytest.skip("../shared/data not present")
    for p in hyps + runs:  # no false alarm on any published file
        edf_header(p)
    assert edf_header(runs[0])["duration_s"] == 125.0
    cut = tmp_path / hyps[0].name  # the shared copy stays untouched
    data = hyps[0].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=f"{hyps[0].name} is truncated"):
        edf_header(cut)
