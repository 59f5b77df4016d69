"""Explainers behind one call: ``explain(method, model, X, target=None, **kw)``.

``METHODS`` maps each name to its implementation and output domain
(``"time"``: same shape as ``X``; ``"frequency"``: ``(n, ch, n_bands)``), whether the map is
signed and whether it uses ``target``. ``methods_table()`` shows them with their keywords.
Every method runs on any ``torch.nn.Module`` mapping ``(n, ch, t)`` to logits (no
``n_chans``/``n_times`` attributes needed). ``explain`` checks ``target`` (integer dtype, shape
``()`` or ``(n,)``, in ``[0, n_classes)``; :func:`check_target`) and refuses an empty ``X``.
Modules:

- ``gradient``: captum input-gradient saliency (baseline).
- ``captum_methods``: ``integrated_gradients``, ``input_x_gradient``, ``smoothgrad``,
  ``occlusion`` (captum baselines) and ``random`` (the chance control, ``uses_target=False``).
- ``context_mask``: context-aware perturbation (paper 1; ``uses_target=False``).
- ``frequency_mask``, ``easypeasi``: frequency-domain mask perturbation and band noise (paper 2).
- ``lrp``, ``crp``, ``dft_lrp``: zennit LRP composites, CRP concepts, DFT virtual inspection layer
  (papers 3 and 4).
"""

from eegnb.explain.bands import band_edges, band_labels, band_truth  # noqa: F401
from eegnb.explain.registry import (  # noqa: F401
    METHODS,
    Method,
    check_target,
    explain,
    frozen,
    methods_table,
    predict,
    register,
)

# Importing a module registers its methods; the order is the order of ``METHODS``.
# isort: off
from eegnb.explain import gradient  # noqa: F401,E402
from eegnb.explain import captum_methods  # noqa: F401,E402
from eegnb.explain import context_mask  # noqa: F401,E402
from eegnb.explain import frequency_mask  # noqa: F401,E402
from eegnb.explain import easypeasi  # noqa: F401,E402
from eegnb.explain import lrp  # noqa: F401,E402
from eegnb.explain import crp  # noqa: F401,E402
from eegnb.explain import dft_lrp  # noqa: F401,E402
# isort: on

try:  # optional convenience re-exports, defined by the paper modules
    from eegnb.explain.context_mask import ContextMask  # noqa: F401
except ImportError:  # pragma: no cover
    pass
try:
    from eegnb.explain.frequency_mask import FrequencyMask  # noqa: F401
except ImportError:  # pragma: no cover
    pass
