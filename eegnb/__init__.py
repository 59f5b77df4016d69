"""eegnb: a workbook that explains EEG deep-learning models.

Sub-packages: ``eegnb.data`` (simulation with planted truth, real loaders),
``eegnb.models`` (EEGNet, DeepConvNet, TSception, sleep CNN), ``eegnb.explain``
(one ``explain()`` entry point for every method), ``eegnb.metrics``,
``eegnb.stats``, ``eegnb.plots``, ``eegnb.train`` and ``eegnb.notebook``.
"""

__version__ = "0.1.0"

from eegnb import notebook  # noqa: E402,F401  (``eegnb.notebook.setup`` in every notebook)
