"""``EEGData``: one container for epoched EEG, its labels, subjects, metadata and planted truth.

Every simulated and real dataset in the workbook is an :class:`EEGData`; models, trainers
and explainers take its ``X (n, ch, t)`` float32 and ``y (n,)`` int64. Subsetting
(``data[idx]``, ``data.by_subject(s)``) keeps ``X``, ``y``, ``subject``, ``meta`` and
``truth`` aligned. ``from_epochs``/``to_epochs`` convert to and from ``mne.Epochs``
(MNE holds volts; ``EEGData`` holds the unit in ``info["unit"]``, microvolts by
default, so ``to_epochs`` scales back). Walked through in ``notebooks/02_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eegnb.utils import fingerprint as _fingerprint

_CH_TYPES = {"eeg", "eog", "emg", "ecg", "misc", "stim", "resp", "bio"}
_TO_VOLTS = {"uV": 1e-6, "µV": 1e-6, "V": 1.0, "mV": 1e-3}


@dataclass(repr=False)
class EEGData:
    """Epoched EEG with labels and (for simulated data) where the class evidence was planted.

    Fields: ``X`` float32 ``(n, ch, t)``; ``y`` int64 ``(n,)`` in ``0..n_classes-1``;
    ``subject`` int ``(n,)``; ``sfreq`` in Hz; ``ch_names`` and ``ch_types``
    (``"eeg"``/``"eog"``/``"emg"``); ``class_names``; ``meta`` (one row per sample:
    ``subject``, ``trial`` or ``recording``, ``onset`` in s, demographics where known);
    ``truth`` (``None`` or float32 ``(n, ch, t)`` in [0, 1]); ``truth_freq`` (``None`` or
    float ``(ch, t // 2 + 1)`` in [0, 1] over ``np.fft.rfftfreq(t, 1 / sfreq)``); ``info``
    (layout name, unit, ``modality_evidence``, ``planted_effects``, ...).
    """

    X: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    sfreq: float
    ch_names: list[str]
    ch_types: list[str] | None = None
    class_names: list[str] | None = None
    meta: pd.DataFrame | None = None
    truth: np.ndarray | None = None
    truth_freq: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        X = np.asarray(self.X)
        if X.ndim != 3:
            raise ValueError(f"X must be 3-D (n, ch, t); got shape {X.shape}")
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"X must be numeric; got dtype {X.dtype}")
        self.X = X if X.dtype == np.float32 else X.astype(np.float32)
        n, ch, t = self.X.shape

        y = np.asarray(self.y)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},) to match X; got {y.shape}")
        if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError("y must hold integer class indices")
        self.y = y.astype(np.int64)

        subject = np.asarray(self.subject)
        if subject.shape != (n,):
            raise ValueError(f"subject must have shape ({n},) to match X; got {subject.shape}")
        self.subject = subject.astype(np.int64)

        self.sfreq = float(self.sfreq)
        if not self.sfreq > 0:
            raise ValueError(f"sfreq must be positive (Hz); got {self.sfreq}")

        self.ch_names = [str(c) for c in self.ch_names]
        if len(self.ch_names) != ch:
            raise ValueError(f"ch_names has {len(self.ch_names)} names for {ch} channels in X")
        if len(set(self.ch_names)) != ch:
            raise ValueError("ch_names must be unique")
        self.ch_types = list(self.ch_types) if self.ch_types is not None else ["eeg"] * ch
        if len(self.ch_types) != ch:
            raise ValueError(f"ch_types has {len(self.ch_types)} entries for {ch} channels")
        bad = sorted(set(self.ch_types) - _CH_TYPES)
        if bad:
            raise ValueError(f"unknown channel types {bad}; expected some of {sorted(_CH_TYPES)}")

        k = int(self.y.max()) + 1 if n else 0
        if self.class_names is None:
            self.class_names = [str(i) for i in range(k)]
        self.class_names = [str(c) for c in self.class_names]
        if n and (self.y.min() < 0 or self.y.max() >= len(self.class_names)):
            raise ValueError(
                f"y must lie in 0..{len(self.class_names) - 1} for classes {self.class_names}; "
                f"got range {self.y.min()}..{self.y.max()}"
            )

        if self.meta is None:
            self.meta = pd.DataFrame({"subject": self.subject})
        else:
            self.meta = pd.DataFrame(self.meta).reset_index(drop=True)
        if len(self.meta) != n:
            raise ValueError(f"meta has {len(self.meta)} rows for {n} samples")

        if self.truth is not None:
            truth = np.asarray(self.truth, dtype=np.float32)
            if truth.shape != self.X.shape:
                raise ValueError(f"truth must have the shape of X {self.X.shape}; got {truth.shape}")
            if truth.size and (truth.min() < 0 or truth.max() > 1):
                raise ValueError("truth must lie in [0, 1]")
            self.truth = truth
        if self.truth_freq is not None:
            tf = np.asarray(self.truth_freq, dtype=np.float32)
            if tf.shape != (ch, t // 2 + 1):
                raise ValueError(f"truth_freq must have shape {(ch, t // 2 + 1)}; got {tf.shape}")
            self.truth_freq = tf
        self.info = dict(self.info)

    # -- sizes ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.X.shape[0]

    @property
    def n_chans(self) -> int:
        return self.X.shape[1]

    @property
    def n_times(self) -> int:
        return self.X.shape[2]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def subjects(self) -> np.ndarray:
        """Unique subject numbers, sorted."""
        return np.unique(self.subject)

    @property
    def freqs(self) -> np.ndarray:
        """One-sided FFT bin frequencies (Hz) that ``truth_freq`` is defined over."""
        return np.fft.rfftfreq(self.n_times, 1.0 / self.sfreq)

    # -- subsetting -----------------------------------------------------------------------
    def __getitem__(self, idx) -> EEGData:
        if isinstance(idx, slice):
            idx = np.arange(len(self))[idx]
        idx = np.asarray(idx)
        if idx.ndim == 0:
            idx = idx.reshape(1)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"boolean mask must have shape ({len(self)},); got {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"index must be ints, a boolean mask or a slice; got {idx.dtype}")
        idx = idx.astype(np.int64)
        return EEGData(
            X=self.X[idx],
            y=self.y[idx],
            subject=self.subject[idx],
            sfreq=self.sfreq,
            ch_names=list(self.ch_names),
            ch_types=list(self.ch_types),
            class_names=list(self.class_names),
            meta=self.meta.iloc[idx].reset_index(drop=True),
            truth=None if self.truth is None else self.truth[idx],
            truth_freq=self.truth_freq,
            info=dict(self.info),
        )

    def by_subject(self, s) -> EEGData:
        """The samples of subject ``s`` (an int or a list of ints)."""
        wanted = np.atleast_1d(np.asarray(s))
        unknown = sorted(set(wanted.tolist()) - set(self.subjects.tolist()))
        if unknown:
            raise ValueError(f"unknown subjects {unknown}; have {self.subjects.tolist()}")
        return self[np.isin(self.subject, wanted)]

    def pick_channels(self, names: list[str]) -> EEGData:
        """A copy with only the channels ``names`` (in that order)."""
        missing = [c for c in names if c not in self.ch_names]
        if missing:
            raise ValueError(f"channels {missing} not in {self.ch_names}")
        ix = [self.ch_names.index(c) for c in names]
        return EEGData(
            X=self.X[:, ix],
            y=self.y,
            subject=self.subject,
            sfreq=self.sfreq,
            ch_names=list(names),
            ch_types=[self.ch_types[i] for i in ix],
            class_names=list(self.class_names),
            meta=self.meta,
            truth=None if self.truth is None else self.truth[:, ix],
            truth_freq=None if self.truth_freq is None else self.truth_freq[ix],
            info=dict(self.info),
        )

    @staticmethod
    def concat(parts: list[EEGData]) -> EEGData:
        """Concatenate datasets with the same channels, sampling rate and classes."""
        if not parts:
            raise ValueError("concat needs at least one EEGData")
        first = parts[0]
        for p in parts[1:]:
            if (p.ch_names, p.sfreq, p.class_names, p.n_times) != (
                first.ch_names, first.sfreq, first.class_names, first.n_times
            ):
                raise ValueError("concat needs equal ch_names, sfreq, class_names and n_times")
        has_truth = all(p.truth is not None for p in parts)
        return EEGData(
            X=np.concatenate([p.X for p in parts]),
            y=np.concatenate([p.y for p in parts]),
            subject=np.concatenate([p.subject for p in parts]),
            sfreq=first.sfreq,
            ch_names=list(first.ch_names),
            ch_types=list(first.ch_types),
            class_names=list(first.class_names),
            meta=pd.concat([p.meta for p in parts], ignore_index=True),
            truth=np.concatenate([p.truth for p in parts]) if has_truth else None,
            truth_freq=first.truth_freq,
            info=dict(first.info),
        )

    # -- identity and summaries -------------------------------------------------------------
    def fingerprint(self) -> str:
        """Short hash of ``X``, ``y``, ``subject`` and ``sfreq`` (for cache keys)."""
        return _fingerprint(self.X, self.y, self.subject, self.sfreq)

    def summary(self) -> pd.DataFrame:
        """Samples per subject and class (rows: subjects, columns: class names + ``total``)."""
        counts = pd.crosstab(
            pd.Series(self.subject, name="subject"),
            pd.Categorical(
                [self.class_names[i] for i in self.y], categories=self.class_names
            ),
            dropna=False,
        )
        counts.columns = [str(c) for c in counts.columns]
        counts.columns.name = None
        counts["total"] = counts.sum(axis=1)
        return counts

    def __repr__(self) -> str:
        counts = np.bincount(self.y, minlength=self.n_classes) if len(self) else []
        per_class = ", ".join(f"{c}={k}" for c, k in zip(self.class_names, counts))
        layout = self.info.get("layout", self.info.get("dataset", "?"))
        truth = "yes" if self.truth is not None else "no"
        return (
            f"EEGData({layout}: n={len(self)}, ch={self.n_chans}, t={self.n_times} "
            f"({self.n_times / self.sfreq:g} s @ {self.sfreq:g} Hz), "
            f"subjects={len(self.subjects)}, classes [{per_class}], truth={truth})"
        )

    # -- MNE interop ----------------------------------------------------------------------------
    @classmethod
    def from_epochs(cls, epochs, y=None, *, subject=None, unit: str = "uV") -> EEGData:
        """Build from an ``mne.Epochs``; labels from its events (mapped to 0..K-1) by default.

        Class names are the ``event_id`` keys ordered by their codes. Data are converted
        from volts to ``unit`` for the eeg/eog/emg channels. ``subject`` is an int or an
        ``(n,)`` array (default 0).
        """
        import mne

        if not isinstance(epochs, mne.BaseEpochs):
            raise ValueError(f"from_epochs expects an mne.Epochs; got {type(epochs).__name__}")
        if unit not in _TO_VOLTS:
            raise ValueError(f"unit must be one of {sorted(_TO_VOLTS)}; got {unit!r}")
        X = epochs.get_data(copy=True)
        ch_types = epochs.get_channel_types()
        scale = np.array(
            [1.0 / _TO_VOLTS[unit] if t in {"eeg", "eog", "emg", "ecg"} else 1.0 for t in ch_types]
        )
        X = X * scale[None, :, None]
        n = len(X)
        if y is None:
            codes = epochs.events[:, 2]
            inv = sorted(epochs.event_id.items(), key=lambda kv: kv[1])
            code_to_idx = {code: i for i, (_, code) in enumerate(inv)}
            unknown = sorted(set(codes.tolist()) - set(code_to_idx))
            if unknown:
                raise ValueError(f"event codes {unknown} are not in event_id {epochs.event_id}")
            y = np.array([code_to_idx[c] for c in codes], dtype=np.int64)
            class_names = [name for name, _ in inv]
        else:
            y = np.asarray(y)
            class_names = None
        sfreq = float(epochs.info["sfreq"])
        md = epochs.metadata.reset_index(drop=True) if epochs.metadata is not None else None
        if subject is None and md is not None and "subject" in md:
            subject = md["subject"].to_numpy()
        subj = np.zeros(n, dtype=np.int64) if subject is None else np.broadcast_to(subject, (n,))
        # metadata columns win (a to_epochs round trip keeps them); fill the basic ones
        meta = md.copy() if md is not None else pd.DataFrame(index=range(n))
        meta["subject"] = subj
        if "trial" not in meta:
            meta["trial"] = np.arange(n)
        if "onset" not in meta:
            meta["onset"] = epochs.events[:, 0] / sfreq + epochs.tmin
        return cls(
            X=X,
            y=y,
            subject=subj,
            sfreq=sfreq,
            ch_names=list(epochs.ch_names),
            ch_types=ch_types,
            class_names=class_names,
            meta=meta,
            info={"dataset": "mne", "unit": unit, "montage": epochs.get_montage(),
                  "tmin": float(epochs.tmin)},
        )

    def to_epochs(self):
        """An ``mne.EpochsArray`` (volts) with these channel names, types, montage and rate.

        Events carry the class index as code (``event_id`` maps class names to codes);
        ``meta`` becomes the epochs' metadata.
        """
        import mne

        from eegnb.data.layouts import make_montage

        unit = self.info.get("unit", "uV")
        to_v = _TO_VOLTS.get(unit, 1.0)  # z-scored data ("z") stays as is
        scale = np.array(
            [to_v if t in {"eeg", "eog", "emg", "ecg"} else 1.0 for t in self.ch_types]
        )
        info = mne.create_info(list(self.ch_names), self.sfreq, list(self.ch_types))
        events = np.column_stack(
            [np.arange(len(self)) * self.n_times, np.zeros(len(self), int), self.y]
        ).astype(int)
        present = sorted(set(self.y.tolist()))
        event_id = {self.class_names[i]: i for i in present}
        epochs = mne.EpochsArray(
            self.X.astype(np.float64) * scale[None, :, None],
            info,
            events=events,
            tmin=float(self.info.get("tmin", 0.0)),
            event_id=event_id or None,
            metadata=self.meta.reset_index(drop=True),
            verbose="error",
        )
        montage = self.info.get("montage")
        if montage is None:
            montage = make_montage(self.ch_names)
        if montage is not None:
            epochs.set_montage(montage, on_missing="ignore", verbose="error")
        return epochs
