"""Clinical statistics of explanations: OLS of a relevance share on covariates, with FDR.

Paper 4 (Ellis et al., "A Gradient-based Approach for Explaining Multimodal Deep Learning
Classifiers", Sec. II-E) regresses, for every correctly classified sleep stage and every
modality, the per-sample percentage of absolute LRP relevance on age, sex and medication with
ordinary least squares, and corrects the p-values for multiple comparisons with the
Benjamini-Hochberg false discovery rate (alpha = 0.05). Walked through in
``notebooks/41_lrp_sleep_statistics``.

Everything statistical is statsmodels (``sm.OLS``, ``multipletests``); this module only encodes
covariates, loops over groups and returns a tidy table.

Coding of the covariates (so that the sign of a coefficient reads as in the paper's Fig. 4):
``sex`` 0 = female, 1 = male (positive: more relevance in men); ``medication`` 0 = placebo,
1 = temazepam / any drug (positive: more relevance after the drug); ``age`` in years
(positive: more relevance with age). Numeric columns are used as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

COVARIATES = ("age", "sex", "medication")

# Reference (coded 0) and other (coded 1) levels of the categorical covariates.
_LEVELS = {
    "sex": ({"f", "female", "woman", "w"}, {"m", "male", "man"}),
    "medication": ({"placebo", "none", "no", "false", "0"}, None),
}

TABLE_COLUMNS = ("coef", "se", "t", "p", "ci_low", "ci_high", "n", "p_fdr", "significant")


def encode_covariates(df: pd.DataFrame, covariates: Sequence[str] = COVARIATES) -> pd.DataFrame:
    """Numeric design columns for ``covariates`` of ``df`` (one row per sample).

    ``sex``: female -> 0, male -> 1. ``medication``: placebo -> 0, anything else (e.g.
    ``"temazepam"``) -> 1. Booleans become 0/1; numeric columns pass through.
    Raises ValueError for a missing column or an unknown category.
    """
    out = {}
    for c in covariates:
        if c not in df.columns:
            raise ValueError(f"covariate {c!r} not in the table; columns are {list(df.columns)}")
        col = df[c]
        if pd.api.types.is_bool_dtype(col):
            out[c] = col.astype(float)
        elif pd.api.types.is_numeric_dtype(col):
            out[c] = col.astype(float)
        elif c in _LEVELS:
            ref, alt = _LEVELS[c]
            low = col.astype(str).str.strip().str.lower()
            is_ref = low.isin(ref)
            if alt is not None:
                bad = ~(is_ref | low.isin(alt))
                if bad.any():
                    raise ValueError(
                        f"unknown {c} values {sorted(col[bad].astype(str).unique())}; expected one of {sorted(ref | alt)}"
                    )
            out[c] = (~is_ref).astype(float)
        else:
            raise ValueError(
                f"covariate {c!r} is not numeric and has no known coding; encode it as numbers first"
            )
    return pd.DataFrame(out, index=df.index)


def ols(
    y: np.ndarray | pd.Series,
    covariates: pd.DataFrame,
    *,
    cluster: np.ndarray | pd.Series | None = None,
    use_t: bool | None = None,
) -> pd.DataFrame:
    """OLS of ``y (n,)`` on ``covariates (n, k)`` plus an intercept (``statsmodels.OLS``).

    ``cluster``: optional group labels ``(n,)`` (e.g. subject) for cluster-robust standard
    errors, since epochs of one night share that night's covariates (the paper uses the plain
    OLS errors, the default). ``use_t=True``: t and F distributions for the cluster-robust
    tests (df = clusters - 1, advisable with few clusters); None keeps statsmodels' default.
    Returns one row per covariate (intercept dropped) with ``coef``,
    ``se``, ``t``, ``p``, ``ci_low``, ``ci_high``, ``n``.
    """
    y = np.asarray(y, dtype=float)
    X = covariates.astype(float)
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} rows but covariates have {len(X)}")
    design = sm.add_constant(X.to_numpy(), has_constant="add")
    model = sm.OLS(y, design)
    if cluster is not None:
        res = model.fit(
            cov_type="cluster",
            cov_kwds={"groups": pd.factorize(np.asarray(cluster))[0]},
            **({} if use_t is None else dict(use_t=use_t)),
        )
    else:
        res = model.fit()
    ci = np.asarray(res.conf_int())
    return pd.DataFrame(
        {
            "coef": res.params[1:],
            "se": res.bse[1:],
            "t": res.tvalues[1:],
            "p": res.pvalues[1:],
            "ci_low": ci[1:, 0],
            "ci_high": ci[1:, 1],
            "n": int(res.nobs),
        },
        index=pd.Index(list(X.columns), name="covariate"),
    )


def fdr(pvalues, alpha: float = 0.05, method: str = "fdr_bh") -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg (``method="fdr_bh"``) corrected p-values over all finite entries.

    Returns ``(reject, p_adjusted)`` with the input's shape; NaN p-values stay NaN and are
    never rejected. A thin wrapper over ``statsmodels.stats.multitest.multipletests``.
    """
    p = np.asarray(pvalues, dtype=float)
    reject = np.zeros(p.shape, dtype=bool)
    p_adj = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        r, pa, _, _ = multipletests(p[ok], alpha=alpha, method=method)
        reject[ok], p_adj[ok] = r, pa
    return reject, p_adj


def regress_groups(
    df: pd.DataFrame,
    response: str = "share",
    *,
    by: Sequence[str] = ("stage", "modality"),
    covariates: Sequence[str] = COVARIATES,
    alpha: float = 0.05,
    fdr_by: Sequence[str] | None = None,
    cluster: str | None = None,
    min_n: int | None = None,
    use_t: bool | None = None,
) -> pd.DataFrame:
    """One OLS of ``response`` on ``covariates`` per group of ``by``; FDR over the tests.

    df: one row per sample and group, e.g. columns ``stage``, ``modality``, ``share`` (in %),
        ``age``, ``sex``, ``medication`` (see :func:`encode_covariates` for the coding).
    fdr_by: columns within which to correct (default: one correction over every coefficient
        of every group, as the paper corrects all its tests together).
    cluster: column of cluster labels for cluster-robust errors (default plain OLS);
        ``use_t`` as in :func:`ols`.
    min_n: skip groups with fewer rows (default: number of covariates + 2); a group where a
        covariate does not vary is also skipped (its coefficient is not identifiable).

    Returns a tidy table, one row per group x covariate: the ``by`` columns, ``covariate``,
    ``coef``, ``se``, ``t``, ``p``, ``ci_low``, ``ci_high``, ``n``, ``p_fdr``, ``significant``
    (``p_fdr < alpha``).
    """
    by = list(by)
    covariates = list(covariates)
    for c in by + [response]:
        if c not in df.columns:
            raise ValueError(f"column {c!r} not in the table; columns are {list(df.columns)}")
    min_n = len(covariates) + 2 if min_n is None else min_n
    design = encode_covariates(df, covariates)
    rows = []
    for key, g in df.groupby(by, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        Xg = design.loc[g.index]
        yg = g[response].to_numpy(float)
        ok = np.isfinite(yg) & np.isfinite(Xg.to_numpy()).all(1)
        Xg, yg = Xg[ok], yg[ok]
        if len(yg) < min_n or (Xg.std(ddof=0) == 0).any():
            continue
        tab = ols(
            yg, Xg, cluster=g[cluster].to_numpy()[ok] if cluster else None, use_t=use_t
        ).reset_index()
        for col, val in zip(by, key):
            tab[col] = val
        rows.append(tab)
    cols = by + ["covariate"] + list(TABLE_COLUMNS)
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    if fdr_by:
        out["p_fdr"] = np.nan
        out["significant"] = False
        for _, g in out.groupby(list(fdr_by), sort=False):
            rej, pa = fdr(g["p"].to_numpy(), alpha=alpha)
            out.loc[g.index, "p_fdr"] = pa
            out.loc[g.index, "significant"] = rej
    else:
        rej, pa = fdr(out["p"].to_numpy(), alpha=alpha)
        out["p_fdr"], out["significant"] = pa, rej
    out["significant"] = out["significant"].astype(bool)
    out = out[cols]
    # the number of tests each p_FDR was corrected over (the FDR family), for the reader
    out.attrs["fdr_family_size"] = (
        {str(k): int(len(g)) for k, g in out.groupby(list(fdr_by), sort=False)}
        if fdr_by
        else int(len(out))
    )
    return out


def log_ratios(
    shares,
    *,
    kind: str = "alr",
    reference: int = 0,
) -> np.ndarray:
    """Log-ratio coordinates of compositions (Aitchison 1986): ``(n, D) -> (n, D-1)`` or ``(n, D)``.

    shares: ``(n, D)`` positive parts of a whole (e.g. the three modality shares in %; each
    row is closed to 1 first, so percentages and fractions give the same result).
    ``kind="alr"``: additive log-ratios ``log(x_j / x_reference)`` for every ``j != reference``,
    in column order: ``D - 1`` unconstrained coordinates, as many as the composition has
    degrees of freedom, so regressions on them carry no built-in dependence.
    ``kind="clr"``: centred log-ratios ``log(x_j) - mean_k log(x_k)``: ``D`` columns that sum to
    zero in every row (a regression's coefficients then sum to zero across columns, like
    those on the raw shares). Raises ValueError for non-positive or non-finite parts (a zero
    share has no log-ratio; count and drop such rows before, never replace them silently).
    """
    x = np.asarray(shares, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"shares must have shape (n, D) with D >= 2; got {x.shape}")
    if not np.isfinite(x).all() or (x <= 0).any():
        raise ValueError("log-ratios need finite, strictly positive parts in every row")
    lx = np.log(x / x.sum(1, keepdims=True))
    if kind == "clr":
        return lx - lx.mean(1, keepdims=True)
    if kind != "alr":
        raise ValueError(f"kind must be 'alr' or 'clr'; got {kind!r}")
    if not 0 <= reference < x.shape[1]:
        raise ValueError(f"reference must index a column 0..{x.shape[1] - 1}; got {reference}")
    keep = [j for j in range(x.shape[1]) if j != reference]
    return lx[:, keep] - lx[:, [reference]]


def bh_by_hand(pvalues, q: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg step-up, written out (for teaching; :func:`fdr` is the one to use).

    Sort the m p-values, ``p_adj(i) = min_{j >= i} m p_(j) / j`` (capped at 1), reject where
    ``p_adj <= q``. Returns ``(reject, p_adjusted)`` in the input order; equals
    ``multipletests(p, q, "fdr_bh")``.
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    if not np.isfinite(p).all():
        raise ValueError("p-values must be finite")
    m = len(p)
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adj_sorted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    adj = np.empty(m)
    adj[order] = adj_sorted
    return adj <= q, adj


def significance_stars(p_fdr) -> np.ndarray:
    """Paper Fig. 4 marks: ``""`` for p >= 0.01 (incl. NaN), ``"*"`` for p < 0.01, ``"**"`` for p < 0.001."""
    p = np.asarray(p_fdr, dtype=float)
    return np.where(p < 0.001, "**", np.where(p < 0.01, "*", ""))


# ---------------------------------------------------------------------------------------------
# Intervals and verdicts: every comparison in the workbook goes through these two functions.
# ---------------------------------------------------------------------------------------------


def mean_ci(
    values,
    units=None,
    *,
    ci: float = 0.95,
    unit_name: str = "sample",
) -> dict:
    """Mean with a ``ci`` t-interval over the unit that varies.

    values: ``(n,)`` numbers (NaN ignored). units: ``(n,)`` labels (subjects, folds, seeds) or
    ``None`` (each value is its own unit). Values are first averaged within each unit, then the
    interval is Student's t over the unit means (scipy), so ``n_units`` (not ``n``) sets its
    width. Returns ``{"mean", "lo", "hi", "n_units", "n", "unit"}``; ``lo``/``hi`` are NaN with
    fewer than two units, and everything is NaN when no value is finite.
    """
    from scipy import stats as sps

    v = np.asarray(values, dtype=float).ravel()
    if units is None:
        u = np.arange(len(v))
    else:
        u = np.asarray(units).ravel()
        if u.shape != v.shape:
            raise ValueError(f"units must have the shape of values {v.shape}, got {u.shape}")
    ok = np.isfinite(v)
    v, u = v[ok], u[ok]
    if len(v) == 0:
        return dict(mean=np.nan, lo=np.nan, hi=np.nan, n_units=0, n=0, unit=unit_name)
    means = pd.Series(v).groupby(u).mean().to_numpy()
    m = float(means.mean())
    k = len(means)
    if k < 2:
        lo = hi = np.nan
    else:
        se = float(means.std(ddof=1) / np.sqrt(k))
        if se == 0:
            lo = hi = m
        else:
            lo, hi = (float(x) for x in sps.t.interval(ci, k - 1, loc=m, scale=se))
    return dict(mean=m, lo=lo, hi=hi, n_units=int(k), n=int(len(v)), unit=unit_name)


def compare(a: dict, b: dict, *, higher_is_better: bool = True, names=("A", "B")) -> str:
    """Verdict from two :func:`mean_ci` results: ``"<A> beats <B>"``, ``"<B> beats <A>"`` or
    ``"not separated"``.

    A difference is called only when the two intervals do not overlap; an interval that is
    missing (fewer than two units) never separates.
    """
    lo_a, hi_a, lo_b, hi_b = (float(x[k]) for x in (a, b) for k in ("lo", "hi"))
    if not np.all(np.isfinite([lo_a, hi_a, lo_b, hi_b])):
        return "not separated"
    first, second = names
    if lo_a > hi_b:
        return f"{first} beats {second}" if higher_is_better else f"{second} beats {first}"
    if lo_b > hi_a:
        return f"{second} beats {first}" if higher_is_better else f"{first} beats {second}"
    return "not separated"


def format_ci(r: dict, fmt: str = ".2f") -> str:
    """``"0.81 [0.77, 0.85]"`` from a :func:`mean_ci` result (``"0.81"`` when no interval)."""
    if not np.isfinite(r["mean"]):
        return "n/a"
    if not (np.isfinite(r["lo"]) and np.isfinite(r["hi"])):
        return f"{r['mean']:{fmt}}"
    return f"{r['mean']:{fmt}} [{r['lo']:{fmt}}, {r['hi']:{fmt}}]"
