"""Channel layouts of the four datasets the papers used, and their electrode positions.

Each :class:`Layout` names the channels (in each dataset's own order), types, sampling
rate, segment length and classes of one dataset. :data:`LAYOUTS` holds the four datasets of
papers 1, 2 and 4 (and EEGBCI, paper 3's motor-imagery task); :data:`TASK_LAYOUTS` adds the
other two tasks of paper 3 (CRP on EEGNet): ``"auditory"`` (auditory attention decoding,
shaped like the KU Leuven AAD dataset: BioSemi 64, 128 Hz) and ``"attention"`` (internal vs
external attention, the same cap). :func:`get_layout` finds both. Positions come from MNE's standard
10-05 montage (``standard_1005``; MNE >= 1.13 calls the same positions ``colin27_1005``),
matched case-insensitively. Two SEED channels, ``CB1``/``CB2`` (cerebellar electrodes
of the ESI NeuroScan cap), have no 10-05 position; we approximate them by the 10-05
``I1``/``I2`` positions, about 4 cm below ``O1``/``O2``. Walked through in
``notebooks/02_data``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

#: DEAP's 32 EEG channels in the order of the preprocessed Python release (Geneva order).
DEAP_CHANNELS: list[str] = [
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3",
    "O1", "Oz", "Pz", "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8",
    "CP6", "CP2", "P4", "P8", "PO4", "O2",
]  # fmt: skip

#: SEED's 62 channels (ESI NeuroScan 62-channel cap), in the order of ``Preprocessed_EEG``.
SEED_CHANNELS: list[str] = [
    "FP1", "FPZ", "FP2", "AF3", "AF4", "F7", "F5", "F3", "F1", "FZ", "F2", "F4", "F6",
    "F8", "FT7", "FC5", "FC3", "FC1", "FCZ", "FC2", "FC4", "FC6", "FT8", "T7", "C5", "C3",
    "C1", "CZ", "C2", "C4", "C6", "T8", "TP7", "CP5", "CP3", "CP1", "CPZ", "CP2", "CP4",
    "CP6", "TP8", "P7", "P5", "P3", "P1", "PZ", "P2", "P4", "P6", "P8", "PO7", "PO5",
    "PO3", "POZ", "PO4", "PO6", "PO8", "CB1", "O1", "OZ", "O2", "CB2",
]  # fmt: skip

#: EEGBCI (PhysioNet eegmmidb) 64 channels in file order, named as
#: ``mne.datasets.eegbci.standardize`` names them.
EEGBCI_CHANNELS: list[str] = [
    "FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6", "C5", "C3", "C1", "Cz", "C2", "C4",
    "C6", "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "Fp1", "Fpz", "Fp2", "AF7",
    "AF3", "AFz", "AF4", "AF8", "F7", "F5", "F3", "F1", "Fz", "F2", "F4", "F6", "F8",
    "FT7", "FT8", "T7", "T8", "T9", "T10", "TP7", "TP8", "P7", "P5", "P3", "P1", "Pz",
    "P2", "P4", "P6", "P8", "PO7", "PO3", "POz", "PO4", "PO8", "O1", "Oz", "O2", "Iz",
]  # fmt: skip

#: BioSemi ActiveTwo 64-channel cap (10-20 names) in the BioSemi A1..B32 order, the order of
#: ``mne.channels.make_standard_montage("biosemi64")`` and of the KU Leuven AAD dataset's
#: ``RawData.Channels`` 1..64.
BIOSEMI64_CHANNELS: list[str] = [
    "Fp1", "AF7", "AF3", "F1", "F3", "F5", "F7", "FT7", "FC5", "FC3", "FC1", "C1", "C3", "C5",
    "T7", "TP7", "CP5", "CP3", "CP1", "P1", "P3", "P5", "P7", "P9", "PO7", "PO3", "O1", "Iz",
    "Oz", "POz", "Pz", "CPz", "Fpz", "Fp2", "AF8", "AF4", "AFz", "Fz", "F2", "F4", "F6", "F8",
    "FT8", "FC6", "FC4", "FC2", "FCz", "Cz", "C2", "C4", "C6", "T8", "TP8", "CP6", "CP4", "CP2",
    "P2", "P4", "P6", "P8", "P10", "PO8", "PO4", "O2",
]  # fmt: skip

#: Sleep-EDF channels we keep (the names in the PSG files, minus the "EEG " prefix).
SLEEP_CHANNELS: list[str] = ["Fpz-Cz", "EOG horizontal", "EMG submental"]
SLEEP_CH_TYPES: list[str] = ["eeg", "eog", "emg"]
SLEEP_STAGES: list[str] = ["W", "N1", "N2", "N3", "REM"]

#: Channels without a 10-05 position and the 10-05 position used instead.
APPROXIMATED_POSITIONS: dict[str, str] = {"CB1": "I1", "CB2": "I2"}


@dataclass(frozen=True)
class Layout:
    """Shape of one dataset: channels, types, sampling rate (Hz), segment length (s), classes."""

    name: str
    ch_names: list[str]
    sfreq: float
    seconds: float
    class_names: list[str]
    ch_types: list[str] = field(default_factory=list)

    @property
    def n_times(self) -> int:
        return int(round(self.sfreq * self.seconds))

    @property
    def types(self) -> list[str]:
        return list(self.ch_types) if self.ch_types else ["eeg"] * len(self.ch_names)


LAYOUTS: dict[str, Layout] = {
    "deap": Layout("deap", DEAP_CHANNELS, 128.0, 4.0, ["low", "high"]),
    "seed": Layout("seed", SEED_CHANNELS, 200.0, 2.0, ["negative", "positive"]),
    "eegbci": Layout("eegbci", EEGBCI_CHANNELS, 160.0, 4.0, ["left_hand", "right_hand"]),
    "sleep-edf": Layout(
        "sleep-edf", SLEEP_CHANNELS, 100.0, 30.0, SLEEP_STAGES, SLEEP_CH_TYPES
    ),
}

#: Paper 3's other two tasks (simulated; see eegnb.data.simulate). Not in LAYOUTS, whose
#: loop in notebooks/02_data covers the papers' four datasets.
TASK_LAYOUTS: dict[str, Layout] = {
    # KU Leuven AAD: 64-channel BioSemi, 128 Hz after the release's preprocessing; 4 s windows
    "auditory": Layout("auditory", BIOSEMI64_CHANNELS, 128.0, 4.0, ["left", "right"]),
    # internal (mental arithmetic/imagery) vs external (visual task) attention
    "attention": Layout("attention", BIOSEMI64_CHANNELS, 128.0, 4.0, ["external", "internal"]),
}


def standard_montage():
    """MNE's standard 10-05 montage (``colin27_1005`` in MNE >= 1.13, else ``standard_1005``)."""
    import mne

    if "colin27_1005" in mne.channels.get_builtin_montages():
        return mne.channels.make_standard_montage("colin27_1005")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return mne.channels.make_standard_montage("standard_1005")


def channel_positions(ch_names: list[str], *, strict: bool = True) -> dict[str, np.ndarray]:
    """3-D head positions (m) of ``ch_names`` from the 10-05 montage, matched case-insensitively.

    ``CB1``/``CB2`` get the ``I1``/``I2`` positions (see module docstring). With
    ``strict=True`` a name with no position raises ``ValueError``; otherwise it is left out
    (e.g. bipolar sleep derivations such as ``Fpz-Cz``).
    """
    pos = standard_montage().get_positions()["ch_pos"]
    lower = {k.lower(): k for k in pos}
    out: dict[str, np.ndarray] = {}
    missing = []
    for ch in ch_names:
        key = APPROXIMATED_POSITIONS.get(ch.upper(), ch)
        if key.lower() in lower:
            out[ch] = np.asarray(pos[lower[key.lower()]], dtype=float)
        else:
            missing.append(ch)
    if missing and strict:
        raise ValueError(f"no 10-05 position for channels {missing}")
    return out


def position_array(ch_names: list[str]) -> np.ndarray:
    """Positions of ``ch_names`` as an array ``(ch, 3)`` in metres (all must be known)."""
    pos = channel_positions(ch_names, strict=True)
    return np.stack([pos[c] for c in ch_names])


def make_montage(ch_names: list[str]):
    """An ``mne.channels.DigMontage`` with the positions of those ``ch_names`` that have one.

    Returns ``None`` when no channel has a 10-05 position (e.g. the sleep derivations).
    """
    import mne

    pos = channel_positions(ch_names, strict=False)
    if not pos:
        return None
    fid = standard_montage().get_positions()
    return mne.channels.make_dig_montage(
        ch_pos=pos, nasion=fid["nasion"], lpa=fid["lpa"], rpa=fid["rpa"], coord_frame="head"
    )


def get_layout(name: str) -> Layout:
    """The :class:`Layout` called ``name`` (one of :data:`LAYOUTS` or :data:`TASK_LAYOUTS`)."""
    if name in LAYOUTS:
        return LAYOUTS[name]
    if name in TASK_LAYOUTS:
        return TASK_LAYOUTS[name]
    raise ValueError(f"unknown layout {name!r}; expected one of "
                     f"{sorted(LAYOUTS) + sorted(TASK_LAYOUTS)}")
