"""Readers for the real datasets the papers used: DEAP, SEED, Sleep-EDF and EEGBCI.

``load(name, data_dir, subjects=None, **kw) -> EEGData``. The loaders only read files that
are already on disk; downloading is the user's job (each error says where a dataset is
obtained). ``subjects`` selects subjects by their dataset number (EEGBCI ``S001`` -> 1,
DEAP ``s01`` -> 1, SEED ``1_20131027.mat`` -> 1, Sleep-EDF ``SC4011E0`` -> 1).

Bad input raises a clear error and nothing is invented: missing folder or files ->
``FileNotFoundError`` naming the expected files; a truncated or corrupt file -> ``ValueError``
naming it; missing channels -> ``ValueError`` listing them (never zero-filled); NaN/inf ->
``ValueError`` naming file and channel, unless ``drop_nonfinite=True`` drops the affected
segments (their count goes to ``info["dropped_nonfinite"]``); label/data count mismatch ->
``ValueError``. Walked through in ``notebooks/02_data`` (``dataset != "sim"``).

Units: DEAP and SEED are stored in microvolts, EEGBCI is converted from volts to
microvolts; Sleep-EDF is z-scored per channel within each recording (``info["unit"]``).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd

from eegnb.data.container import EEGData
from eegnb.data.layouts import (
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
}


def load(name: str, data_dir, subjects=None, **kw) -> EEGData:
    """Load real dataset ``name`` ("deap", "seed", "sleep-edf", "eegbci") from ``data_dir``.

    Keyword arguments go to the dataset's reader (:func:`load_deap`, :func:`load_seed`,
    :func:`load_sleep_edf`, :func:`load_eegbci`).
    """
    readers = {"deap": load_deap, "seed": load_seed, "sleep-edf": load_sleep_edf,
               "sleep_edf": load_sleep_edf, "eegbci": load_eegbci}
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


def _select(found: dict[int, object], subjects, name: str, expected: str):
    if subjects is None:
        return dict(sorted(found.items()))
    subjects = [int(s) for s in np.atleast_1d(subjects)]
    missing = [s for s in subjects if s not in found]
    if missing:
        raise FileNotFoundError(
            f"{name}: no files for subjects {missing} (expected {expected}); found subjects "
            f"{sorted(found)}. Obtain: {SOURCES[name]}")
    return {s: found[s] for s in subjects}


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
    for s, path in _select(found, subjects, "deap", expected).items():
        try:
            with open(path, "rb") as f:
                blob = pickle.load(f, encoding="latin1")  # DEAP pickles were written by Python 2
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
    meta = pd.concat(metas, ignore_index=True)
    return EEGData(
        X=np.concatenate(Xs), y=meta[label].to_numpy(), subject=meta["subject"].to_numpy(),
        sfreq=sfreq, ch_names=list(DEAP_CHANNELS), class_names=["low", "high"], meta=meta,
        info={"dataset": "deap", "layout": "deap", "unit": "uV", "label": label,
              "threshold": threshold, "dropped_nonfinite": dropped},
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
        labels = np.asarray(scipy.io.loadmat(label_path)["label"]).ravel().astype(int)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"cannot read SEED labels {label_path}: {e}") from e
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


def _find_sleep_pairs(root: Path, study: str) -> dict[int, list[tuple[Path, Path]]]:
    prefixes = {"cassette": ["SC4"], "telemetry": ["ST7"], "both": ["SC4", "ST7"]}[study]
    files = [p for p in root.rglob("*.edf")]
    psgs = sorted(p for p in files if p.name.endswith("-PSG.edf") and p.name[:3] in prefixes)
    hyps = {p.name[:6]: p for p in files if p.name.endswith("-Hypnogram.edf")}
    out: dict[int, list[tuple[Path, Path]]] = {}
    for psg in psgs:
        hyp = hyps.get(psg.name[:6])
        if hyp is None:
            raise FileNotFoundError(f"no hypnogram {psg.name[:6]}?-Hypnogram.edf for {psg}")
        s = int(psg.name[3:5]) + (100 if psg.name.startswith("ST7") and study == "both" else 0)
        out.setdefault(s, []).append((psg, hyp))
    return out


def load_sleep_edf(data_dir, subjects=None, *, study: str = "both", trim_wake_min: float = 30.0,
                   zscore: bool = True, drop_nonfinite: bool = False) -> EEGData:
    """Sleep-EDF Expanded: PSG + hypnogram pairs of the cassette and/or telemetry study.

    ``study`` is "cassette" (``SC4ssNE0-PSG.edf`` + ``SC4ssN?-Hypnogram.edf``),
    "telemetry" (``ST7ssNJ0-PSG.edf`` + ``ST7ssNJ?-Hypnogram.edf``) or "both" (telemetry
    subjects numbered 100 + ss). Reads Fpz-Cz, horizontal EOG and submental EMG with MNE,
    resamples to 100 Hz, cuts 30 s epochs, maps stages 3 and 4 to N3, drops movement and
    unknown epochs, trims wake to ``trim_wake_min`` minutes before the first and after the
    last sleep epoch (None keeps all) and, with ``zscore``, z-scores each channel within
    each recording. Age, sex and medication come from the record tables inside MNE
    (:func:`sleep_records`). ``data_dir`` is searched recursively.
    """
    import mne

    if study not in ("cassette", "telemetry", "both"):
        raise ValueError(f"study must be 'cassette', 'telemetry' or 'both'; got {study!r}")
    expected = ("SC4ssNE0-PSG.edf + SC4ssN?-Hypnogram.edf (cassette) and/or "
                "ST7ssNJ0-PSG.edf + ST7ssNJ?-Hypnogram.edf (telemetry)")
    root = _check_dir(data_dir, "sleep-edf", expected)
    found = _find_sleep_pairs(root, study)
    if not found:
        hyps = list(root.rglob("*-Hypnogram.edf"))
        hint = (f" (found {len(hyps)} hypnograms but no PSG signal files)" if hyps else "")
        raise FileNotFoundError(f"no Sleep-EDF PSG files in {root}{hint}; expected {expected}. "
                                f"Obtain: {SOURCES['sleep-edf']}")
    records = sleep_records().set_index("psg")
    sfreq = 100.0
    n_times = 3000
    Xs, ys, metas = [], [], []
    dropped = 0
    for s, pairs in _select(found, subjects, "sleep-edf", expected).items():
        for psg, hyp in pairs:
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
                continue
            ep = data[:, : n_avail * n_times].reshape(3, n_avail, n_times).transpose(1, 0, 2)[idx]
            keep = _check_finite(ep, SLEEP_CHANNELS, psg, drop_nonfinite, what="epoch")
            dropped += int((~keep).sum())
            ep, idx = ep[keep], idx[keep]
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
        raise ValueError("no scored Sleep-EDF epochs found in the selected recordings")
    meta = pd.concat(metas, ignore_index=True)
    return EEGData(
        X=np.concatenate(Xs), y=np.concatenate(ys), subject=meta["subject"].to_numpy(),
        sfreq=sfreq, ch_names=list(SLEEP_CHANNELS), ch_types=list(SLEEP_CH_TYPES),
        class_names=list(SLEEP_STAGES), meta=meta,
        info={"dataset": "sleep-edf", "layout": "sleep-edf", "unit": "z" if zscore else "uV",
              "study": study, "trim_wake_min": trim_wake_min, "dropped_nonfinite": dropped},
    )


# ---------------------------------------------------------------------------------------
# EEGBCI (PhysioNet eegmmidb)
# ---------------------------------------------------------------------------------------
def _eegbci_roots(root: Path) -> list[Path]:
    """Folders that may hold ``S###`` subject folders (or the ``.edf`` files themselves)."""
    cands = [root, root / "eegmmidb", root / "files" / "eegmmidb" / "1.0.0",
             root / "MNE-eegbci-data" / "files" / "eegmmidb" / "1.0.0"]
    return [c for c in cands if c.is_dir()]


def load_eegbci(data_dir, subjects=None, *, runs=(4, 8, 12), tmin: float = 0.0,
                tmax: float = 4.0, sfreq: float = 160.0,
                drop_nonfinite: bool = False) -> EEGData:
    """PhysioNet EEG Motor Movement/Imagery: left (T1) vs right (T2) fist imagery.

    Reads ``S###R##.edf`` of ``runs`` (imagery runs 4, 8, 12 by default) with
    ``mne.io.read_raw_edf``, standardises channel names (``mne.datasets.eegbci.standardize``),
    sets the standard 10-05 montage, and cuts epochs from ``tmin`` to ``tmax`` s after each
    cue (640 samples at 160 Hz). Recordings at another rate are resampled to ``sfreq``.
    ``data_dir`` is the folder holding ``S001/`` (also accepted: its parent
    ``eegmmidb``/MNE's ``MNE-eegbci-data`` tree, or a single ``S001`` folder).
    """
    import mne

    expected = "S###/S###R04.edf, S###R08.edf, S###R12.edf (PhysioNet eegmmidb)"
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
    for s, folder in _select(found, subjects, "eegbci", expected).items():
        for run in runs:
            path = folder / f"S{s:03d}R{run:02d}.edf"
            if not path.exists():
                raise FileNotFoundError(f"EEGBCI file {path} not found; expected {expected}. "
                                        f"Obtain: {SOURCES['eegbci']}")
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
            events, _ = mne.events_from_annotations(raw, event_id={"T1": 1, "T2": 2},
                                                    verbose="error")
            events[:, 2] -= 1  # T1 (left fist) -> 0, T2 (right fist) -> 1
            data = raw.get_data() * 1e6  # uV
            starts = events[:, 0] + int(round(tmin * sfreq))
            ok = (starts >= 0) & (starts + n_times <= data.shape[1])
            if not ok.all():  # a cue too close to the end of the run cannot hold an epoch
                dropped += int((~ok).sum())
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
        ch_names=list(EEGBCI_CHANNELS), class_names=["left_hand", "right_hand"], meta=meta,
        info={"dataset": "eegbci", "layout": "eegbci", "unit": "uV", "runs": list(runs),
              "tmin": tmin, "montage": standard_montage(), "dropped": dropped},
    )
