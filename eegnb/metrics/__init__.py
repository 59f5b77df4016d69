"""Scores of explanations.

- ``localisation``: agreement of a map with the planted truth (ROC-AUC, relevance share).
- ``removal`` (paper 1): channel / time-step removal games.
- ``frequency_removal`` (paper 2): RN/RS games in the frequency domain, KDE scores.
- ``modality`` (paper 4): relevance share per modality.
"""

from eegnb.metrics.localisation import localisation_auc, relevance_share  # noqa: F401
