"""Paper 4, second pass: compositional statistics (log-ratios), cluster-robust errors, the FDR
family, conservation records and the manual LRP pass. Every test here was checked against a
broken variant of the code it guards (see the comments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from statsmodels.stats.multitest import multipletests

from eegnb.metrics.modality import modality_shares
from eegnb.stats import bh_by_hand, log_ratios, ols

from .test_sleep import _fake_result

CH_TYPES = ["eeg", "eog", "emg"]


def test_modality_share_follows_channel_types_not_positions():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(4, 3, 20))
    maps[:, 1] *= 5  # EOG dominates
    sh = modality_shares(maps, CH_TYPES)
    perm = [2, 0, 1]  # channels reordered, types reordered with them: same shares
    np.testing.assert_allclose(modality_shares(maps[:, perm], [CH_TYPES[i] for i in perm]), sh)
    # types left in place while the channels move: the EOG share lands elsewhere
    assert not np.allclose(modality_shares(maps[:, perm], CH_TYPES), sh)
    assert (modality_shares(maps[:, perm], CH_TYPES).argmax(1) == 2).all()


def test_log_ratios_values_reference_and_zero_sum():
    x = np.array([[20.0, 30.0, 50.0], [0.5, 0.25, 0.25]])
    alr = log_ratios(x, kind="alr", reference=0)
    np.testing.assert_allclose(alr, [[np.log(1.5), np.log(2.5)], [np.log(0.5), np.log(0.5)]])
    # another reference: other numbers (catches a reference that is ignored)
    np.testing.assert_allclose(log_ratios(x, reference=2)[0], [np.log(0.4), np.log(0.6)])
    clr = log_ratios(x, kind="clr")
    np.testing.assert_allclose(clr.sum(1), 0, atol=1e-12)
    np.testing.assert_allclose(clr[0, 1] - clr[0, 0], alr[0, 0])  # differences of clr are alr
    # percentages and fractions give the same coordinates (closure)
    np.testing.assert_allclose(log_ratios(x / 100), log_ratios(x))
    with pytest.raises(ValueError, match="positive"):
        log_ratios([[0.0, 50.0, 50.0]])
    with pytest.raises(ValueError, match="kind"):
        log_ratios(x, kind="ilr")


def test_bh_by_hand_matches_statsmodels():
    p = np.random.default_rng(3).uniform(0, 0.2, 30) ** 2
    rej, adj = bh_by_hand(p, 0.05)
    r2, a2, _, _ = multipletests(p, 0.05, "fdr_bh")
    np.testing.assert_allclose(adj, a2)
    np.testing.assert_array_equal(rej, r2)
    # the family size matters: correcting over 45 tests instead of 30 gives larger p_FDR
    _, adj45 = bh_by_hand(np.concatenate([p, np.ones(15)]), 0.05)
    assert (adj45[:30] >= adj - 1e-15).all() and (adj45[:30] > adj).any()


def test_cluster_robust_errors_hold_the_level_where_ols_does_not():
    """Planted cluster structure: 20 clusters x 50 epochs share a random intercept and their
    covariate; no true effect. Plain OLS treats 1000 epochs as independent and rejects far too
    often; cluster-robust errors (t on 19 df) stay near the 5 % level."""
    rng = np.random.default_rng(0)
    rej_ols = rej_cl = 0
    n_rep, G, m = 60, 20, 50
    for _ in range(n_rep):
        g = np.repeat(np.arange(G), m)
        x = np.repeat(rng.normal(size=G), m)
        y = np.repeat(rng.normal(size=G), m) + 0.3 * rng.normal(size=G * m)
        X = pd.DataFrame(dict(x=x))
        rej_ols += ols(y, X).loc["x", "p"] < 0.05
        rej_cl += ols(y, X, cluster=g, use_t=True).loc["x", "p"] < 0.05
    assert rej_ols / n_rep > 0.5
    assert rej_cl / n_rep < 0.15
    # the clustered standard error is the larger one on such data
    a, b = ols(y, X), ols(y, X, cluster=g, use_t=True)
    assert b.loc["x", "se"] > 3 * a.loc["x", "se"]


def test_fdr_family_sizes_and_compositional_coefficients():
    from eegnb.experiments.sleep import covariate_table

    res = _fake_result(n_subj=10)
    share = covariate_table(res, "eps100")
    alr = covariate_table(res, "eps100", transform="alr", cluster="subject")
    assert len(share) == 45 and share.attrs["fdr_family_size"] == 45
    assert len(alr) == 30 and alr.attrs["fdr_family_size"] == 30
    assert "30 tests" in alr.attrs["fdr_family"] and "q = 0.05" in alr.attrs["fdr_family"]
    assert set(alr["modality"]) == {"eog", "emg"}  # EEG is the reference
    # shares sum to 100 %: their three coefficients per stage x covariate sum to zero
    s = share.groupby(["stage", "covariate"])["coef"].sum()
    np.testing.assert_allclose(s.to_numpy(), 0, atol=1e-8)
    # the log-ratio coefficients carry no such constraint
    assert np.abs(alr.groupby(["stage", "covariate"])["coef"].sum()).max() > 1e-3
    # p_FDR over the family of 30: recompute it from the raw p-values
    np.testing.assert_allclose(alr["p_fdr"], multipletests(alr["p"], 0.05, "fdr_bh")[1])


def test_planted_effect_read_off_log_ratios_with_the_right_sign():
    from eegnb.data import PLANTED_EFFECTS
    from eegnb.experiments.sleep import covariate_table, effects_vs_truth, statistics_table

    res = _fake_result(n_subj=10)  # temazepam lowers the REM EOG relevance
    alr = covariate_table(res, "eps100", transform="alr", cluster="subject")
    eff = effects_vs_truth(alr, PLANTED_EFFECTS)
    rem = eff[(eff.stage == "REM") & (eff.covariate == "medication")].iloc[0]
    assert rem.recovered and rem.coef < 0 and rem.read_off == "log(eog/eeg)"
    # an effect on the reference modality is read with the opposite sign of the ratios
    n3 = eff[(eff.stage == "N3") & (eff.modality == "eeg")].iloc[0]
    raw = alr[(alr.stage == "N3") & (alr.covariate == n3.covariate)]
    assert n3.coef == pytest.approx(-raw.sort_values("p_fdr").iloc[0].coef)
    # the log-ratio of each numerator is taken against the reference, per sample
    from eegnb.experiments.sleep import logratio_frame, shares_frame

    lr = logratio_frame(res, "eps100")
    sh = shares_frame(res, ["eps100"]).pivot_table(index="idx", columns="modality", values="share")
    for m in ("eog", "emg"):
        got = lr[lr.modality == m].set_index("idx")["logratio"]
        np.testing.assert_allclose(got, np.log(sh.loc[got.index, m] / sh.loc[got.index, "eeg"]))
    tab, tabs = statistics_table(res, PLANTED_EFFECTS)
    assert tab.loc["shares, OLS (paper)", "tests"] == 45
    assert tab.loc["log-ratios, cluster-robust by subject (primary)", "tests"] == 30
    assert tab.loc["log-ratios, cluster-robust by subject (primary)", "n_clusters"] == 10
    assert tab.loc["log-ratios, cluster-robust by subject (primary)", "recovered"] >= 1


def test_conservation_record_and_unstable_flags():
    from eegnb.experiments.sleep import unstable_maps

    res = _fake_result()
    res.logit = np.full(len(res.samples), 2.0)
    res.rel_sum = {"eps100": np.full(len(res.samples), 2.0)}
    res.rel_sum["eps100"][:3] = [-70.0, 34.0, 0.4]
    c = res.conservation("eps100")
    np.testing.assert_allclose(c[:4], [-35.0, 17.0, 0.2, 1.0])
    flag = unstable_maps(c)
    assert flag[:3].all() and not flag[3:].any()
    with pytest.raises(ValueError, match="conservation"):
        res.conservation("ab10")


def test_manual_epsilon_pass_matches_zennit_on_the_sleep_cnn():
    from eegnb.experiments.sleep import explain_rule, manual_lrp_epsilon
    from eegnb.models import build

    torch.manual_seed(0)
    net = build("sleepcnn", 3, 3000, 5, sfreq=100).eval()
    for m in net.modules():  # non-trivial BatchNorm statistics, so merging matters
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    X = np.random.default_rng(0).normal(size=(2, 3, 3000)).astype(np.float32)
    ref = explain_rule(net, X, "eps0.01")
    man = manual_lrp_epsilon(net, X, epsilon=0.01)
    np.testing.assert_allclose(man, ref, rtol=1e-3, atol=1e-5 * np.abs(ref).max())
    # a different epsilon gives a different map (the pass uses its argument)
    assert not np.allclose(manual_lrp_epsilon(net, X, epsilon=100.0), ref, atol=1e-5 * np.abs(ref).max())
