"""Numbers recorded by notebooks 00 and 01 in quick mode."""

from __future__ import annotations

import pytest


@pytest.mark.notebook
def test_template_records(run_notebook):
    r = run_notebook("00_template")
    assert r["n_chans"] == 32 and r["sfreq"] == 128.0 and r["n_samples"] > 0


@pytest.mark.notebook
def test_quickstart_learns_and_explains(run_notebook):
    r = run_notebook("01_quickstart")
    # the planted evidence is learnable: well above chance (0.5) even at quick size
    assert r["test_acc"] > 0.75
    # a trained model's gradient points at the planted region more than a random map does
    assert r["gradient_auc"] > r["random_auc"] + 0.05
    table = {(row["model"], row["dataset"]): row for row in r["parameter_table"]}
    assert table[("deepconvnet", "SEED")]["ours"] == table[("deepconvnet", "SEED")]["paper"]
    assert all(row["ours"] > 0 for row in r["parameter_table"])
