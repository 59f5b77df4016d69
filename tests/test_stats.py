"""Unit tests of eegnb.stats: OLS on covariates and Benjamini-Hochberg FDR (paper 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from eegnb.stats import encode_covariates, fdr, ols, regress_groups, significance_stars


def _subjects(rng, n_subj=24, per=40):
    """A per-sample table: each subject has an age, a sex and two nights (placebo / temazepam)."""
    rows = []
    for s in range(n_subj):
        age, sex = rng.uniform(20, 80), "M" if s % 2 else "F"
        for med in ("placebo", "temazepam"):
            for _ in range(per):
                rows.append(dict(subject=s, age=age, sex=sex, medication=med))
    return pd.DataFrame(rows)


def test_encode_covariates_codes_sex_and_medication():
    df = pd.DataFrame(
        dict(
            age=[30, 40, 50], sex=["F", "male", "M"], medication=["placebo", "temazepam", "Placebo"]
        )
    )
    enc = encode_covariates(df)
    assert enc["sex"].tolist() == [0, 1, 1]
    assert enc["medication"].tolist() == [0, 1, 0]
    assert enc["age"].tolist() == [30, 40, 50]
    with pytest.raises(ValueError, match="unknown sex"):
        encode_covariates(df.assign(sex=["F", "X", "M"]))
    with pytest.raises(ValueError, match="not in the table"):
        encode_covariates(df.drop(columns="age"))


def test_ols_recovers_planted_coefficients():
    rng = np.random.default_rng(0)
    df = _subjects(rng)
    enc = encode_covariates(df)
    y = 40 + 0.2 * enc["age"] - 5.0 * enc["medication"] + rng.normal(0, 3, len(df))
    tab = ols(y, enc)
    assert list(tab.index) == ["age", "sex", "medication"]
    assert tab.loc["age", "coef"] == pytest.approx(0.2, abs=0.02)
    assert tab.loc["medication", "coef"] == pytest.approx(-5.0, abs=0.5)
    assert tab.loc["medication", "p"] < 1e-6 and tab.loc["age", "p"] < 1e-6
    assert tab.loc["sex", "p"] > 0.001  # no planted sex effect
    assert tab.loc["medication", "ci_low"] < -5.0 < tab.loc["medication", "ci_high"]
    # cluster-robust errors (by subject) are wider for a subject-level covariate
    tab_c = ols(y, enc, cluster=df["subject"])
    assert tab_c.loc["age", "coef"] == pytest.approx(tab.loc["age", "coef"])
    assert tab_c.loc["age", "se"] > tab.loc["age", "se"]


def test_fdr_matches_statsmodels_and_keeps_nan():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 20)])
    rej, padj = fdr(p, alpha=0.05)
    r_ref, p_ref, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_array_equal(rej, r_ref)
    np.testing.assert_allclose(padj, p_ref)
    p2 = p.copy()
    p2[[3, 10]] = np.nan
    rej2, padj2 = fdr(p2)
    assert np.isnan(padj2[[3, 10]]).all() and not rej2[[3, 10]].any()
    ok = np.isfinite(p2)
    np.testing.assert_allclose(padj2[ok], multipletests(p2[ok], method="fdr_bh")[1])


def test_regress_groups_finds_the_planted_group_only():
    rng = np.random.default_rng(2)
    base = _subjects(rng, n_subj=20, per=25)
    parts = []
    for stage in ("N2", "REM"):
        for mod in ("eeg", "eog"):
            d = base.copy()
            d["stage"], d["modality"] = stage, mod
            effect = 6.0 if (stage == "N2" and mod == "eeg") else 0.0
            d["share"] = 50 + effect * (d["medication"] == "temazepam") + rng.normal(0, 4, len(d))
            parts.append(d)
    df = pd.concat(parts, ignore_index=True)
    tab = regress_groups(df, "share")
    assert len(tab) == 4 * 3
    assert {"stage", "modality", "covariate", "coef", "se", "p", "p_fdr", "significant"} <= set(
        tab.columns
    )
    hit = tab[(tab.stage == "N2") & (tab.modality == "eeg") & (tab.covariate == "medication")].iloc[
        0
    ]
    assert hit.significant and hit.coef == pytest.approx(6.0, abs=1.0)
    # the one correction covers all 12 tests: p_fdr equals BH over the whole column
    np.testing.assert_allclose(tab["p_fdr"], multipletests(tab["p"], method="fdr_bh")[1])
    assert tab["significant"].sum() <= 2  # the planted test, at most one false discovery
    # correcting within covariates gives separate families
    tab_cov = regress_groups(df, "share", fdr_by=["covariate"])
    med = tab_cov[tab_cov.covariate == "medication"]
    np.testing.assert_allclose(med["p_fdr"], multipletests(med["p"], method="fdr_bh")[1])


def test_regress_groups_skips_groups_without_variation():
    rng = np.random.default_rng(3)
    df = _subjects(rng, n_subj=6, per=5)
    df["stage"], df["modality"], df["share"] = "W", "eeg", rng.normal(size=len(df))
    only_placebo = df[df.medication == "placebo"].assign(stage="N1")
    tab = regress_groups(pd.concat([df, only_placebo], ignore_index=True), "share")
    assert set(tab.stage) == {"W"}
    with pytest.raises(ValueError, match="column 'share'"):
        regress_groups(df.drop(columns="share"), "share")


def test_significance_stars():
    assert significance_stars([0.2, 0.03, 0.005, 0.0001, np.nan]).tolist() == [
        "",
        "",
        "*",
        "**",
        "",
    ]
