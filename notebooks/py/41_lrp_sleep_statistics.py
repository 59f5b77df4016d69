# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 41 · Clinical statistics of the LRP modality shares
#
# Paper 4 (Ellis et al.), Sec. II-E and Fig. 4: for every correctly classified sleep stage and modality, an
# ordinary least squares regression of the per-epoch relevance share (LRP epsilon = 100) on age, sex and
# medication, with Benjamini-Hochberg FDR correction over all tests (alpha = 0.05). Coefficients read as in
# the paper: medication = temazepam minus placebo, sex = male minus female, age = per year (percentage
# points of relevance). Here on **every correctly classified test epoch** of notebook 40's run.
#
# **Regenerates** paper Fig. 4 (`41-coefficients.png`, the paper's analysis). **Beyond the paper**: the
# **primary analysis** (`41-coefficients-cluster.png`) treats the three shares as a composition (two additive
# log-ratios against EEG, 30 tests instead of 45 of which only 30 are independent) and the epochs of one subject as
# one cluster (cluster-robust errors), since they share age, sex and the nights' medication; on simulated data the
# covariate effects were planted, so we count how many each analysis recovers; the whole chain repeated over
# **seeds** (`41-seeds.png`); and the BatchNorm-free network the paper actually used (`41-batchnorm-free.png`).
#
# **Runtime** (one thread): quick ≈ 2 min; default ≈ 10-12 min (estimated from timed pieces: two more seeds
# trained and explained with epsilon = 100, and the BatchNorm-free network; notebook 40's run comes from the cache).

# %% tags=["parameters"]
dataset = "sim"        # "sim" (simulated, no download) or "sleep-edf" (real telemetry files in data_dir)
data_dir = ""          # folder with the Sleep-EDF ST7*-PSG.edf / -Hypnogram.edf files when dataset is real
quick = False          # True: CI size (about a minute on 2 cores)
seed = 0
device = "auto"
cache_dir = "../.cache"
fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/
fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication
normalize = "recording"  # simulated data: z-score per "recording" (the paper) or "global" per channel over the data set

# %%
import warnings

import numpy as np
import pandas as pd

import eegnb.experiments.sleep as S
import eegnb.notebook
import eegnb.plots.sleep as P
from eegnb.stats import compare, mean_ci

warnings.filterwarnings("ignore", category=UserWarning)  # neurodsp filter notes while simulating
nb = eegnb.notebook.setup("41", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
cfg = S.notebook_config(dataset, quick)  # sizes shared with notebook 40, so both hit one cache
pd.set_option("display.precision", 3)
cfg

# %% [markdown]
# ## Notebook 40's results
#
# The same calls with the same sizes as notebook 40: the data and the cross-validation come from the cache.

# %%
data = S.load_sleep_data(dataset, data_dir, n_subjects=cfg["n_subjects"], epochs_per_night=cfg["epochs_per_night"],
                         seed=seed, quick=quick, normalize=normalize, cache_dir=nb.cache_dir, **cfg["load_kw"])
local, local_fold = S.local_recording(data, minutes=cfg["local_minutes"], k=cfg["k"], n_val_subjects=cfg["n_val_subjects"], seed=seed,
                                      fresh_seed=seed + 1000 if (dataset == "sim" and cfg["fresh_local"]) else None,
                                      normalize=normalize if dataset == "sim" else "recording", cache_dir=nb.cache_dir,
                                      require_stage=cfg["local_stage"], min_stage_epochs=cfg["local_min_stage"])
res = S.run_sleep_cv(data, k=cfg["k"], n_val_subjects=cfg["n_val_subjects"], seed=seed, fit_kw=cfg["fit_kw"],
                     max_train=cfg["max_train"], max_val=cfg["max_val"], max_explain=cfg["max_explain"],
                     local_data=local, local_fold=local_fold, device=nb.device, cache_dir=nb.cache_dir)

# %%
m = S.cv_metrics(res)
nb.record("cv_acc", m["acc"])
n_correct = res.samples[res.samples["explained"]].groupby("true")["correct"].sum()
n_correct.index = [res.class_names[i] for i in n_correct.index]
print(f"accuracy {m['acc']:.3f}, macro-F1 {m['macro_f1']:.3f}; correctly classified explained epochs per stage:")
n_correct

# %% [markdown]
# ## The statistics as equations
#
# For one stage $s$ (correctly classified epochs $e$) the paper fits, per modality $m$,
# $S_{m,e} = \beta_0 + \beta_{\mathrm{age}}\,\mathrm{age}_e + \beta_{\mathrm{sex}}\,\mathrm{male}_e + \beta_{\mathrm{med}}\,\mathrm{temazepam}_e + \varepsilon_e$
# (OLS, errors independent) and corrects all $5 \times 3 \times 3 = 45$ p-values with Benjamini-Hochberg:
# sort them, $p^{\mathrm{BH}}_{(i)} = \min_{j \ge i} \tfrac{M}{j}\,p_{(j)}$, reject where $p^{\mathrm{BH}} \le q = 0.05$, with $M$ the size of the family.
#
# Two properties of the data break the assumptions:
#
# - **Compositional.** $\sum_m S_{m,e} = 100$, so for every stage and covariate $\sum_m \hat\beta_m = 0$ exactly: the 45 tests
#   carry 30 independent coefficients, and a change of one share is mirrored by the others. We regress the
#   **additive log-ratios** $y_{m,e} = \log(S_{m,e} / S_{\mathrm{EEG},e})$ for $m \in \{\mathrm{EOG}, \mathrm{EMG}\}$: two unconstrained
#   coordinates per epoch (as many as the composition has degrees of freedom), read as "relevance on EOG (EMG)
#   relative to EEG", the modality sleep staging rests on. The centred log-ratio would give three columns whose
#   coefficients again sum to zero, so it would not shrink the family. A planted effect on EOG or EMG is read off
#   its own ratio; an effect on EEG moves both ratios the other way and is read off the more significant one.
# - **Clustered.** All epochs of a subject share age and sex (and each night its medication), so they are not
#   independent evidence. The primary model keeps OLS point estimates and uses **cluster-robust (sandwich)
#   errors by subject**, $\widehat{V} = (X^\top X)^{-1}\big(\sum_g X_g^\top \hat u_g \hat u_g^\top X_g\big)(X^\top X)^{-1}$
#   (statsmodels `cov_type="cluster"`, small-sample correction, t tests on $G - 1$ df). Subjects, not recordings,
#   are the clusters because the two nights of a subject share age and sex; clustering by recording is shown beside it.
#
# **FDR families** (BH at $q = 0.05$, one family per analysis and rule): the paper's analysis, the 45 share
# coefficients; the primary, the 30 log-ratio coefficients (5 stages x 2 log-ratios x 3 covariates).

# %% [markdown]
# ## Fig. 4 · the paper's analysis: OLS of relevance share on age, sex and medication
#
# One regression per (correct stage, modality): `share ~ 1 + age + sex + medication` (statsmodels OLS),
# then one Benjamini-Hochberg correction over every coefficient (the family of 45). White cells are not significant
# after correction; `*` marks p_FDR < 0.01 and `**` p_FDR < 0.001, as in the paper.

# %%
coef = S.covariate_table(res, "eps100")
nb.record("coef_table", coef.set_index(["stage", "modality", "covariate"])[["coef", "se", "p", "p_fdr", "significant"]].round(5))
nb.record("n_significant", int(coef["significant"].sum()))
nb.record("n_tests", len(coef))
nb.record("n_epochs_stats", int((res.samples["explained"] & res.samples["correct"]).sum()))
nb.record("n_test_epochs", len(res.samples))
nb.record("significant_coefs", coef[coef["significant"]][["stage", "modality", "covariate", "coef", "p_fdr"]].to_dict(orient="records"))
planted = data.info.get("planted_effects")
fig = P.plot_coef_heatmaps(coef, class_names=res.class_names, planted=S.effects_vs_truth(coef, planted) if planted is not None else None)
nb.savefig(fig, "coefficients")
coef.pivot_table(index=["covariate", "modality"], columns="stage", values="coef").round(3)

# %% [markdown]
# ## Beyond the paper · which planted effects does the regression recover?
#
# Each planted effect names a stage, a modality, a covariate and the sign of its effect on the signal
# (converted to the coding above). An effect counts as recovered when its coefficient is FDR-significant
# with the planted sign. A planted change in a signal need not move the relevance share in the same
# direction (the network may use the feature differently), so this is a test of the whole chain: signal,
# classifier, LRP and statistics.

# %%
if planted is not None:
    eff = S.effects_vs_truth(coef, planted)
    nb.record("planted_effects", eff.set_index(["stage", "modality", "covariate"])[["sign", "coef", "p_fdr", "sign_ok", "recovered"]])
    nb.record("n_recovered", int(eff["recovered"].sum()))
    nb.record("n_sign_ok", int(eff["sign_ok"].sum()))
    display(eff[["stage", "modality", "covariate", "description", "sign", "coef", "p_fdr", "sign_ok", "recovered"]])

# %% [markdown]
# ## Beyond the paper · the primary analysis, side by side with the paper's
#
# `S.statistics_table` runs the paper's analysis and the compositional, cluster-robust ones on the same epochs and
# counts, per analysis, the tests in its FDR family, the significant coefficients and the planted effects recovered
# (significant with the planted sign). The figure shows the primary analysis's coefficients.

# %%
stats_tab, tabs = S.statistics_table(res, planted, "eps100")
nb.record("analyses", stats_tab)
prim = tabs[S.PRIMARY]
nb.record("primary_family", prim.attrs["fdr_family"])
nb.record("paper_family", coef.attrs["fdr_family"])
fig = P.plot_coef_heatmaps(prim, class_names=res.class_names,
                           title="Primary: OLS of log(share / EEG share) with cluster-robust (by subject) errors; white: not significant")
nb.savefig(fig, "coefficients-cluster")
if planted is not None:
    eff_p = S.effects_vs_truth(prim, planted)
    nb.record("primary_effects", eff_p.set_index(["stage", "modality", "covariate"])[["sign", "coef", "p_fdr", "read_off", "recovered"]])
    display(eff_p[["stage", "modality", "covariate", "sign", "read_off", "coef", "p_fdr", "recovered"]])
others = {f"{r} (OLS)": S.covariate_table(res, r) for r in res.rules}
nb.record("recovered_by", {k: sorted(f"{h.stage} {h.modality} {h.covariate}" for h in S.effects_vs_truth(v, planted).query("recovered").itertuples())
                           for k, v in others.items()} if planted is not None else {})
nb.record("recovered_any_rule", sorted(set().union(*nb.records["recovered_by"].values())) if planted is not None else [])
stats_tab

# %% [markdown]
# ## Beyond the paper · seeds: how much of this is the training run?
#
# Training on 500 epochs per fold is noisy: retraining fold 0 with the same seed on another thread count moved its
# test accuracy by several points. Notebook 40's model already keeps the checkpoint with the best validation loss
# (`eegnb.train.fit`), so the honest answer is variance: we repeat the whole chain (folds, training subsample,
# initialisation, batch order, epsilon = 100 on every correctly classified test epoch, both analyses) for each seed in
# `cfg["seeds"]` and give intervals over seeds.

# %%
runs = {seed: res}
for s in cfg["seeds"]:
    if s not in runs:
        runs[s] = S.run_sleep_cv(data, k=cfg["k"], n_val_subjects=cfg["n_val_subjects"], seed=s, fit_kw=cfg["fit_kw"],
                                 max_train=cfg["max_train"], max_val=cfg["max_val"], max_explain=cfg["max_explain"],
                                 explain="correct", rules={"eps100": S.RULES["eps100"]}, ablation=False, device=nb.device, cache_dir=nb.cache_dir)
seed_tab = pd.DataFrame([S.seed_summary(r, planted) for r in runs.values()])
cols = ["acc", "recovered_paper", "recovered_primary"] if planted is not None else ["acc"]
seed_ci = {c: mean_ci(seed_tab[c], seed_tab["seed"], unit_name="seed") for c in cols}
nb.record("seeds", seed_tab.set_index("seed"))
nb.record("seed_ci", seed_ci)
if planted is not None:
    fig = P.plot_seeds(seed_tab, seed_ci, n_planted=len(planted))
    nb.savefig(fig, "seeds")
seed_tab

# %% [markdown]
# ## Beyond the paper · the paper's own network, without BatchNorm
#
# The paper's CNN (Ellis et al., after CVxTz/EEG_classification) has no BatchNorm; this workbook's default adds it.
# `build("sleepcnn", ..., batchnorm=False)` gives the original conv + ReLU stack. Same folds and seed, all three
# rules on `variant_max_explain` test epochs per fold; shares compared with intervals over folds.

# %%
res_nobn = S.run_sleep_cv(data, k=cfg["k"], n_val_subjects=cfg["n_val_subjects"], seed=seed, fit_kw=cfg["fit_kw"], model_kw=dict(batchnorm=False),
                          max_train=cfg["max_train"], max_val=cfg["max_val"], max_explain=cfg["variant_max_explain"], ablation=False,
                          device=nb.device, cache_dir=nb.cache_dir)
nb.record("nobn_acc", S.cv_metrics(res_nobn)["acc"])
g = {name: S.global_table(r) for name, r in (("BatchNorm", res), ("no BatchNorm", res_nobn))}
pick = lambda t, r, m: t[(t["rule"] == r) & (t["modality"] == m)]  # noqa: E731
nb.record("bn_share_ci", {f"{r}|{name}": {m: mean_ci(pick(t, r, m)["share"], pick(t, r, m)["fold"], unit_name="fold") for m in res.modalities}
                          for name, t in g.items() for r in res.rules})
both = pd.concat([t.assign(rule=t["rule"].map(P.RULE_LABELS) + "\n" + name) for name, t in g.items()], ignore_index=True)
fig = P.plot_global_shares(both, rules=[P.RULE_LABELS[r] + "\n" + name for r in res.rules for name in g])
nb.savefig(fig, "batchnorm-free")
both.groupby(["rule", "modality"])["share"].mean().unstack().round(1)

# %% [markdown]
# ## What we saw
#
# The run's numbers follow in the next cell; here, how to read them.
#
# - **The paper's analysis against the primary one.** Plain OLS treats every epoch as independent evidence about a
#   handful of subjects and tests every share coefficient although a third of them are implied by the others (the shares sum to the whole, so
#   each stage and covariate's three coefficients sum to zero: a significant EOG coefficient usually comes with a
#   mirror image on EEG or EMG). The primary analysis tests the 30 free log-ratio coefficients with errors clustered
#   by subject. Counts of significant coefficients and recovered planted effects for each analysis are printed.
# - **A planted effect is a test of the whole chain** (signal, classifier, LRP, statistics): a planted change in a
#   signal need not move the relevance share in the planted direction.
# - **Seeds.** Accuracy and recovered effects with intervals over seeds: a conclusion that holds for one seed and not
#   another is not a conclusion about the method.
# - **BatchNorm or not.** Whether the modality shares of the paper's BatchNorm-free network differ from this
#   workbook's BatchNorm variant (intervals over folds, per rule and modality).

# %%
# NBVAL_CHECK_OUTPUT
sig, an, by = nb.records["significant_coefs"], nb.records["analyses"], nb.records["recovered_by"]
eff = {k.strip("()").replace("'", ""): v for k, v in nb.records.get("planted_effects", {}).items()}
fmt = lambda c: f"{c['stage']} {c['modality'].upper()} x {c['covariate']} {c['coef']:+.1f} (p_FDR = {c['p_fdr']:.2g})"  # noqa: E731
rec = [dict(zip(("stage", "modality", "covariate"), k.split(", ")), **v) for k, v in eff.items() if v["recovered"]]
mirror = [fmt(c) for c in sig if any(c["stage"] == r["stage"] and c["covariate"] == r["covariate"] and c["modality"] != r["modality"] for r in rec)]
pe = {k.strip("()").replace("'", ""): v for k, v in nb.records.get("primary_effects", {}).items()}
n_ = lambda x: "n/a" if x is None or x != x else f"{int(x)}"  # noqa: E731  (records hold floats; NaN/None on real data)
rows = "; ".join(f"{k}: {n_(v['significant'])} of {n_(v['tests'])} significant, {n_(v['recovered'])} of {n_(v['n_planted'])} planted recovered" for k, v in an.items())
sc, bn = nb.records["seed_ci"], nb.records["bn_share_ci"]
bn_txt = "; ".join(f"{r} {m.upper()} {nb.ci(bn[f'{r}|BatchNorm'][m], '.0f')} vs {nb.ci(bn[f'{r}|no BatchNorm'][m], '.0f')} % (**{nb.verdict(bn[f'{r}|BatchNorm'][m], bn[f'{r}|no BatchNorm'][m], names=('BatchNorm', 'no BatchNorm'))}**)"
                   for r in res.rules for m in res.modalities)
nb.report("""
**This run:** LRP epsilon = 100, all {n_epochs_stats} correctly classified test epochs of notebook 40 (of {n_test_epochs} test epochs).

- **Paper's analysis** (FDR family: {paper_family}): {n_significant} significant coefficients: {sig}. Planted effects recovered with
  the right sign: {n_recovered} of {n_planted} ({rec}); pointing the right way: {n_sign_ok} of {n_planted}. Compositional mirror images of
  recovered effects: {mirror}.
- **Primary analysis** (FDR family: {primary_family}): recovered {prim_rec}.
- **Every analysis:** {rows}.
- **Over seeds** (mean [95% CI] over {n_seeds} seeds): accuracy {acc_ci}; planted effects recovered by the paper's analysis {rp_ci}, by the
  primary analysis {rq_ci}.
- **BatchNorm-free network** (the paper's): accuracy {nobn_acc:.2f}; shares (mean [95% CI] over folds, BatchNorm vs none): {bn_txt}.
""", sig="; ".join(fmt(c) for c in sig) or "none", n_planted=len(eff), rec="; ".join(fmt(r) for r in rec) or "none",
   mirror="; ".join(mirror) or "none", rows=rows, bn_txt=bn_txt, n_seeds=sc["acc"]["n_units"], acc_ci=nb.ci(sc["acc"]),
   rp_ci=nb.ci(sc["recovered_paper"], ".1f") if "recovered_paper" in sc else "n/a", rq_ci=nb.ci(sc["recovered_primary"], ".1f") if "recovered_primary" in sc else "n/a",
   prim_rec="; ".join(f"{k} ({v['read_off']}, {v['coef']:+.2f}, p_FDR = {v['p_fdr']:.2g})" for k, v in pe.items() if v["recovered"]) or "none",
   **{k: nb.records.get(k, 0) for k in ("n_recovered", "n_sign_ok")})

# %% [markdown]
# ## Exercises

# %% [markdown] tags=["exercise"]
# ### Exercise 1 · a modality share by hand
#
# Take the first correctly classified epoch of fold 0, explain it with LRP epsilon = 100 on fold 0's network
# (`S.fold_model`, `S.explain_rule`) and compute its three modality shares with numpy from the map alone (absolute
# relevance summed over each channel's time axis, divided by the total). Compare with `eegnb.metrics.modality.modality_shares`.
# **Predict before you run:** for a correctly classified REM epoch, which modality should carry the largest share on this simulation?

# %% tags=["solution"]
from eegnb.metrics.modality import modality_shares

net0 = S.fold_model(data, res, 0, device=nb.device, cache_dir=nb.cache_dir)
row = res.samples.query("fold == 0 and correct").iloc[0]
R = S.explain_rule(net0, data.X[[row["idx"]]], "eps100")[0]  # (3, 3000)
a = np.abs(R.astype(float)).sum(1)  # one number per channel = per modality here
mine = 100 * a / a.sum()
lib = modality_shares(R[None], data.ch_types)[0]
print(res.class_names[row["true"]], {m: round(float(v), 2) for m, v in zip(res.modalities, mine)})
assert np.allclose(mine, lib)

# %% [markdown] tags=["exercise"]
# ### Exercise 2 · Benjamini-Hochberg by hand
#
# Apply BH at q = 0.05 by hand to the raw p-values of the paper's analysis (`coef["p"]`): sort, scale by M / rank,
# take the running minimum from the largest p downwards, cap at 1. Compare with the table's `p_fdr` (statsmodels),
# then redo it as if the family had only the 15 medication tests. **Predict before you run:** can a smaller family
# make fewer coefficients significant?

# %% tags=["solution"]
p = coef["p"].to_numpy()
M = len(p)
order = np.argsort(p)
adj = np.minimum(1, np.minimum.accumulate((p[order] * M / np.arange(1, M + 1))[::-1])[::-1])
mine = np.empty(M)
mine[order] = adj
assert np.allclose(mine, coef["p_fdr"]), "BH by hand differs from statsmodels"
from eegnb.stats import bh_by_hand
med = coef["covariate"].eq("medication").to_numpy()
rej_med, _ = bh_by_hand(p[med], 0.05)
print(f"family of {M}: {int((mine <= 0.05).sum())} significant; medication family of {med.sum()}: {int(rej_med.sum())} significant "
      f"(of which {int((mine[med] <= 0.05).sum())} were significant in the family of {M})")

# %% [markdown] tags=["exercise"]
# ### Exercise 3 · the share coefficients sum to zero; the log-ratio ones do not
#
# Sum the paper's OLS coefficients over the three modalities for every stage and covariate; then do the same for the
# log-ratio coefficients of the primary analysis. **Predict before you run:** what is the first sum, and why does it
# make 15 of the 45 share tests redundant?

# %% tags=["solution"]
s_share = coef.groupby(["stage", "covariate"])["coef"].sum()
s_alr = prim.groupby(["stage", "covariate"])["coef"].sum()
print("largest |sum| over modalities: shares", float(s_share.abs().max()), "| log-ratios", float(s_alr.abs().max()))
assert s_share.abs().max() < 1e-6

# %% [markdown] tags=["exercise"]
# ### Exercise 4 · change epsilon and predict conservation
#
# Explain 20 correctly classified epochs of fold 0 with LRP-epsilon for epsilon in 1e-6, 0.01, 1 and 100 (relevance
# scaled as in `S.explain_rule` for epsilon = 100) and print the median of sum(relevance) / logit for each.
# **Predict before you run:** does the median move towards 1 or away from it as epsilon grows, and why does
# epsilon = 100 give a tiny number (how many layers does it act on)?

# %% tags=["solution"]
net0 = S.fold_model(data, res, 0, device=nb.device, cache_dir=nb.cache_dir)
X20 = data.X[res.samples.query("fold == 0 and correct")["idx"].to_numpy()[:20]]
logit = S.explained_logit(net0, X20)
for eps in (1e-6, 0.01, 1.0, 100.0):
    scale = 1e12 if eps >= 100 else 1.0
    R = S.explain_rule(net0, X20, "e", {"e": ("lrp_epsilon", {"epsilon": eps})}) if scale == 1.0 else S.explain_rule(net0, X20, "eps100")
    kappa = R.astype(float).sum((1, 2)) / scale**2 / logit
    print(f"epsilon = {eps:g}: median sum(R) / logit = {np.median(kappa):.3g}, unstable maps {int(S.unstable_maps(kappa).sum())} of {len(kappa)}")
