"""Data: the :class:`EEGData` container, simulation with planted truth, and real loaders.

- :class:`EEGData` (``container``): ``X (n, ch, t)`` float32, ``y``, ``subject``, ``meta``,
  ``truth``, ``truth_freq``, MNE interop.
- :func:`simulate` (``simulate``): ``"deap"``, ``"seed"``, ``"eegbci"``, ``"sleep-edf"``
  layouts with class evidence planted where ``truth`` says.
- :func:`load` (``loaders``): DEAP, SEED, Sleep-EDF and EEGBCI files already on disk.
- :data:`LAYOUTS` (``layouts``): channel names, rates, segment lengths and classes.

Walked through in ``notebooks/02_data``.
"""

from eegnb.data.container import EEGData
from eegnb.data.layouts import LAYOUTS, Layout, get_layout, make_montage
from eegnb.data.loaders import load, sleep_records
from eegnb.data.simulate import (
    MODALITY_EVIDENCE,
    PLANTED_EFFECTS,
    calibrate_hypnogram,
    effect_size,
    simulate,
)

__all__ = [
    "EEGData",
    "LAYOUTS",
    "Layout",
    "MODALITY_EVIDENCE",
    "PLANTED_EFFECTS",
    "calibrate_hypnogram",
    "effect_size",
    "get_layout",
    "load",
    "sleep_records",
    "make_montage",
    "simulate",
]
