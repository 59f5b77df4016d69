"""The explainer benchmark: aggregation, verdicts and the quick run of notebook 50."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eegnb.experiments import benchmark as bm


def _scores(values: dict[str, tuple[float, float]], n_runs: int = 4, n: int = 10, seed: int = 0,
            degenerate: dict[str, int] | None = None) -> dict:
    """Synthetic per-sample scores: method -> (mean AUC, spread), time domain, ``n_runs`` runs."""
    rng = np.random.default_rng(seed)
    rows = []
    for m, (mu, sd) in values.items():
        for r in range(n_runs):
            run_mu = mu + sd * (r - (n_runs - 1) / 2)  # deterministic spread of the run means
            for i in range(n):
                rows.append(dict(method=m, domain="time", control=m in bm.CONTROLS, layout="deap", model="eegnet",
                                 seed=r, sample=i, auc=run_mu + rng.normal(0, 0.02), mass=0.3, topk=0.3,
                                 faith_gap=0.1, degenerate=i < (degenerate or {}).get(m, 0)))
    cost = pd.DataFrame([dict(method=m, domain="time", seconds_per_sample=0.01 * (k + 1), peak_mb=1.0)
                         for k, m in enumerate(values)])
    return dict(scores=pd.DataFrame(rows), cost=cost)


def test_leaderboard_intervals_over_runs_and_degenerate_counts():
    res = _scores({"gradient": (0.8, 0.01), "random": (0.5, 0.01), "oracle": (1.0, 0.0)}, degenerate={"oracle": 3})
    tab = bm.leaderboard(res)
    g = tab.set_index("method")
    assert g.loc["gradient", "unit"].startswith("run")
    assert g.loc["gradient", "n_runs"] == 4 and g.loc["gradient", "n_samples"] == 40
    assert g.loc["gradient", "auc_lo"] < g.loc["gradient", "auc"] < g.loc["gradient", "auc_hi"]
    assert g.loc["oracle", "n_degenerate"] == 12 and g.loc["gradient", "n_degenerate"] == 0
    # methods first, controls last
    assert list(tab["method"])[-2:] == ["random", "oracle"]


def test_leaderboard_interval_unit_is_sample_with_one_run():
    tab = bm.leaderboard(_scores({"gradient": (0.8, 0.0), "random": (0.5, 0.0), "oracle": (1.0, 0.0)}, n_runs=1))
    assert set(tab["unit"]) == {"sample"}
    assert np.isfinite(tab["auc_lo"]).all()


def test_reading_calls_differences_only_when_intervals_separate():
    res = _scores({"gradient": (0.8, 0.01), "lrp_epsilon": (0.52, 0.05), "random": (0.5, 0.01), "oracle": (1.0, 0.0)})
    tab = bm.leaderboard(res)
    text = " ".join(bm.reading(tab))
    assert "Above the random control: gradient;" in text
    assert "not separated from it: lrp_epsilon" in text
    assert "Highest: gradient" in text
    # flip the methods: the verdicts follow the numbers, not the names
    res2 = _scores({"gradient": (0.52, 0.05), "lrp_epsilon": (0.8, 0.01), "random": (0.5, 0.01), "oracle": (1.0, 0.0)})
    text2 = " ".join(bm.reading(bm.leaderboard(res2)))
    assert "Above the random control: lrp_epsilon;" in text2 and "Highest: lrp_epsilon" in text2


def test_sanity_column_from_the_last_step():
    res = _scores({"gradient": (0.8, 0.01), "random": (0.5, 0.01), "oracle": (1.0, 0.0)})
    rows = []
    for seed in range(3):
        for step, rho_g in enumerate((1.0, 0.6, 0.1 + 0.01 * seed)):
            rows.append(dict(method="gradient", seed=seed, step=step, layer=f"l{step}", spearman=rho_g, domain="time"))
            rows.append(dict(method="copycat", seed=seed, step=step, layer=f"l{step}", spearman=0.95, domain="time"))
    tab = bm.leaderboard(res, pd.DataFrame(rows))
    g = tab.set_index("method")
    assert g.loc["gradient", "sanity_rho"] == pytest.approx(0.11, abs=1e-9)
    assert bool(g.loc["gradient", "sanity_pass"])
    assert "copycat" not in g.index  # sanity rows without scores do not invent leaderboard rows


def test_explain_set_is_balanced_and_seeded():
    class D:
        n_classes = 2
        y = np.array([0] * 30 + [1] * 10)

    class S:
        test = np.arange(40)

    a = bm._explain_set(D, S, 12, seed=0)
    assert len(a) == 12 and len(set(a)) == 12
    assert (D.y[a] == 1).sum() == 6
    assert np.array_equal(a, bm._explain_set(D, S, 12, seed=0))
    assert not np.array_equal(a, bm._explain_set(D, S, 12, seed=1))


@pytest.mark.notebook
def test_benchmark_notebook_quick(run_notebook, quick_dirs):
    rec = run_notebook("50_explainer_benchmark")
    rnd, orc, shf = rec["auc_random"], rec["auc_oracle"], rec["auc_shuffled"]
    assert 0.45 <= rnd["mean"] <= 0.55
    assert orc["mean"] >= 0.95
    assert 0.45 <= shf["mean"] <= 0.55, "a deliberately shuffled map must score at chance"
    for m in ("gradient", "lrp_epsilon"):
        assert rec[f"auc_{m}"]["lo"] > rnd["hi"], f"{m} must beat the random control's interval"
    s = rec["sanity_gradient"]
    assert s["passes"] and s["hi"] < 0.5, "randomising the model must change gradient maps"
    board = pd.read_csv(quick_dirs / "figures" / "50-leaderboard.csv")
    assert len(board) >= 14
    for col in ("auc", "auc_lo", "auc_hi", "faith_gap", "faith_gap_lo", "sanity_rho", "seconds_per_sample", "peak_mb",
                "n_degenerate"):
        assert col in board.columns
    # the printed conclusion is the run's: the random control's interval appears in it
    from eegnb.stats import format_ci

    assert format_ci(rnd) in rec["report"][-1]
