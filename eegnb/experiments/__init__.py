"""Experiment orchestration behind the paper notebooks (kept out of notebook cells):
``context_mask`` (paper 1), ``frequency_mask`` (paper 2), ``crp`` (paper 3), ``sleep`` (paper 4)."""
