"""Readers for the real datasets the papers used: DEAP, SEED, Sleep-EDF, EEGBCI and KUL AAD.

``load(name, data_dir, subjects=None, **kw) -> EEGData``. The loaders only read files that
are already on disk; downloading is the user's job (each error says where a dataset is
obtained). ``subjects`` selects subjects by their dataset number (EEGBCI ``S001`` -> 1,
DEAP ``s01`` -> 1, SEED ``1_20131027.mat`` -> 1, Sleep-EDF ``SC4011E0`` -> 1, KUL ``S1.mat`` -> 1).

Paper 3's tasks: motor imagery = EEGBCI; auditory attention = the KU Leuven AAD dataset
(:func:`load_kul`, the layout of the ``"auditory"`` simulation). Internal vs external attention
has no loader: the paper's abstract names no dataset, and we found no public internal/external
attention EEG dataset with a documented file layout to read (the ``"attention"`` simulation
stands in for it).

Bad input raises a clear error and nothing is invented: missing folder or files ->
``FileNotFoundError`` naming the expected files; a truncated or corrupt file -> ``ValueError``
naming it; missing channels -> ``ValueError`` listing them (never zero-filled); NaN/inf ->
``ValueError`` naming file and channel, unless ``drop_nonfinite=True`` drops the affected
segments (their count goes to ``info["dropped_nonfinite"]``); label/data count mismatch ->
``ValueError``. Nothing is shortened, duplicated or relabelled silently either (the cases
and outcomes are tabled in ``docs/FAULTS.md`` and tested in ``tests/test_faults.py``):
EDF files are checked against their own header (a file shorter than its header promises is
truncated -> ``ValueError``); Sleep-EDF hypnograms must be non-empty and cover the PSG, a
recording found twice or with two hypnograms is an error, a PSG without hypnogram is skipped
and reported in ``info["skipped"]`` (an error when its subject was asked for), and a dead or
flat channel is an error unless ``flat="drop"``/``"keep"``; EEGBCI runs must be of one task
(left/right fist runs 3, 4, 7, 8, 11, 12 or fists/feet runs 5, 6, 9, 10, 13, 14, labelled
accordingly), must not repeat, and each must hold at least one epoch; SEED labels must be
coded -1/0/1 and trials hold exactly 62 rows; DEAP ratings must be finite. ``subjects``
takes numbers or names like ``"s01"``/``"S001"``; an empty list is an error.

DEAP's ``.dat`` files are pickles; they are read with a restricted unpickler that admits
only numpy arrays (a crafted file cannot run code; see ``docs/FAULTS.md``). The EDF header
check, the restricted unpickler and the flat-channel test are hand-written (no library
offers them in this form). Walked through in ``notebooks/02_data`` (``dataset != "sim"``).

Units: DEAP and SEED are stored in microvolts, EEGBCI is converted from volts to
microvolts; Sleep-EDF is z-scored per channel within each recording (``info["unit"]``).
"""

from __future__ import annotations

import io
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from eegnb.data.container import EEGData
from eegnb.data.layouts import (
    BIOSEMI64_CHANNELS,
    DEAP_CHANNELS,
    EEGBCI_CHANNELS,
    SEED_CHANNELS,
    SLEEP_CH_TYPES,
    SLEEP_CHANNELS,
    SLEEP_STAGES,
    standard_montage,
)

SOURCES = {
    "deap": "DEAP 'data_preprocessed_python' (s01.dat ... s32.dat), after signing the EULA at "
            "https://www.eecs.qmul.ac.uk/mmv/datasets/deap/",
    "seed": "SEED 'Preprocessed_EEG' (<subject>_<date>.mat files and label.mat), on request from "
            "https://bcmi.sjtu.edu.cn/home/seed/",
    "sleep-edf": "Sleep-EDF Expanded from PhysioNet (https://physionet.org/content/sleep-edfx/), "
                 "e.g. with mne.datasets.sleep_physionet.age.fetch_data / temazepam.fetch_data",
    "eegbci": "PhysioNet EEG Motor Movement/Imagery (https://physionet.org/content/eegmmidb/), "
              "e.g. with mne.datasets.eegbci.load_data(subject, runs=[4, 8, 12])",
    "kul": "KU Leuven Auditory Attention Detection dataset (Das, Francart & Bertrand), Zenodo "
           "https://zenodo.org/records/3997352 (S1.mat ... S16.mat)",
}


def load(name: str, data_dir, subjects=None, **kw) -> EEGData:
    """Load real dataset ``name`` ("deap", "seed", "sleep-edf", "eegbci", "kul") from ``data_dir``.

    Keyword arguments go to the dataset's reader (:func:`load_deap`, :func:`load_seed`,
    :func:`load_sleep_edf`, :func:`load_eegbci`, :func:`load_kul`).
    """
    readers = {"deap": load_deap, "seed": load_seed, "sleep-edf": load_sleep_edf,
               "sleep_edf": load_sleep_edf, "eegbci": load_eegbci, "kul": load_kul}
    if name not in readers:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(SOURCES)}")
    return readers[name](data_dir, subjects=subjects, **kw)


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _check_dir(data_dir, name: str, expected: str) -> Path:
    if data_dir is None or str(data_dir) == "":
        raise FileNotFoundError(
            f"no data_dir given for {name}; expected {expected}. Obtain: {SOURCES[name]}")
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"{name} data_dir {path} does not exist; expected {expected}. Obtain: {SOURCES[name]}")
    return path


def _check_finite(X: np.ndarray, ch_names, file, drop: bool, what="segment") -> np.ndarray:
    """Boolean keep-mask over axis 0 of ``X (n, ch, t)``; raises on NaN/inf unless ``drop``."""
    bad = ~np.isfinite(X)
    if not bad.any():
        return np.ones(len(X), bool)
    if not drop:
        chans = sorted({ch_names[c] for c in np.flatnonzero(bad.any(axis=(0, 2)))})
        raise ValueError(
            f"non-finite values (NaN/inf) in {file}, channels {chans}; pass "
            f"drop_nonfinite=True to drop the affected {what}s")
    return ~bad.any(axis=(1, 2))


def _subject_ids(subjects, name: str) -> list[int]:
    """Subject numbers from ints or dataset names (``"s01"``, ``"S001"``, ``"7"``)."""
    if isinstance(subjects, (str, int, np.integer)):
        subjects = [subjects]
    out = []
    for s in subjects:
        if isinstance(s, (bool, np.bool_)):
            raise ValueError(f"{name}: subject {s!r} is not a subject number")
        if isinstance(s, (int, np.integer)):
            out.append(int(s))
        elif isinstance(s, float) and s.is_integer():
            out.append(int(s))
        elif isinstance(s, str) and (m := re.fullmatch(r"[A-Za-z]*0*(\d+)", s.strip())):
            out.append(int(m.group(1)))
        else:
            raise ValueError(f"{name}: subject {s!r} is not a subject number; pass e.g. 1 or 's01'")
    if not out:
        raise ValueError(f"{name}: subjects is empty; pass None for every subject or e.g. [1, 2]")
    dup = sorted({s for s in out if out.count(s) > 1})
    if dup:
        raise ValueError(f"{name}: subjects {dup} are listed more than once (they would load twice)")
    return out


def _select(found: dict[int, object], subjects, name: str, expected: str):
    if subjects is None:
        return dict(sorted(found.items()))
    subjects = _subject_ids(subjects, name)
    missing = [s for s in subjects if s not in found]
    if missing:
        raise FileNotFoundError(
            f"{name}: no files for subjects {missing} (expected {expected}); found subjects "
            f"{sorted(found)}. Obtain: {SOURCES[name]}")
    return {s: found[s] for s in subjects}


def edf_header(path) -> dict:
    """Check an EDF/EDF+/BDF file against its own header; return its record layout.

    Returns ``{"n_records", "record_s", "duration_s", "n_signals"}``. Raises ``ValueError``
    naming the file when it is shorter than a header, the header is unreadable, or the file
    holds fewer bytes than the header promises (a truncated download or copy). MNE reads
    such files without complaint, which is why this check exists.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(256)
        try:
            if len(head) < 256:
                raise ValueError(f"{size} bytes, fewer than the 256-byte EDF header")
            n_head, n_rec = int(head[184:192]), int(head[236:244])
            rec_s, ns = float(head[244:252]), int(head[252:256])
            if ns < 1 or n_head != 256 * (ns + 1):
                raise ValueError(f"header declares {ns} signals and {n_head} header bytes")
            f.seek(256 + ns * 216)
            spr = [int(f.read(8)) for _ in range(ns)]
        except ValueError as e:
            raise ValueError(f"{path} is not a readable EDF file ({e}); it is corrupt or "
                             "truncated: download it again") from None
    width = 3 if head[:1] == b"\xff" else 2  # BDF stores 24-bit samples
    if n_rec >= 0:
        expected = n_head + n_rec * sum(spr) * width
        if size < expected:
            raise ValueError(
                f"{path} is truncated: its header promises {n_rec} records ({expected} bytes) but "
                f"the file has {size} bytes ({(size - n_head) / max(expected - n_head, 1):.0%} of "
                "the data); download it again")
    return {"n_records": n_rec, "record_s": rec_s, "duration_s": max(n_rec, 0) * rec_s,
            "n_signals": ns}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that admits only what DEAP's files hold: numpy arrays, dtypes and scalars.

    Any other global (``os.system``, ``builtins.eval``, a class with ``__reduce__``) is
    refused before it is called, so a crafted ``.dat`` cannot run code.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles spell bytes (str -> bytes, no side effect)
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        if module == "numpy.dtypes" and name.endswith("DType"):  # dtype classes (numpy 2)
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name}: DEAP files hold only numpy arrays, so this file "
            "is not a DEAP file (and may be crafted to run code)")


def _load_deap_pickle(path: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy.core alias warning for Python-2 era pickles
        blob = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    if not isinstance(blob, dict) or "data" not in blob or "labels" not in blob:
        raise ValueError(f"expected a dict with 'data' and 'labels'; got {type(blob).__name__}")
    return blob


def _segments(x: np.ndarray, n_times: int) -> np.ndarray:
    """Non-overlapping segments ``(n_seg, ch, n_times)`` of ``x (ch, t)`` (tail dropped)."""
    n_seg = x.shape[-1] // n_times
    return x[:, : n_seg * n_times].reshape(x.shape[0], n_seg, n_times).transpose(1, 0, 2)


# ---------------------------------------------------------------------------------------
# DEAP
# ---------------------------------------------------------------------------------------
def load_deap(data_dir, subjects=None, *, label: str = "arousal", segment_seconds: float = 4.0,
              threshold: float = 5.0, baseline_seconds: float = 3.0,
              drop_nonfinite: bool = False) -> EEGData:
    """DEAP preprocessed Python release: ``sNN.dat`` pickles, ``data (40, 40, 8064)`` at 128 Hz.

    Keeps the first 32 (EEG) channels, drops the ``baseline_seconds`` pre-trial baseline,
    cuts non-overlapping ``segment_seconds`` segments, and labels each trial high (1) /
    low (0) by rating > ``threshold`` on ``label`` ("valence" or "arousal"). ``meta`` has
    binary ``valence``/``arousal`` and the raw ratings (``*_rating``). ``data_dir`` is the
    folder with the ``.dat`` files (or its parent holding ``data_preprocessed_python``).
    A non-finite valence/arousal rating is a ``ValueError``; with ``drop_nonfinite=True`` the
    trial is dropped and listed in ``info["dropped_nonfinite_ratings"]``. The files are read
    with a restricted unpickler (numpy arrays only).
    """
    if label not in ("valence", "arousal"):
        raise ValueError(f"label must be 'valence' or 'arousal'; got {label!r}")
    expected = "s01.dat ... s32.dat (DEAP data_preprocessed_python)"
    root = _check_dir(data_dir, "deap", expected)
    if not list(root.glob("s[0-9][0-9].dat")) and (root / "data_preprocessed_python").is_dir():
        root = root / "data_preprocessed_python"
    found = {int(p.stem[1:]): p for p in root.glob("s[0-9][0-9].dat")}
    if not found:
        raise FileNotFoundError(f"no DEAP files in {root}; expected {expected}. "
                                f"Obtain: {SOURCES['deap']}")
    sfreq = 128.0
    n_times = int(round(segment_seconds * sfreq))
    base = int(round(baseline_seconds * sfreq))
    Xs, metas = [], []
    dropped = 0
    dropped_ratings: list[dict] = []
    for s, path in _select(found, subjects, "deap", expected).items():
        try:
            blob = _load_deap_pickle(path)  # DEAP pickles were written by Python 2
            data, labels = np.asarray(blob["data"], float), np.asarray(blob["labels"], float)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means a bad file
            raise ValueError(f"cannot read DEAP file {path} (truncated or corrupt?): {e}") from e
        if data.ndim != 3:
            raise ValueError(f"{path}: 'data' must be (trials, channels, samples); got {data.shape}")
        if data.shape[1] < 32:
            raise ValueError(f"{path}: missing EEG channels {DEAP_CHANNELS[data.shape[1]:]} "
                             f"(file has {data.shape[1]} channels, DEAP needs the first 32)")
        if labels.ndim != 2 or labels.shape[0] != data.shape[0] or labels.shape[1] < 2:
            raise ValueError(f"{path}: labels {labels.shape} do not match {data.shape[0]} trials "
                             "(expected (trials, 4): valence, arousal, dominance, liking)")
        if data.shape[2] < base + n_times:
            raise ValueError(f"{path}: trials have {data.shape[2]} samples, fewer than the "
                             f"{baseline_seconds} s baseline plus one {segment_seconds} s segment")
        for tr in range(data.shape[0]):
            if not np.isfinite(labels[tr, :2]).all():  # a NaN rating is no "low" rating
                if not drop_nonfinite:
                    raise ValueError(
                        f"{path} trial {tr}: non-finite rating (valence, arousal) = "
                        f"{labels[tr, :2].tolist()}; pass drop_nonfinite=True to drop such trials")
                dropped_ratings.append({"file": path.name, "trial": tr})
                continue
            seg = _segments(data[tr, :32, base:], n_times)
            keep = _check_finite(seg, DEAP_CHANNELS, f"{path} trial {tr}", drop_nonfinite)
            dropped += int((~keep).sum())
            idx = np.flatnonzero(keep)
            Xs.append(seg[idx])
            r = labels[tr]
            metas.append(pd.DataFrame({
                "subject": s, "trial": tr, "segment": idx, "onset": idx * segment_seconds,
                "valence": int(r[0] > threshold), "arousal": int(r[1] > threshold),
                "valence_rating": r[0], "arousal_rating": r[1],
                "dominance_rating": r[2] if len(r) > 2 else np.nan,
                "liking_rating": r[3] if len(r) > 3 else np.nan,
            }))
    if not Xs:
        raise ValueError(f"no DEAP trials left in {root} (every trial dropped: {dropped_ratings})")
    meta = pd.concat(metas, ignore_index=True)
    return EEGData(
        X=np.concatenate(Xs), y=meta[label].to_numpy(), subject=meta["subject"].to_numpy(),
        sfreq=sfreq, ch_names=list(DEAP_CHANNELS), class_names=["low", "high"], meta=meta,
        info={"dataset": "deap", "layout": "deap", "unit": "uV", "label": label,
              "threshold": threshold, "dropped_nonfinite": dropped,
              "dropped_nonfinite_ratings": dropped_ratings},
    )


# ---------------------------------------------------------------------------------------
# SEED
# ---------------------------------------------------------------------------------------
def load_seed(data_dir, subjects=None, *, n_classes: int = 2, segment_seconds: float = 2.0,
              sessions=None, drop_nonfinite: bool = False) -> EEGData:
    """SEED ``Preprocessed_EEG``: per session a ``<subject>_<date>.mat`` with 15 trials.

    Each trial is a key like ``djc_eeg1`` .. ``djc_eeg15`` holding ``(62, samples)`` at
    200 Hz; ``label.mat`` holds the 15 labels (-1, 0, 1). ``n_classes=2`` keeps negative
    (0) vs positive (1); ``3`` gives negative/neutral/positive (0/1/2). Trials are cut into
    non-overlapping ``segment_seconds`` segments. Sessions of a subject are numbered
    1, 2, ... in date order (``sessions`` picks some). ``data_dir`` is ``Preprocessed_EEG``
    or its parent.
    """
    import scipy.io

    if n_classes not in (2, 3):
        raise ValueError(f"n_classes must be 2 or 3; got {n_classes}")
    expected = "Preprocessed_EEG/<subject>_<date>.mat and Preprocessed_EEG/label.mat"
    root = _check_dir(data_dir, "seed", expected)
    if (root / "Preprocessed_EEG").is_dir():
        root = root / "Preprocessed_EEG"
    label_path = root / "label.mat"
    if not label_path.exists():
        raise FileNotFoundError(f"SEED label file {label_path} not found; expected {expected}. "
                                f"Obtain: {SOURCES['seed']}")
    try:
        raw_labels = np.asarray(scipy.io.loadmat(label_path)["label"]).ravel()
        labels = raw_labels.astype(int)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"cannot read SEED labels {label_path}: {e}") from e
    codes = sorted({float(v) for v in raw_labels})
    if not set(codes) <= {-1.0, 0.0, 1.0} or not np.array_equal(labels, raw_labels):
        hint = " (coded 0/1/2? subtract 1)" if set(codes) <= {0.0, 1.0, 2.0} else ""
        raise ValueError(f"{label_path} codes labels {codes}, but SEED codes -1/0/1 "
                         f"(negative/neutral/positive){hint}")
    found: dict[int, list[Path]] = {}
    for p in sorted(root.glob("*.mat")):
        m = re.match(r"^(\d+)_(\d+)\.mat$", p.name)
        if m:
            found.setdefault(int(m.group(1)), []).append(p)
    if not found:
        raise FileNotFoundError(f"no SEED session files in {root}; expected {expected}. "
                                f"Obtain: {SOURCES['seed']}")
    sfreq = 200.0
    n_times = int(round(segment_seconds * sfreq))
    Xs, metas = [], []
    dropped = 0
    for s, files in _select(found, subjects, "seed", expected).items():
        files = sorted(files, key=lambda p: p.stem.split("_")[1])
        for sess, path in enumerate(files, start=1):
            if sessions is not None and sess not in sessions:
                continue
            try:
                mat = scipy.io.loadmat(path)
            except Exception as e:  # noqa: BLE001
                raise ValueError(f"cannot read SEED file {path} (truncated or corrupt?): {e}") from e
            keys = {int(m.group(1)): k for k in mat
                    if (m := re.match(r"^[A-Za-z]+_eeg(\d+)$", k))}
            if len(keys) != len(labels):
                raise ValueError(f"{path}: {len(keys)} trials but label.mat has {len(labels)} labels")
            for tr in sorted(keys):
                x = np.asarray(mat[keys[tr]], float)
                if x.ndim != 2 or x.shape[0] != 62:
                    n_ch = x.shape[0] if x.ndim == 2 else 0
                    if n_ch > 62:
                        raise ValueError(
                            f"{path} trial {keys[tr]}: {n_ch} rows but SEED has 62 channels (shape "
                            f"{x.shape}); not the 62-channel Preprocessed_EEG release?")
                    raise ValueError(f"{path} trial {keys[tr]}: missing channels "
                                     f"{SEED_CHANNELS[n_ch:]} (has shape {x.shape}, expected 62 rows)")
                emo = int(labels[tr - 1])
                if n_classes == 2 and emo == 0:
                    continue
                seg = _segments(x, n_times)
                keep = _check_finite(seg, SEED_CHANNELS, f"{path} trial {keys[tr]}",
                                     drop_nonfinite)
                dropped += int((~keep).sum())
                idx = np.flatnonzero(keep)
                Xs.append(seg[idx])
                metas.append(pd.DataFrame({
                    "subject": s, "session": sess, "trial": tr, "segment": idx,
                    "onset": idx * segment_seconds, "emotion": emo, "file": path.name}))
    if not Xs:
        raise ValueError("no SEED trials selected (check subjects/sessions)")
    meta = pd.concat(metas, ignore_index=True)
    emo = meta["emotion"].to_numpy()
    y = (emo > 0).astype(int) if n_classes == 2 else emo + 1
    names = ["negative", "positive"] if n_classes == 2 else ["negative", "neutral", "positive"]
    return EEGData(
        X=np.concatenate(Xs), y=y, subject=meta["subject"].to_numpy(), sfreq=sfreq,
        ch_names=list(SEED_CHANNELS), class_names=names, meta=meta,
        info={"dataset": "seed", "layout": "seed", "unit": "uV", "dropped_nonfinite": dropped},
    )


# ---------------------------------------------------------------------------------------
# Sleep-EDF
# ---------------------------------------------------------------------------------------
_STAGE_MAP = {"Sleep stage W": 0, "Sleep stage 1": 1, "Sleep stage 2": 2, "Sleep stage 3": 3,
              "Sleep stage 4": 3, "Sleep stage R": 4}
_SLEEP_RAW_NAMES = {"Fpz-Cz": "EEG Fpz-Cz", "EOG horizontal": "EOG horizontal",
                    "EMG submental": "EMG submental"}


def sleep_records() -> pd.DataFrame:
    """Demographics of every Sleep-EDF recording, from the tables shipped inside MNE.

    One row per PSG file: ``psg`` (file name), ``study`` (cassette/telemetry), ``subject``
    (number in the file name), ``night``, ``age``, ``sex`` (F/M), ``medication``
    (none/placebo/temazepam).
    """
    import mne

    folder = Path(mne.__file__).parent / "datasets" / "sleep_physionet"
    age = pd.read_csv(folder / "age_records.csv")
    age = age[age["record type"] == "PSG"]
    sc = pd.DataFrame({"psg": age["fname"], "study": "cassette",
                       "subject": age["fname"].str[3:5].astype(int),
                       "night": age["night"].astype(int), "age": age["age"].astype(float),
                       "sex": age["sex"].str[0].str.upper(), "medication": "none"})
    tem = pd.read_csv(folder / "temazepam_records.csv")
    st = pd.DataFrame({"psg": tem["fname_PSG"], "study": "telemetry",
                       "subject": tem["fname_PSG"].str[3:5].astype(int),
                       "night": tem["night nr"].astype(int), "age": tem["age"].astype(float),
                       "sex": tem["sex"].str[0].str.upper(),
                       "medication": tem["drug"].str.lower()})
    return pd.concat([sc, st], ignore_index=True)


def _find_sleep_pairs(root: Path, study: str):
    """``({subject: [(psg, hypnogram), ...]}, {subject: [psg without hypnogram, ...]})``.

    Raises ``ValueError`` when a PSG file name occurs twice under ``root`` (the same
    recording would load twice) or a PSG matches two hypnograms that the folder cannot
    tell apart (one would be picked silently).
    """
    prefixes = {"cassette": ["SC4"], "telemetry": ["ST7"], "both": ["SC4", "ST7"]}[study]
    files = sorted(root.rglob("*.edf"))
    psgs = [p for p in files if p.name.endswith("-PSG.edf") and p.name[:3] in prefixes]
    hyps: dict[str, list[Path]] = {}
    for p in files:
        if p.name.endswith("-Hypnogram.edf"):
            hyps.setdefault(p.name[:6], []).append(p)
    out: dict[int, list[tuple[Path, Path]]] = {}
    orphans: dict[int, list[Path]] = {}
    names: dict[str, list[Path]] = {}
    for psg in psgs:
        names.setdefault(psg.name, []).append(psg)
        s = int(psg.name[3:5]) + (100 if psg.name.startswith("ST7") and study == "both" else 0)
        cands = hyps.get(psg.name[:6], [])
        if len(cands) > 1:  # prefer the one beside the PSG when that decides it
            near = [h for h in cands if h.parent == psg.parent]
            cands = near if len(near) == 1 else cands
        if not cands:
            orphans.setdefault(s, []).append(psg)
            continue
        if len(cands) > 1:
            raise ValueError(
                f"{psg} matches {len(cands)} hypnograms {[str(h) for h in cands]}; keep the one "
                "that belongs to it (one would otherwise be picked silently)")
        out.setdefault(s, []).append((psg, cands[0]))
    if not out and orphans:
        first = next(iter(orphans.values()))[0]
        raise FileNotFoundError(
            f"no hypnogram {first.name[:6]}?-Hypnogram.edf for {first} (and no complete "
            f"PSG + hypnogram pair under {root}). Obtain: {SOURCES['sleep-edf']}")
    dup = {n: ps for n, ps in names.items() if len(ps) > 1}
    if dup:
        n, ps = next(iter(dup.items()))
        raise ValueError(
            f"{n} found {len(ps)} times under {root} ({[str(p) for p in ps]}): the same recording "
            f"would load twice; point data_dir at one copy or remove the duplicate"
            + (f" ({len(dup)} duplicated recordings in all)" if len(dup) > 1 else ""))
    return out, orphans


def _flat_channels(ep: np.ndarray, threshold_uv: float) -> list[int]:
    """Channels of ``ep (n, ch, t)`` (microvolts) whose SD over all epochs is below threshold."""
    return [c for c in range(ep.shape[1]) if float(ep[:, c].std()) < threshold_uv]


def load_sleep_edf(data_dir, subjects=None, *, study: str = "both", trim_wake_min: float = 30.0,
                   zscore: bool = True, drop_nonfinite: bool = False, flat: str = "raise",
                   flat_uv: float = 0.1, max_unscored_min: float = 30.0) -> EEGData:
    """Sleep-EDF Expanded: PSG + hypnogram pairs of the cassette and/or telemetry study.

    ``study`` is "cassette" (``SC4ssNE0-PSG.edf`` + ``SC4ssN?-Hypnogram.edf``),
    "telemetry" (``ST7ssNJ0-PSG.edf`` + ``ST7ssNJ?-Hypnogram.edf``) or "both" (telemetry
    subjects numbered 100 + ss). Reads Fpz-Cz, horizontal EOG and submental EMG with MNE,
    resamples to 100 Hz, cuts 30 s epochs, maps stages 3 and 4 to N3, drops movement and
    unknown epochs, trims wake to ``trim_wake_min`` minutes before the first and after the
    last sleep epoch (None keeps all) and, with ``zscore``, z-scores each channel within
    each recording. Age, sex and medication come from the record tables inside MNE
    (:func:`sleep_records`). ``data_dir`` is searched recursively.

    Checks (``ValueError`` naming the file unless said otherwise): every EDF against its
    header (truncation); a hypnogram must hold stage annotations and reach within
    ``max_unscored_min`` minutes of the PSG's end (a short hypnogram); a recording found
    twice, or with two hypnograms, is an error; a PSG without hypnogram is skipped, with a
    warning and an entry in ``info["skipped"]``, when ``subjects`` is None (an error
    when its subject was asked for). A channel whose SD over the kept epochs is below
    ``flat_uv`` microvolts (dead or flat) is an error with ``flat="raise"``; ``"drop"``
    skips that recording (listed in ``info["skipped"]``), ``"keep"`` keeps it (listed in
    ``info["flat_channels"]``; the z-score leaves a flat channel at zero).
    """
    import mne

    if study not in ("cassette", "telemetry", "both"):
        raise ValueError(f"study must be 'cassette', 'telemetry' or 'both'; got {study!r}")
    if flat not in ("raise", "drop", "keep"):
        raise ValueError(f"flat must be 'raise', 'drop' or 'keep'; got {flat!r}")
    expected = ("SC4ssNE0-PSG.edf + SC4ssN?-Hypnogram.edf (cassette) and/or "
                "ST7ssNJ0-PSG.edf + ST7ssNJ?-Hypnogram.edf (telemetry)")
    root = _check_dir(data_dir, "sleep-edf", expected)
    found, orphans = _find_sleep_pairs(root, study)
    if not found:
        hyps = list(root.rglob("*-Hypnogram.edf"))
        hint = (f" (found {len(hyps)} hypnograms but no PSG signal files)" if hyps else "")
        raise FileNotFoundError(f"no Sleep-EDF PSG files in {root}{hint}; expected {expected}. "
                                f"Obtain: {SOURCES['sleep-edf']}")
    skipped: list[dict] = []
    if subjects is not None:
        wanted = _subject_ids(subjects, "sleep-edf")
        for s in wanted:
            if s in orphans:
                psg = orphans[s][0]
                raise FileNotFoundError(
                    f"no hypnogram {psg.name[:6]}?-Hypnogram.edf for {psg} (subject {s} was asked "
                    f"for). Obtain: {SOURCES['sleep-edf']}")
    else:
        for _, psgs in sorted(orphans.items()):
            for psg in psgs:
                skipped.append({"file": str(psg), "reason": "no hypnogram"})
        if skipped:
            warnings.warn(f"Sleep-EDF: skipped {len(skipped)} PSG file(s) without a hypnogram: "
                          f"{[Path(d['file']).name for d in skipped]} (see info['skipped'])",
                          stacklevel=2)
    records = sleep_records().set_index("psg")
    sfreq = 100.0
    n_times = 3000
    Xs, ys, metas = [], [], []
    dropped = 0
    flat_found: list[dict] = []
    for s, pairs in _select(found, subjects, "sleep-edf", expected).items():
        for psg, hyp in pairs:
            edf_header(psg)
            edf_header(hyp)
            try:
                raw = mne.io.read_raw_edf(psg, preload=True, verbose="error")
            except Exception as e:  # noqa: BLE001
                raise ValueError(f"cannot read Sleep-EDF PSG {psg} (truncated or corrupt?): {e}") from e
            have = set(raw.ch_names)
            missing = [k for k, v in _SLEEP_RAW_NAMES.items() if v not in have and k not in have]
            if missing:
                raise ValueError(f"{psg}: missing channels {missing} (has {raw.ch_names})")
            picks = [v if v in have else k for k, v in _SLEEP_RAW_NAMES.items()]
            raw.pick(picks)
            raw.rename_channels(dict(zip(picks, SLEEP_CHANNELS)))
            raw.set_channel_types(dict(zip(SLEEP_CHANNELS, SLEEP_CH_TYPES)), verbose="error")
            if raw.info["sfreq"] != sfreq:
                raw.resample(sfreq, verbose="error")
            from eegnb.data.simulate import hypnogram_epochs

            stages = hypnogram_epochs(hyp, _STAGE_MAP)
            data = raw.get_data() * 1e6  # uV
            n_avail = data.shape[1] // n_times
            scored = np.flatnonzero(stages >= 0)
            if not len(scored):
                raise ValueError(
                    f"{hyp} holds no sleep stage annotations ({len(stages)} epochs annotated, none "
                    f"scored W/1/2/3/4/R); it is empty or corrupt: download it again")
            gap_min = (n_avail - len(stages)) * 0.5
            if gap_min > max_unscored_min:
                raise ValueError(
                    f"{hyp} is short: its annotations end after {len(stages)} epochs "
                    f"({len(stages) / 120:.1f} h) but {psg} holds {n_avail} ({n_avail / 120:.1f} h); "
                    f"download it again (or raise max_unscored_min, now {max_unscored_min} min)")
            asleep_all = np.flatnonzero(stages > 0)
            # Some cassette hypnograms score a stray wake epoch hours after the night; the
            # wake trimming drops it anyway, so only epochs we would keep must have signal.
            needed = scored[-1] if len(scored) else -1
            if trim_wake_min is not None and len(asleep_all):
                needed = min(needed, asleep_all[-1] + int(round(trim_wake_min * 2)))
            if needed >= n_avail:
                raise ValueError(
                    f"{hyp} scores {needed + 1} epochs but {psg} holds only {n_avail} "
                    "30 s epochs (label/data count mismatch)")
            stages = stages[:n_avail]
            asleep = np.flatnonzero(stages > 0)
            lo, hi = 0, len(stages)
            if trim_wake_min is not None and len(asleep):
                keep_n = int(round(trim_wake_min * 2))
                lo, hi = max(asleep[0] - keep_n, 0), min(asleep[-1] + keep_n + 1, len(stages))
            idx = np.array([i for i in range(lo, hi) if stages[i] >= 0], dtype=int)
            if not len(idx):
                raise ValueError(f"{hyp}: no scored epoch is left after wake trimming")
            ep = data[:, : n_avail * n_times].reshape(3, n_avail, n_times).transpose(1, 0, 2)[idx]
            keep = _check_finite(ep, SLEEP_CHANNELS, psg, drop_nonfinite, what="epoch")
            dropped += int((~keep).sum())
            ep, idx = ep[keep], idx[keep]
            bad = _flat_channels(ep, flat_uv) if len(ep) else []
            if bad:
                names = [SLEEP_CHANNELS[c] for c in bad]
                if flat == "raise":
                    raise ValueError(
                        f"{psg}: channel(s) {names} are flat or dead (SD below {flat_uv} uV over "
                        f"the {len(ep)} kept epochs); z-scoring would turn them into constants. "
                        "Pass flat='drop' to skip this recording or flat='keep' to keep it")
                if flat == "drop":
                    skipped.append({"file": str(psg), "reason": f"flat channels {names}"})
                    warnings.warn(f"Sleep-EDF: skipped {psg.name}: flat channels {names}",
                                  stacklevel=2)
                    continue
                flat_found.append({"file": str(psg), "channels": names})
            if zscore:
                mu = ep.mean(axis=(0, 2), keepdims=True)
                sd = ep.std(axis=(0, 2), keepdims=True)
                ep = (ep - mu) / np.where(sd > 0, sd, 1.0)
            rec = records.loc[psg.name] if psg.name in records.index else None
            Xs.append(ep)
            ys.append(stages[idx])
            metas.append(pd.DataFrame({
                "subject": s, "recording": psg.name[:8],
                "study": "telemetry" if psg.name.startswith("ST7") else "cassette",
                "night": int(psg.name[5]), "epoch": idx, "onset": idx * 30.0,
                "stage": [SLEEP_STAGES[i] for i in stages[idx]],
                "age": rec["age"] if rec is not None else np.nan,
                "sex": rec["sex"] if rec is not None else None,
                "medication": rec["medication"] if rec is not None else None,
            }))
    if not Xs:
        raise ValueError(f"no scored Sleep-EDF epochs found in the selected recordings "
                         f"(skipped: {skipped})")
    meta = pd.concat(metas, ignore_index=True)
    return EEGData(
        X=np.concatenate(Xs), y=np.concatenate(ys), subject=meta["subject"].to_numpy(),
        sfreq=sfreq, ch_names=list(SLEEP_CHANNELS), ch_types=list(SLEEP_CH_TYPES),
        class_names=list(SLEEP_STAGES), meta=meta,
        info={"dataset": "sleep-edf", "layout": "sleep-edf", "unit": "z" if zscore else "uV",
              "study": study, "trim_wake_min": trim_wake_min, "dropped_nonfinite": dropped,
              "skipped": skipped, "flat_channels": flat_found},
    )


# ---------------------------------------------------------------------------------------
# EEGBCI (PhysioNet eegmmidb)
# ---------------------------------------------------------------------------------------
def _eegbci_roots(root: Path) -> list[Path]:
    """Folders that may hold ``S###`` subject folders (or the ``.edf`` files themselves)."""
    cands = [root, root / "eegmmidb", root / "files" / "eegmmidb" / "1.0.0",
             root / "MNE-eegbci-data" / "files" / "eegmmidb" / "1.0.0"]
    return [c for c in cands if c.is_dir()]


#: eegmmidb runs by task: T1/T2 mean left/right fist in these runs ...
EEGBCI_LEFT_RIGHT_RUNS = (3, 4, 7, 8, 11, 12)
#: ... and both fists/both feet in these (runs 1 and 2 are baselines without cues).
EEGBCI_FISTS_FEET_RUNS = (5, 6, 9, 10, 13, 14)
EEGBCI_IMAGERY_RUNS = (4, 6, 8, 10, 12, 14)


def _eegbci_task(runs) -> tuple[list[int], list[str], str]:
    """Validated runs, class names and task name; one task per dataset."""
    try:
        runs = [int(r) for r in np.atleast_1d(runs)]
    except (TypeError, ValueError):
        raise ValueError(f"runs must be run numbers 3..14; got {runs!r}") from None
    if not runs:
        raise ValueError("runs is empty; e.g. runs=(4, 8, 12) (left/right fist imagery)")
    dup = sorted({r for r in runs if runs.count(r) > 1})
    if dup:
        raise ValueError(f"runs {dup} are listed more than once (their trials would load twice)")
    bad = [r for r in runs if r not in EEGBCI_LEFT_RIGHT_RUNS + EEGBCI_FISTS_FEET_RUNS]
    if bad:
        raise ValueError(f"runs {bad} have no T1/T2 task (runs 1, 2 are baselines; eegmmidb has "
                         "runs 1..14); left/right fist: 3, 4, 7, 8, 11, 12; fists/feet: 5, 6, 9, 10, 13, 14")
    lr = [r for r in runs if r in EEGBCI_LEFT_RIGHT_RUNS]
    ff = [r for r in runs if r in EEGBCI_FISTS_FEET_RUNS]
    if lr and ff:
        raise ValueError(f"runs mix left/right fist runs {lr} with both fists/both feet runs {ff}: "
                         "T1/T2 mean different movements there; load them separately")
    if lr:
        return runs, ["left_hand", "right_hand"], "left/right fist"
    return runs, ["both_fists", "both_feet"], "both fists/both feet"


def load_eegbci(data_dir, subjects=None, *, runs=(4, 8, 12), tmin: float = 0.0,
                tmax: float = 4.0, sfreq: float = 160.0,
                drop_nonfinite: bool = False, include_rest: bool = False) -> EEGData:
    """PhysioNet EEG Motor Movement/Imagery: left (T1) vs right (T2) fist imagery.

    Runs 3, 4, 7, 8, 11, 12 are left (T1) / right (T2) fist (``class_names`` ``left_hand``,
    ``right_hand``); runs 5, 6, 9, 10, 13, 14 are both fists (T1) / both feet (T2)
    (``both_fists``, ``both_feet``); mixing the two, repeating a run, or a run without cues
    is a ``ValueError``. Even runs are imagery, odd runs execution (``info["imagery"]``).
    A truncated file (shorter than its EDF header says) is a ``ValueError``; a cue too close
    to the end of a run for ``tmax`` is dropped and listed in ``info["dropped_cues"]``
    (count in ``info["dropped"]``); a run left with no epoch is a ``ValueError``.

    Reads ``S###R##.edf`` of ``runs`` (imagery runs 4, 8, 12 by default) with
    ``mne.io.read_raw_edf``, standardises channel names (``mne.datasets.eegbci.standardize``),
    sets the standard 10-05 montage, and cuts epochs from ``tmin`` to ``tmax`` s after each
    cue (640 samples at 160 Hz). Recordings at another rate are resampled to ``sfreq``.
    ``data_dir`` is the folder holding ``S001/`` (also accepted: its parent
    ``eegmmidb``/MNE's ``MNE-eegbci-data`` tree, or a single ``S001`` folder).
    ``include_rest`` also cuts an epoch after every rest cue (T0), as a third class ``rest``
    (the semi-synthetic layout uses them as extra real background).
    """
    import mne

    expected = "S###/S###R04.edf, S###R08.edf, S###R12.edf (PhysioNet eegmmidb)"
    runs, class_names, task = _eegbci_task(runs)
    if not tmax > tmin:
        raise ValueError(f"tmax ({tmax}) must be greater than tmin ({tmin})")
    root = _check_dir(data_dir, "eegbci", expected)
    found: dict[int, Path] = {}
    for r in _eegbci_roots(root):
        for d in r.glob("S[0-9][0-9][0-9]"):
            if d.is_dir():
                found.setdefault(int(d.name[1:]), d)
    if not found and re.match(r"^S\d{3}$", root.name):
        found[int(root.name[1:])] = root
    if not found:
        raise FileNotFoundError(f"no EEGBCI subject folders (S001, ...) under {root}; expected "
                                f"{expected}. Obtain: {SOURCES['eegbci']}")
    n_times = int(round((tmax - tmin) * sfreq))
    epochs_X, metas = [], []
    dropped = 0
    dropped_cues: list[dict] = []
    for s, folder in _select(found, subjects, "eegbci", expected).items():
        for run in runs:
            path = folder / f"S{s:03d}R{run:02d}.edf"
            if not path.exists():
                raise FileNotFoundError(f"EEGBCI file {path} not found; expected {expected}. "
                                        f"Obtain: {SOURCES['eegbci']}")
            edf_header(path)  # MNE reads a truncated run silently: check it against its header
            try:
                raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
            except Exception as e:  # noqa: BLE001
                raise ValueError(f"cannot read EEGBCI file {path} (truncated or corrupt?): {e}") from e
            mne.datasets.eegbci.standardize(raw)
            missing = [c for c in EEGBCI_CHANNELS if c not in raw.ch_names]
            if missing:
                raise ValueError(f"{path}: missing channels {missing}")
            raw.pick(EEGBCI_CHANNELS)
            raw.set_montage(standard_montage(), on_missing="ignore", verbose="error")
            if raw.info["sfreq"] != sfreq:
                raw.resample(sfreq, verbose="error")
            cues = [d for d in raw.annotations.description if d in ("T1", "T2")]
            if not cues:
                raise ValueError(f"{path}: no T1/T2 cue annotations (not an imagery run?)")
            event_id = {"T1": 1, "T2": 2, **({"T0": 3} if include_rest else {})}
            events, _ = mne.events_from_annotations(raw, event_id=event_id, verbose="error")
            events[:, 2] -= 1  # T1 -> 0, T2 -> 1 (left/right fist, or both fists/both feet), T0 -> 2
            data = raw.get_data() * 1e6  # uV
            starts = events[:, 0] + int(round(tmin * sfreq))
            ok = (starts >= 0) & (starts + n_times <= data.shape[1])
            if not ok.any():
                raise ValueError(
                    f"{path}: no cue leaves the window tmin={tmin} .. tmax={tmax} s inside the run "
                    f"({data.shape[1] / sfreq:.1f} s, {len(ok)} cues); lower tmax")
            if not ok.all():  # a cue too close to the end of the run cannot hold an epoch
                dropped += int((~ok).sum())
                dropped_cues += [{"file": path.name, "onset": float(events[i, 0] / sfreq),
                                  "reason": "window past the run's edge"}
                                 for i in np.flatnonzero(~ok)]
            events, starts = events[ok], starts[ok]
            X = np.stack([data[:, a:a + n_times] for a in starts]) if len(starts) else \
                np.zeros((0, len(EEGBCI_CHANNELS), n_times))
            keep = _check_finite(X, EEGBCI_CHANNELS, path, drop_nonfinite, what="epoch")
            dropped += int((~keep).sum())
            epochs_X.append(X[keep])
            metas.append(pd.DataFrame({
                "subject": s, "run": run, "trial": np.flatnonzero(keep),
                "onset": events[keep, 0] / sfreq, "label": events[keep, 2]}))
    meta = pd.concat(metas, ignore_index=True)
    y = meta.pop("label").to_numpy()
    return EEGData(
        X=np.concatenate(epochs_X), y=y, subject=meta["subject"].to_numpy(), sfreq=sfreq,
        ch_names=list(EEGBCI_CHANNELS), class_names=list(class_names) + (["rest"] if include_rest else []),
        meta=meta,
        info={"dataset": "eegbci", "layout": "eegbci", "unit": "uV", "runs": list(runs),
              "tmin": tmin, "tmax": tmax, "montage": standard_montage(), "dropped": dropped,
              "dropped_cues": dropped_cues, "task": task,
              "imagery": {r: r in EEGBCI_IMAGERY_RUNS for r in runs}},
    )


# ---------------------------------------------------------------------------------------
# KU Leuven auditory attention detection (AAD) dataset
# ---------------------------------------------------------------------------------------
KUL_EAR_CLASSES = {"L": 0, "R": 1}  # attended_ear -> y (class_names ["left", "right"])


def _mat_field(obj, name: str, where: str, path: Path):
    """Field ``name`` of a MATLAB struct read with ``simplify_cells=True`` (a dict)."""
    if not isinstance(obj, dict) or name not in obj:
        have = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(f"{path}: {where} has no field {name!r} (has {have}); expected the KU "
                         "Leuven AAD layout trials{i}.RawData.EegData, .FileHeader.SampleRate, "
                         ".attended_ear")
    return obj[name]


def _kul_channels(raw: dict, n_cols: int, path: Path, tr: int) -> np.ndarray:
    """Column order mapping the file's channels to :data:`BIOSEMI64_CHANNELS`: ``(64,)`` int.

    ``RawData.Channels`` holds channel numbers 1..64 (BioSemi A1..B32); labels are matched
    by name. Missing, repeated or unknown channels are a ``ValueError``.
    """
    chans = raw.get("Channels")
    if chans is None:
        if n_cols != 64:
            raise ValueError(f"{path} trial {tr}: EegData has {n_cols} columns, expected 64 "
                             "(samples x channels)")
        return np.arange(64)
    vals = np.atleast_1d(np.asarray(chans, dtype=object)).ravel().tolist()
    if len(vals) != n_cols:
        raise ValueError(f"{path} trial {tr}: RawData.Channels lists {len(vals)} channels but "
                         f"EegData has {n_cols} columns (expected samples x 64 channels)")
    if all(isinstance(v, str) for v in vals):
        lower = [v.strip().lower() for v in vals]
        missing = [c for c in BIOSEMI64_CHANNELS if c.lower() not in lower]
        if missing:
            raise ValueError(f"{path} trial {tr}: missing channels {missing}")
        order = np.array([lower.index(c.lower()) for c in BIOSEMI64_CHANNELS])
    else:
        try:
            nums = np.array([float(v) for v in vals])
        except (TypeError, ValueError):
            raise ValueError(f"{path} trial {tr}: RawData.Channels must be numbers 1..64 or "
                             f"labels; got {vals[:5]}...") from None
        if not np.all(nums == np.round(nums)):
            raise ValueError(f"{path} trial {tr}: RawData.Channels are not whole numbers")
        nums = nums.astype(int)
        missing = sorted(set(range(1, 65)) - set(nums.tolist()))
        if missing:
            raise ValueError(f"{path} trial {tr}: missing channels "
                             f"{[BIOSEMI64_CHANNELS[i - 1] for i in missing]} (numbers {missing})")
        if len(set(nums.tolist())) != len(nums) or nums.min() < 1 or nums.max() > 64:
            raise ValueError(f"{path} trial {tr}: RawData.Channels repeats a channel or lies "
                             f"outside 1..64: {nums.tolist()}")
        order = np.array([int(np.flatnonzero(nums == k)[0]) for k in range(1, 65)])
    return order


def load_kul(data_dir, subjects=None, *, window_seconds: float = 4.0, sfreq: float = 128.0,
             trials=None, drop_nonfinite: bool = False) -> EEGData:
    """KU Leuven AAD dataset (Das, Francart & Bertrand, Zenodo 3997352): attended ear L/R.

    16 subjects, one MATLAB file each (``S1.mat`` ... ``S16.mat`` in ``data_dir``) with a
    cell array ``trials`` (20 per subject: 8 of about 6 min, 12 repetitions of 2 min); each
    trial is a struct with ``RawData.EegData`` (samples x 64, BioSemi order),
    ``RawData.Channels`` (channel numbers 1..64), ``FileHeader.SampleRate`` (128 Hz after the
    release's 0.5 Hz high-pass and downsampling from 8192 Hz), ``attended_ear`` (``'L'`` or
    ``'R'``), ``stimuli``, ``condition`` (``'hrtf'``/``'dry'``), ``experiment``, ``part``,
    ``attended_track``, ``repetition``, ``TrialID``. Each trial is cut into non-overlapping
    ``window_seconds`` windows (the tail shorter than a window is dropped and its length summed
    in ``info["dropped_tail_s"]``); ``y`` = 0 (``"left"``) for ``'L'``, 1 (``"right"``) for
    ``'R'``. A trial at another rate is resampled to ``sfreq`` (MNE, listed in
    ``info["resampled"]``). ``trials`` (1-based positions in the cell array) picks trials.

    Windows of one trial share its label: split by trial (``meta["trial"]``) or subject, never
    window by window (the dataset's authors warn that random window splits overestimate AAD
    accuracy). Values are kept as stored (``info["unit"]``). Errors (``ValueError`` naming
    file and trial): a file without ``trials``, a trial without ``RawData.EegData``,
    ``FileHeader.SampleRate`` or ``attended_ear``, an ear other than L/R, EEG that is not
    samples x 64 (or whose ``Channels`` do not give each of the 64 once), a trial shorter than
    one window, NaN/inf (unless ``drop_nonfinite``); MATLAB v7.3 (HDF5) files cannot be read
    by scipy (resave with ``save(..., '-v7')``).
    """
    import scipy.io

    if not window_seconds > 0 or not sfreq > 0:
        raise ValueError(f"window_seconds and sfreq must be > 0; got {window_seconds}, {sfreq}")
    expected = "S1.mat ... S16.mat (KU Leuven AAD dataset, each holding 'trials')"
    root = _check_dir(data_dir, "kul", expected)
    found = {int(m.group(1)): p for p in sorted(root.glob("S*.mat"))
             if (m := re.fullmatch(r"S(\d+)\.mat", p.name))}
    if not found:
        raise FileNotFoundError(f"no KUL subject files in {root}; expected {expected}. "
                                f"Obtain: {SOURCES['kul']}")
    n_times = int(round(window_seconds * sfreq))
    Xs, metas, resampled = [], [], []
    dropped, tail_s = 0, 0.0
    for s, path in _select(found, subjects, "kul", expected).items():
        try:
            mat = scipy.io.loadmat(path, simplify_cells=True)
        except NotImplementedError as e:  # scipy's message for v7.3 (HDF5) files
            raise ValueError(f"cannot read {path}: MATLAB v7.3 (HDF5) files are not supported; "
                             f"resave it with save(..., '-v7') ({e})") from e
        except Exception as e:  # noqa: BLE001
            raise ValueError(f"cannot read KUL file {path} (truncated or corrupt?): {e}") from e
        if "trials" not in mat:
            raise ValueError(f"{path} holds no 'trials' (has {sorted(k for k in mat if not k.startswith('__'))}); "
                             f"expected {expected}")
        cells = mat["trials"]
        cells = [cells] if isinstance(cells, dict) else list(np.atleast_1d(cells).ravel())
        if not cells:
            raise ValueError(f"{path}: 'trials' is empty")
        pick = list(range(1, len(cells) + 1)) if trials is None else \
            [int(t) for t in np.atleast_1d(trials)]
        if len(set(pick)) != len(pick) or not pick:
            raise ValueError(f"trials {list(pick)} is empty or repeats a trial (its windows would "
                             "load twice)")
        bad = [t for t in pick if not 1 <= t <= len(cells)]
        if bad:
            raise ValueError(f"{path}: trials {bad} do not exist (the file has {len(cells)})")
        for tr in pick:
            cell = cells[tr - 1]
            where = f"trials{{{tr}}}"
            raw = _mat_field(cell, "RawData", where, path)
            eeg = np.asarray(_mat_field(raw, "EegData", where + ".RawData", path), dtype=float)
            fs = _mat_field(_mat_field(cell, "FileHeader", where, path), "SampleRate",
                            where + ".FileHeader", path)
            try:
                fs = float(np.asarray(fs).ravel()[0])
            except (TypeError, ValueError, IndexError):
                raise ValueError(f"{path} {where}: FileHeader.SampleRate is not a number: {fs!r}") from None
            if not fs > 0:
                raise ValueError(f"{path} {where}: FileHeader.SampleRate must be > 0; got {fs}")
            ear = str(_mat_field(cell, "attended_ear", where, path)).strip().upper()
            if ear not in KUL_EAR_CLASSES:
                raise ValueError(f"{path} {where}: attended_ear {ear!r}; expected 'L' or 'R'")
            if eeg.ndim != 2:
                raise ValueError(f"{path} {where}: EegData must be samples x 64; got shape {eeg.shape}")
            if eeg.shape[1] != 64 and eeg.shape[0] == 64:
                raise ValueError(f"{path} {where}: EegData is {eeg.shape}, channels x samples? "
                                 "The KU Leuven layout is samples x 64")
            x = eeg[:, _kul_channels(raw, eeg.shape[1], path, tr)].T  # (64, samples)
            if fs != sfreq:
                import mne

                x = mne.filter.resample(x, up=sfreq, down=fs, npad="auto", verbose="error")
                resampled.append({"file": path.name, "trial": tr, "from_hz": fs})
            if x.shape[1] < n_times:
                raise ValueError(f"{path} {where}: {x.shape[1] / sfreq:.2f} s of EEG, shorter than "
                                 f"one {window_seconds} s window")
            seg = _segments(x, n_times)
            tail_s += (x.shape[1] - len(seg) * n_times) / sfreq
            keep = _check_finite(seg, BIOSEMI64_CHANNELS, f"{path} {where}", drop_nonfinite,
                                 what="window")
            dropped += int((~keep).sum())
            idx = np.flatnonzero(keep)
            Xs.append(seg[idx])
            stim = cell.get("stimuli", [])
            stim = [str(v) for v in np.atleast_1d(np.asarray(stim, dtype=object)).ravel()]
            metas.append(pd.DataFrame({
                "subject": s, "trial": tr, "segment": idx, "onset": idx * window_seconds,
                "attended_ear": ear, "condition": str(cell.get("condition", "")),
                "experiment": cell.get("experiment", np.nan), "part": cell.get("part", np.nan),
                "attended_track": cell.get("attended_track", np.nan),
                "repetition": cell.get("repetition", np.nan),
                "stimulus_left": stim[0] if stim else "",
                "stimulus_right": stim[1] if len(stim) > 1 else "", "file": path.name}))
    meta = pd.concat(metas, ignore_index=True)
    y = meta["attended_ear"].map(KUL_EAR_CLASSES).to_numpy().astype(np.int64)
    return EEGData(
        X=np.concatenate(Xs), y=y, subject=meta["subject"].to_numpy(), sfreq=sfreq,
        ch_names=list(BIOSEMI64_CHANNELS), class_names=["left", "right"], meta=meta,
        info={"dataset": "kul", "layout": "auditory", "unit": "as stored (BioSemi export)",
              "window_seconds": window_seconds, "dropped_nonfinite": dropped,
              "dropped_tail_s": round(tail_s, 6), "resampled": resampled,
              "montage": standard_montage()},
    )
