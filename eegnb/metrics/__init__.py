"""Scores of explanations.

- ``localisation``: agreement of a map with the planted truth (ROC-AUC, relevance mass,
  top-k precision; positives are ``truth >= threshold``).
- ``controls``: random, oracle and shuffled maps; degenerate-map counts.
- ``faithfulness``: deletion curves and their areas (one engine for papers 1 and 2).
- ``removal`` (paper 1): channel / time-step removal games (wrappers of ``faithfulness``).
- ``frequency_removal`` (paper 2): RN/RS games in the frequency domain, KDE scores.
- ``sanity``: cascading model-parameter randomisation (Adebayo et al. 2018).
- ``cost``: seconds per sample and peak memory of an explainer.
- ``modality`` (paper 4): relevance share per modality.
- ``ranking``: shared tie-group ranking (no random tie-breaking anywhere).
"""

from eegnb.metrics.controls import (  # noqa: F401
    degenerate,
    degenerate_summary,
    oracle_map,
    random_map,
    shuffled_map,
)
from eegnb.metrics.localisation import (  # noqa: F401
    localisation_auc,
    relevance_mass,
    relevance_share,
    topk_precision,
    truth_mask,
)
