"""Smoke test of the benchmark suite (benchmarks/run.py) at tiny sizes, and the runner's timings file."""

from __future__ import annotations

import json

import numpy as np

from benchmarks import run as bench
from eegnb.figures import write_timings


def test_epochs_fallback_and_reported():
    e, known = bench.epochs_run({}, 3, 200)
    assert known is False and e.tolist() == [200.0] * 3
    e, known = bench.epochs_run({"epochs_run": np.array([10, 20, 30])}, 3, 200)
    assert known is True and e.mean() == 20.0
    e, _ = bench.epochs_run({"epochs_run": 12}, 2, 200)  # one number for a batch (today's frequency mask)
    assert e.tolist() == [12.0, 12.0]


def test_tiny_suite_writes_json_and_table(tmp_path):
    timings = tmp_path / "t.json"
    write_timings(timings, {"10_a.ipynb": 3.0}, size="quick", jobs=1, wall_s=3.5, failed=[])
    write_timings(timings, {"11_b.ipynb": 4.0}, size="quick", jobs=1, wall_s=4.5, failed=[])  # merged
    rec = json.loads(timings.read_text())
    assert rec["notebooks"] == {"10_a.ipynb": 3.0, "11_b.ipynb": 4.0} and rec["total_s"] == 7.0
    out = tmp_path / "r.json"
    res = bench.run(tiny=True, out=str(out), device="cpu", sections=("masks", "lrp", "workbook"), timings=[timings])
    saved = json.loads(out.read_text())
    assert saved["device"]["cores"] >= 1 and saved["device"]["torch"]
    masks = {r["method"]: r for r in res["masks"]}
    assert set(masks) == {"context_mask", "frequency_mask"}
    for r in masks.values():
        assert r["s_per_sample_batched"] > 0 and r["fwd_bwd_s_per_sample"] > 0
        # ratio = seconds / (forward+backward x epochs run): an optimiser cannot beat its own steps
        assert r["ratio_to_limit"] > 0.5
        assert np.isclose(r["ratio_to_limit"], r["s_per_sample_batched"] / (r["fwd_bwd_s_per_sample"] * r["mean_epochs"]))
    lrp = {r["method"]: r for r in res["lrp"]}
    assert lrp["gradient"]["ratio_to_gradient"] == 1.0 and lrp["dft_lrp"]["s_per_sample"] > 0
    wb = {r["notebook"]: r["seconds"] for r in res["workbook"]}
    assert wb["11_b.ipynb"] == 4.0 and wb["TOTAL (sum)"] == 7.0
    text = bench.report(res)
    assert "ratio_to_limit" in text and "lrp_epsilon (zennit stock hooks)" in text and "cores" in text
