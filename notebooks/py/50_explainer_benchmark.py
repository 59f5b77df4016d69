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
# # 50 · The explainer benchmark: every method against planted ground truth
#
# None of the four papers, nor Captum, Zennit or Quantus, scores EEG explainers against a known
# answer. Here every registered method (`eegnb.explain.METHODS`) explains models trained on
# simulated EEG whose class evidence we planted ourselves, and the evaluation layer
# (`eegnb.metrics`) scores each map with the same metrics, beside three controls that show what
# chance and perfect look like:
#
# - **random**: a seeded uniform map (chance);
# - **shuffled**: the gradient map with its elements permuted within each sample (its values
#   without their placement; should score like random);
# - **oracle**: the planted truth itself used as a map (the best a map can localise).
#
# Metrics, each with its direction and range in its docstring: localisation ROC-AUC, relevance
# mass inside the truth and top-k precision (against `truth`, or against the band truth for
# frequency maps); faithfulness as the area between the least- and most-relevant-first deletion
# curves of the true-class probability; cascading model-parameter randomisation (a method whose maps
# do not change when the model is destroyed fails); seconds per sample and peak memory. Maps that
# are constant on a sample are counted as **degenerate** and shown, never re-drawn.
#
# - **Regenerates:** `figures/50-leaderboard.csv` and `50-leaderboard.png`, `50-difficulty.png`,
#   `50-sanity.png`, `50-cost.png`, `50-deletion-curves.png`, `50-example-maps.png`.
# - **Runtime:** about 2 min quick (one layout, one model, one seed), about 20 min default
#   (3 layouts x 3 models x 3 seeds), on 2 CPU cores; cached afterwards.

# %% tags=["parameters"]
dataset = "sim"  # the benchmark needs planted truth: "sim" only (semi-synthetic layouts read data_dir)
data_dir = ""  # EEGBCI-layout folder for the semi-synthetic layout; empty: the shared S001 copy if present
quick = False  # True: the CI size (one layout, one model, one seed)
seed = 0  # offsets every run's seed
device = "auto"
cache_dir = "../.cache"
fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/
fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication

# %%
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import eegnb
from eegnb.experiments import benchmark as bm
from eegnb.explain import METHODS, explain, methods_table
from eegnb.plots import benchmark as bplots

nb = eegnb.notebook.setup("50", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
if dataset != "sim":
    raise ValueError("the benchmark scores maps against planted truth: use dataset='sim'")
cfg = bm.quick_config() if quick else bm.Config()
cfg = dataclasses.replace(cfg, seeds=tuple(s + seed for s in cfg.seeds))
nb.record("config", dict(layouts=cfg.layouts, models=cfg.models, seeds=cfg.seeds, n_subjects=cfg.n_subjects,
                         n_explain=cfg.n_explain, difficulty=cfg.difficulty, fingerprint=bm.fingerprint_config(cfg)))

# %% [markdown]
# ## The methods
#
# Every method goes through the same call, `explain(method, model, X, target)`, and states the
# domain it produces: time maps `(n, ch, t)` are scored against the time truth, band maps
# `(n, ch, n_bands)` against the band truth over the same `n_bands` equal-width bands. A method is
# never scored in a domain it does not produce. The target is the true class of each sample
# (the `random` control ignores the target and is called without one).

# %%
table = methods_table()
nb.record("n_methods", len(table))
table

# %% [markdown]
# ## Open the hood: one run scored by hand
#
# Before the full grid, the core loop in the open on one small run: simulate, train, explain
# with gradient saliency, and put the map through the three scores beside the random and oracle
# controls. The benchmark below does exactly this for every method, layout, model and seed.

# %%
from eegnb.metrics.controls import oracle_map, random_map
from eegnb.metrics.faithfulness import deletion_curve
from eegnb.metrics.localisation import localisation_auc, relevance_mass

data = bm._data(cfg.layouts[0], cfg, cfg.seeds[0])
model, split, acc = bm._model(cfg.models[0], data, cfg, cfg.seeds[0], nb.device, nb.cache_dir)
idx = bm._explain_set(data, split, cfg.n_explain, cfg.seeds[0])
X, y, truth = data.X[idx], data.y[idx], data.truth[idx]
hood = {"gradient": explain("gradient", model, X, y, device=nb.device),
        "random": random_map(X.shape, seed=nb.seed), "oracle": oracle_map(truth)}
curves = {}
for name, m in hood.items():
    curves[name] = {o: deletion_curve(model, X, y, m, axis="channel", order=o, device=nb.device) for o in ("most", "least")}
    print(f"{name:9s} AUC {np.nanmean(localisation_auc(m, truth)):.2f}  mass {np.nanmean(relevance_mass(m, truth)):.2f}")
nb.record("hood_acc", acc)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, order, title in zip(axes, ("most", "least"), ("most relevant channels first", "least relevant first")):
    for name, c in curves.items():
        cc = c[order]
        ax.plot(cc["fraction"], np.nanmean(cc["curve"], 0), "o-", ms=2, label=name, color=bplots.CONTROL_COLORS.get(name))
    ax.set(xlabel="fraction of channels removed (set to 0)", title=title)
axes[0].set_ylabel("probability of the true class")
axes[1].legend()
fig.suptitle(f"Deletion curves, {cfg.models[0]} on simulated {cfg.layouts[0]} (mean over {len(X)} samples)")
fig.tight_layout()
nb.savefig(fig, "deletion-curves")

# %% [markdown]
# ## The benchmark
#
# `bm.run(cfg)` repeats the loop above for every layout x model x seed: one simulated data set
# and one model per seed (subject-independent split of pooled subjects), every method and control
# on the same held-out samples. Each run is cached, keyed by the whole configuration and the
# version of the code that computes it.

# %%
res = bm.run(cfg, device=nb.device, cache_dir=nb.cache_dir)
nb.record("run_accuracy", res["runs"].to_dict(orient="records"))
nb.record_ci("model_acc", res["runs"]["acc"], unit_name="run")
res["runs"].pivot_table(index=["layout", "model"], columns="seed", values="acc")

# %% [markdown]
# ## Sanity: do the maps depend on the model?
#
# Cascading model-parameter randomisation (Adebayo et al., 2018): the layers of a trained model are
# re-initialised from the output backwards, one more at a time, and each method explains the same
# samples again. A map that still correlates with the trained model's map after the whole network
# is random cannot be explaining the model. The `random` control shows what failing looks like: its
# map depends only on its seed and the sample, not on the model, so it stays perfectly correlated.

# %%
sanity = bm.run_sanity(cfg, device=nb.device, cache_dir=nb.cache_dir)
fig = bplots.plot_sanity(sanity)
nb.savefig(fig, "sanity")

# %% [markdown]
# ## The leaderboard
#
# One row per method and control, one column group per metric: mean and 95 % interval over the
# unit that varies (runs = layout x model x seed; samples when there is only one run), degenerate
# maps counted, cost per sample. Written to `figures/50-leaderboard.csv`.

# %%
tab = bm.leaderboard(res, sanity)
tab.to_csv(nb.fig_dir / "50-leaderboard.csv", index=False, float_format="%.4g")
nb.record("leaderboard", tab.set_index(tab["method"] + "/" + tab["domain"]))
fig = bplots.plot_leaderboard(tab, {"auc": ("localisation ROC-AUC", 0.5), "mass": ("relevance mass in truth", None),
                                    "faith_gap": ("faithfulness area (LeRF - MoRF)", 0.0), "sanity_rho": ("sanity: rho after randomisation", 0.5)})
nb.savefig(fig, "leaderboard")
tab[["method", "domain", "auc", "auc_lo", "auc_hi", "mass", "topk", "faith_gap", "sanity_rho", "sanity_pass",
     "n_degenerate", "seconds_per_sample"]].round(3)

# %%
fig = bplots.plot_cost(tab)
nb.savefig(fig, "cost")
per_layout = res["scores"].groupby(["layout", "method", "domain"])["auc"].mean().unstack("layout").round(2)
per_layout

# %% [markdown]
# ## How localisation degrades as the planted effect weakens
#
# The same methods on one layout and model at four difficulties (0: strongest planted effect). As
# the effect weakens the model's accuracy falls, and a faithful explanation of a model that no
# longer uses the evidence should stop finding it; the oracle stays at 1 by construction and the
# random control at 0.5.

# %%
sweep = bm.run_sweep(cfg, device=nb.device, cache_dir=nb.cache_dir)
sw = bm.sweep_table(sweep)
nb.record("sweep", sw.to_dict(orient="records"))
fig = bplots.plot_sweep(sw)
nb.savefig(fig, "difficulty")
sw.pivot_table(index="method", columns="difficulty", values="auc").round(2)

# %% [markdown]
# ## Semi-synthetic: planted evidence in real EEG
#
# `simulate("semi-eegbci")` keeps real EEGBCI recordings as they are (here S001: every imagery run,
# task and rest epochs) and adds a 2-s mu burst from a source under C4 (left hand) or C3 (right
# hand), projected through the same lead field, so the truth is exact while noise, spectra and
# artefacts are real. One subject gives few samples for a deep model; a logistic regression on the
# planted band's log power at the planted channels shows how readable the evidence itself is. Only
# the gradient and LRP families run here (`bm.SEMI_METHODS`); skipped at quick size and when no
# EEGBCI recordings are found.

# %%
from pathlib import Path

semi_dir = Path(data_dir or "../../shared/data/eegmmidb")
if quick or not semi_dir.is_dir():
    print("semi-synthetic layout skipped:", "quick size" if quick else f"no EEGBCI recordings at {semi_dir.resolve()}")
else:
    scfg = bm.semi_config(cfg, semi_dir)
    semi = bm.run(scfg, device=nb.device, cache_dir=nb.cache_dir)
    stab = bm.leaderboard(semi)
    nb.record_ci("semi_model_acc", semi["runs"]["acc"], unit_name="seed")
    nb.record("semi_baseline_acc", bm.band_power_baseline(bm._data("semi-eegbci", scfg, scfg.seeds[0])))
    nb.record("semi_auc", {f"{m}/{d}": bm.ci_of(stab, m, "auc", d) for m, d in zip(stab["method"], stab["domain"])})
    display(stab[["method", "domain", "auc", "auc_lo", "auc_hi", "faith_gap", "n_degenerate"]].round(3))

# %% [markdown]
# ## What the table says
#
# Generated from the leaderboard: every "above", "not separated" and "highest" below is
# `eegnb.stats.compare` on the intervals of the table, and every number is the table's.

# %%
# NBVAL_CHECK_OUTPUT
for m in ("random", "oracle", "shuffled", "gradient", "lrp_epsilon"):
    nb.record(f"auc_{m}", bm.ci_of(tab, m, "auc", "time"))
g = tab[(tab["method"] == "gradient")].iloc[0]
nb.record("sanity_gradient", dict(rho=g["sanity_rho"], lo=g["sanity_rho_lo"], hi=g["sanity_rho_hi"], passes=bool(g["sanity_pass"])))
semi = (f"EEGNet test accuracy {nb.ci('semi_model_acc')} over seeds, against {nb.records['semi_baseline_acc']:.2f} for a "
        f"band-power logistic regression; gradient AUC {nb.ci(nb.records['semi_auc']['gradient/time'])}, random "
        f"{nb.ci(nb.records['semi_auc']['random/time'])}" if "semi_auc" in nb.records else "not run")
nb.report("""
Model test accuracy over {model_acc[n_units]} runs: {model_acc:ci}.

{reading}

- **Semi-synthetic (real S001 background):** {semi}.
""", reading="\n\n".join("- " + line for line in bm.reading(tab)), semi=semi)

# %% [markdown]
# ## Reading it with care
#
# - The simulation plants evidence in a few channels and a time window; a method that tracks
#   *where the model looks* can still disagree with the truth if the model uses only part of the
#   planted region. The oracle is the ceiling of localisation, not of faithfulness.
# - Deletion replaces channels by zero, which moves samples off the data distribution (Hooker et
#   al., 2019); the least-relevant-first curve in the same units is what makes the area comparable
#   across methods.
# - The perturbation methods (`context_mask`, `frequency_mask`, `easypeasi`) run at reduced budgets
#   here (see `cfg.method_kw`), and the frequency mask runs without target alignment (no reference
#   set); notebooks 10-21 run them at the papers' settings.
# - The paper-scale budgets are parameters of `bm.Config` (`method_kw`, `n_explain`, `seeds`); on a
#   GPU use `device="cuda"`.
