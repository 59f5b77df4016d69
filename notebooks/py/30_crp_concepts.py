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
# # 30 · CRP concepts of EEGNet filters (paper 3)
#
# Concept relevance propagation (CRP) on EEGNet, after *"Explainable AI Insights Into EEG
# Classification and Its Alignment to Neural Correlates"*. We train EEGNet leave-one-subject-out,
# explain each held-out trial for its predicted class and ask which **filters of the
# separable-convolution block** (16 per model) carry that relevance (CRP conditions the backward pass
# on one filter at a time). For each filter we show where in channel x time its evidence lies, pick
# the trials it is most relevant for (relevance maximisation on **one common pool of trials shared
# by all models**), describe it per class by its spatial and spectral relevance, embed all filters of
# all models with UMAP, find recurring filter types by density clustering (HDBSCAN) and test their
# recurrence across models against permuted model labels.
#
# - **Tasks:** the paper ran auditory attention, internal/external attention and motor imagery;
#   `task` selects the simulated layout (`"motor"`: ERD of mu/beta over C3/C4, the default;
#   `"auditory"`, `"attention"`: their own planted correlates, figures `30-*-auditory.png`,
#   `30-*-attention.png`). Planted channels and bands come from the data (`info["planted"]`,
#   `truth_freq`). Real PhysioNet EEGBCI S001 with `dataset="eegbci"` (figures `30-*-real.png`).
# - **Regenerates:** the paper's concept heatmaps with reference samples, and the UMAP of filter
#   concepts with density clusters across leave-one-out models (figures `30-*.png`), plus
#   `30-cluster-recurrence.png` (recurrence against chance).
# - **Runtime:** quick about a minute; default a few minutes on 2 cores (training and the CRP of
#   every model on the common pool dominate; all cached for notebook 31).
# - **Library:** zennit / zennit-crp (`CondAttribution`, `FeatureVisualization`) via
#   `eegnb.explain.lrp` and `eegnb.explain.crp`; UMAP (umap-learn); HDBSCAN (scikit-learn).

# %% tags=["parameters"]
dataset = "sim"  # sim: simulated EEGBCI-like motor imagery with planted ERD; eegbci: PhysioNet files
data_dir = ""  # real data: the folder holding S001/, e.g. ../../shared/data/eegmmidb
task = "motor"  # motor (left/right hand imagery) | auditory (attended side) | attention (internal/external)
quick = False  # True: the CI size (about a minute or two on 2 cores)
seed = 0
device = "auto"
cache_dir = "../.cache"
fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/
fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication

# %%
import numpy as np

import eegnb
from eegnb.experiments import crp as paper3
from eegnb.plots import crp as plots

nb = eegnb.notebook.setup("30", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
config = paper3.CRPConfig.quick() if quick else paper3.CRPConfig()
real = dataset != "sim"
suffix = ("-real" if real else "") + ("" if task == "motor" else f"-{task}")  # real / other-task figures sit beside
raw = paper3.load_data(dataset, data_dir, config=config, seed=seed, task=task)
pool = paper3.load_pool(dataset, config=config, seed=seed, task=task)
result = paper3.run(raw, config=config, seed=seed, device=nb.device, cache_dir=nb.cache_dir, pool=pool)
data = result.data
print(f"planted channels ({result.planted_from}): {result.planted_channels}; bands (Hz): {result.planted_bands}")
print(f"common pool: {result.pool_source}")
data

# %% [markdown]
# **Data and training.** `paper3.prepare` detrends every epoch, re-references to the common
# average, resamples to 80 Hz (mu and beta stay below the 40 Hz Nyquist; EEGNet gets 4x cheaper),
# keeps the 0.5-3.5 s window after the cue and standardises every channel per subject (no labels
# involved; it removes the subject-specific channel gains that otherwise stop EEGNet from
# transferring between subjects). One EEGNet-8,2 per fold (kernel 0.25 s, dropout 0.25, Adam
# 3e-3, early stopping on a validation subject).

# %%
folds = result.folds_table
nb.record("acc_per_fold", folds["acc"].round(3).tolist())
nb.record("mean_acc", float(folds["acc"].mean()))
nb.record_ci("acc_ci", folds["acc"], unit_name="fold")
folds

# %% [markdown]
# ## The rules, as equations
#
# **LRP** sends the explained logit $f_c(x)$ back through the network layer by layer. For a layer
# $z_k = \sum_j a_j w_{jk} + b_k$ with input activations $a_j$ and relevance $R_k$ at its outputs:
#
# - **LRP-$\varepsilon$** (our default, $\varepsilon = 10^{-6}$, BatchNorm merged into the convolutions):
#   $$R_j = \sum_k \frac{a_j w_{jk}}{z_k + \varepsilon\,\mathrm{sign}(z_k)}\, R_k .$$
# - **LRP-$\alpha\beta$** ($\alpha - \beta = 1$; $z^{+}$, $z^{-}$ the positive and negative parts of the contributions):
#   $$R_j = \sum_k \Big(\alpha \frac{(a_j w_{jk})^{+}}{\sum_{j'} (a_{j'} w_{j'k})^{+}} - \beta \frac{(a_j w_{jk})^{-}}{\sum_{j'} (a_{j'} w_{j'k})^{-}}\Big) R_k .$$
# - Activations (ELU) pass relevance unchanged; average pooling is a linear layer like the others.
#
# Relevance is conserved, $\sum_j R_j = \sum_k R_k$, except for what the biases $b_k$ and the
# stabiliser $\varepsilon$ absorb: the *leak* we measure below.
#
# **CRP** conditions the same backward pass on a concept $\theta$: at the concept layer $\ell$
# (EEGNet's pointwise separable convolution, filters $i = 1..16$) only the relevance of the chosen
# filter passes on,
# $$R^{\ell}_{i}(x \mid \theta) = \delta_{i \in \theta}\, R^{\ell}_i(x), \qquad
# R(x \mid \theta) = \text{LRP from } \ell \text{ down to the input of } R^{\ell}(x \mid \theta),$$
# so the conditional heatmap $R(x \mid \theta = \{i\})$ shows where filter $i$'s evidence for class $c$ lies,
# and the filter relevance is $R_i(x) = \sum_{\text{positions}} R^{\ell}_i(x)$. Completeness:
# $\sum_i R_i(x) = f_c(x)$ minus the leak above $\ell$, and $\sum_i R(x \mid \{i\}) = R(x)$ exactly
# (the backward pass is linear in the relevance at $\ell$).
#
# **Relevance maximisation** picks, for filter $i$ and class $c$, the pool samples with the largest
# $R_i(x)$ (the top fraction `config.top_fraction`): its representative data.

# %% [markdown]
# **CRP on one trial.** Relevance starts at the logit of the predicted class and flows back through
# the network with LRP-epsilon. The first panel is the ordinary LRP heatmap (channel x time, rows
# grouped by electrode row); the next panels are the concept heatmaps of the trial's three most
# relevant filters. Each panel has its own symmetric colour scale set at the 99th percentile of its
# absolute relevance (a few large values saturate instead of washing out the rest); the colourbars
# are in logit units. The bars give every filter's relevance for this trial. Red speaks for the
# explained class, blue against it.

# %%
ex = paper3.example_concepts(result, fold=0, k=3)
fig = plots.plot_concept_heatmaps(
    ex["total"], ex["per_filter"], ex["filters"], ex["relevance"], ch_names=data.ch_names, sfreq=data.sfreq,
    tmin=config.tmin, title=f"trial {ex['sample']} (S{data.subject[ex['sample']]}, {data.class_names[ex['y']]}), "
    f"explained for {data.class_names[ex['pred']]}")
nb.savefig(fig, "concept-heatmaps" + suffix)

# %% [markdown]
# **Open the hood: the CRP conditioning loop.** The driver above calls zennit-crp. Here the same
# conditioning runs by hand for the example trial: the LRP-epsilon composite is registered on the
# model, a hook on the concept layer multiplies the relevance arriving there by a one-hot mask of
# filter *i*, and the backward pass starts at the explained logit. The loop must reproduce
# zennit-crp's conditional heatmaps, and its maps must add up to the unconditioned LRP map.

# %%
import torch

from eegnb.explain import crp as crp_explain
from eegnb.explain import lrp

model0 = result.models[0].cpu().eval()
layer = dict(model0.named_modules())[crp_explain.concept_layer(model0)]
x = torch.as_tensor(data.X[[ex["sample"]]])
mask = {}

def condition(module, inputs, output):  # CRP: only the masked filters pass relevance on
    output.register_hook(lambda grad: grad * mask["m"])

hook = layer.register_forward_hook(condition)
maps = []
with lrp.make_composite(config.rule, model=model0, example=x).context(model0) as modified:
    for i in range(layer.out_channels):
        mask["m"] = torch.zeros(1, layer.out_channels, 1, 1)
        mask["m"][0, i] = 1.0
        xi = x.clone().requires_grad_(True)
        out = modified(xi)
        start = torch.zeros_like(out)
        start[0, ex["pred"]] = out[0, ex["pred"]].detach()  # relevance starts at the explained logit
        out.backward(start)
        maps.append(xi.grad[0].numpy().copy())  # R(x | filter i), (ch, t)
hook.remove()
maps = np.stack(maps)
by_library = crp_explain.concept_heatmaps(model0, x.numpy(), ex["filters"], [ex["pred"]], rule=config.rule)[0]
nb.record("hood_vs_zennit_crp", float(np.abs(maps[ex["filters"]] - by_library).max() / np.abs(by_library).max()))
lrp_map = lrp.lrp_relevance(model0, x.numpy(), [ex["pred"]], rule=config.rule)[0]  # unconditioned LRP (zennit)
nb.record("hood_sum_vs_lrp", float(np.abs(maps.sum(0) - lrp_map).max() / np.abs(lrp_map).max()))
print(f"by hand vs zennit-crp: {nb.records['hood_vs_zennit_crp']:.1e}; sum over filters vs LRP map: {nb.records['hood_sum_vs_lrp']:.1e}")

# %% [markdown]
# **Diagnostics: completeness and conservation, per rule.** On the first model's explained trials:
# *completeness* is the sum of the 16 filter relevances at the concept layer over the explained logit
# (1 = complete; the gap is what the classifier's bias and epsilon absorb above the layer);
# *conservation* is the sum of the input heatmap over the logit (the gap adds the biases of the
# merged BatchNorms below the layer). Both per trial, for every rule this workbook uses
# (LRP-epsilon here; epsilon-plus and alpha-beta as notebook 31 discusses them).

# %%
fc0 = result.concepts[0]
diag = paper3.crp_diagnostics(model0, data.X[fc0.index], fc0.pred, rules=("epsilon", "epsilon_plus", "alphabeta"))
for rule, d in diag.groupby("rule"):
    nb.record_ci(f"completeness_{rule}", d["completeness"], unit_name="trial")
    nb.record_ci(f"conservation_{rule}", d["conservation"], unit_name="trial")
nb.record("completeness_max_leak", float(np.abs(1 - diag.loc[diag["rule"] == config.rule, "completeness"]).max()))
nb.record("conservation_max_leak", float(np.abs(1 - diag.loc[diag["rule"] == config.rule, "conservation"]).max()))
diag.groupby("rule")[["completeness", "conservation"]].describe().T.round(3)

# %% [markdown]
# **Relevance maximisation on the common pool.** For the four filters of the first model that carry
# the most relevance on average, zennit-crp's `FeatureVisualization` ranks every trial of the common
# pool (the same trials for every model) by the (normalised) relevance of that filter and returns
# the top ones with their concept heatmaps. The first column is the time-summed concept heatmap
# averaged over the reference trials, as a topomap. Whether different filters pick different trials
# is measured: the mean share of reference trials two filters have in common, against the share
# two random draws would share. When the filters shown are of one type (one cluster of the
# embedding below), they are maximised by the same trials, so a large overlap is then expected; the
# report gives the number of clusters the four filters fall into.

# %%
filters, ref = paper3.reference_samples(result, fold=0, n_filters=4, n_ref=4)
fig = plots.plot_reference_samples(ref, result.pool_X, filters=filters, subject=None,
                                   y=result.pool_y, class_names=data.class_names, ch_names=data.ch_names,
                                   sfreq=data.sfreq, tmin=config.tmin)
nb.savefig(fig, "reference-samples" + suffix)
ov = paper3.reference_overlap(ref.indices, len(result.pool_X))
nb.record("reference_overlap", ov["observed"])
nb.record("reference_overlap_chance", ov["chance"])
cl0 = result.clusters[result.clusters["fold"] == result.clusters["fold"].min()].set_index("filter")["cluster"]
nb.record("reference_filters_n_clusters", int(cl0.loc[list(filters)].nunique()))  # same filter type -> same trials
ov

# %% [markdown]
# **Where do the filters look? Per trial, with controls.** For every filter of every model, the share
# of the positive relevance of its conditional map that falls on the planted channels and in the
# planted bands, computed on each held-out trial's own map and then averaged per filter (a signed
# pattern averaged over trials first would cancel the negative parts and inflate the share). The
# same metric scores a random map (`random_map`) and the planted truth used as a map (`oracle_map`
# of `truth_freq`), on the same trials.

# %%
from eegnb.metrics.controls import oracle_map, random_map

ch_b = dict(channels=result.planted_channels, bands=result.planted_bands)
per = {"filter": [], "random": [], "oracle": []}
for i, fc in enumerate(result.concepts):
    per["filter"].append(paper3.per_sample_planted_shares(fc.spectra, fc.freqs, data.ch_names, **ch_b))
    per["random"].append(paper3.per_sample_planted_shares(random_map(fc.spectra.shape[:1] + fc.spectra.shape[2:], seed=seed + i), fc.freqs, data.ch_names, **ch_b))
    if data.truth_freq is not None:
        per["oracle"].append(paper3.per_sample_planted_shares(np.repeat(oracle_map(data.truth_freq)[None], len(fc.index), 0), fc.freqs, data.ch_names, **ch_b))
for k in ("channel", "band"):
    nb.record_ci(f"filter_{k}_share", np.concatenate([np.nanmean(p[k], 0) for p in per["filter"]]), unit_name="filter")
    nb.record(f"uniform_{k}_share", per["filter"][0][f"{k}_uniform"])
    for ctl in ("random", "oracle"):
        if per[ctl]:
            nb.record_ci(f"{ctl}_{k}_share", [np.nanmean(p[k]) for p in per[ctl]], unit_name="fold")
nb.record("n_filter_maps_without_positive_relevance", int(sum(np.isnan(p["channel"]).sum() for p in per["filter"])))
{k: nb.ci(f"{k}_channel_share") for k in ("filter", "random", "oracle") if f"{k}_channel_share" in nb.records}

# %% [markdown]
# **Filters of all models, embedded and clustered.** Every filter is described on the common pool:
# per class, the top quarter of pool trials by that filter's relevance are its representative data,
# and the descriptor is, per class, its spatial pattern (relevance per channel) and its spectral
# pattern (relevance per 1-Hz bin up to 40 Hz, CRP through the DFT virtual inspection layer of
# notebook 31), each normalised to unit L1 norm, concatenated over the classes. UMAP (cosine
# distance) maps the descriptors to 2-D and HDBSCAN finds dense groups (grey: noise). Marker size
# is the filter's share of its model's relevance.

# %%
fig = plots.plot_filter_umap(result.clusters)
nb.savefig(fig, "filter-umap" + suffix)
ct = result.cluster_table
real_clusters = ct[ct["cluster"] >= 0]
nb.record("n_filters", len(result.clusters))
nb.record("n_models", len(result.models))
nb.record("n_clusters", int(len(real_clusters)))
nb.record("noise_fraction", float((result.clusters["cluster"] < 0).mean()))
nb.record("cluster_coverage", real_clusters.set_index("cluster")["coverage"].round(3).to_dict())
nb.record("cluster_channel_share", real_clusters.set_index("cluster")["channel_share"].round(3).to_dict())
nb.record("cluster_band_share", real_clusters.set_index("cluster")["band_share"].round(3).to_dict())
ct

# %% [markdown]
# **Do the clusters recur across models, more than chance?** Left: filters per cluster (rows) and
# model (columns, named by the subject they held out). Middle: the normalised mutual information between cluster and model
# (0: the clusters ignore which model a filter comes from; 1: every cluster is one model's) against
# the same statistic after permuting which filter belongs to which model (clusters and each model's
# filter count kept); the title gives the mean coverage (share of models with a filter in a
# cluster) and its permutation chance level. Right: for each
# filter, the share of its five nearest filters (cosine, descriptor space) that come from its own
# model, for the descriptors on the common pool and, for contrast, for descriptors taken on each
# model's own held-out subject (the old way); dashes: the share if models were mixed at random.

# %%
rec = result.recurrence
fig = plots.plot_cluster_recurrence(result.clusters, result.cluster_table, rec, result.neighbours)
nb.savefig(fig, "cluster-recurrence" + suffix)
nb.record("recurrence", {k: v for k, v in rec.items() if k not in ("perm", "perm_nmi")})
nb.record("clusters_in_all_models", int((real_clusters["coverage"] >= 1.0).sum()))
nb.record("clusters_in_one_model", int((real_clusters["n_models"] == 1).sum()))
for name, key in (("common pool, relevance maximisation", "pool"), ("own held-out subject", "own")):
    d = result.neighbours[result.neighbours["descriptors"] == name]
    nb.record_ci(f"own_neighbours_{key}", d["own_share"], unit_name="filter")
    nb.record_ci(f"own_neighbours_{key}_chance", d["chance"], unit_name="filter")
result.neighbours.groupby("descriptors")[["own_share", "chance"]].mean().round(3)

# %% [markdown]
# ## What we see
#
# The run's numbers follow in the next cell; here, how to read them.
#
# - **CRP bookkeeping:** the hand-written conditioning loop must match zennit-crp, and the filters'
#   conditional maps must add up to the LRP map. Completeness (filter relevances vs the logit) and
#   conservation (input map vs the logit) are reported per rule with their spread over trials: the
#   gap is the share of the logit the biases absorb, not round-off.
# - **Where the filters look,** per trial, on the planted channels and bands, against a random map
#   (chance) and the planted truth used as a map (the best a map can do with this metric).
# - **Recurrence:** a filter type found in many models is a strategy the networks learn whatever
#   subject is left out; the permutation says whether the clusters mix models more than chance
#   would, and the neighbour share says whether descriptors on common data still tell models apart.

# %%
# NBVAL_CHECK_OUTPUT
rule = config.rule
comp = nb.records[f"completeness_{rule}"]
# a lower own-model share is better: filters of different models that do the same thing become neighbours
v_own = nb.verdict("own_neighbours_pool", "own_neighbours_own", names=("pool", "own"))
pool_vs_own = {"own beats pool": "lower on the common pool than on each model's own subject",
               "pool beats own": "higher on the common pool than on each model's own subject"}.get(v_own, "not separated between the two")
v_ch = nb.verdict("own_neighbours_pool", "own_neighbours_pool_chance", names=("pool", "chance"))
pool_vs_chance = {"pool beats chance": "still above chance: a model's filters stay closer to each other than to other models'",
                  "chance beats pool": "below chance"}.get(v_ch, "at chance: the models mix")
r = nb.records["recurrence"]
tied = "more than chance" if r["p_model_tied"] == r["p_model_tied"] and r["p_model_tied"] < 0.05 else "not more than chance"
ctl = lambda k: ", ".join(f"{c} {nb.ci(f'{c}_{k}_share')}" for c in ("random", "oracle") if f"{c}_{k}_share" in nb.records)  # noqa: E731
nb.report("""
**This run** ({task}, {dataset}): {n_folds} leave-one-out EEGNet models, held-out accuracy per fold {accs} (mean [95% CI] over folds
{acc_ci:ci}).

- **CRP by hand** matches zennit-crp to {hood_vs_zennit_crp:.1e} (relative); the filters' maps add up to the LRP map to {hood_sum_vs_lrp:.1e}.
- **Completeness** ({rule}, mean [95% CI] over trials): filter relevances / logit {comp:ci}, largest leak {completeness_max_leak:.1%};
  input map / logit {cons:ci} (largest leak {conservation_max_leak:.1%}). Epsilon-plus {cep:ci}, alpha-beta {cab:ci} (completeness).
- **Where the filters look** (per trial, mean [95% CI] over {n_filters} filters): {filter_channel_share:ci} of the positive relevance on the
  planted channels (uniform {uniform_channel_share:.2f}; {ctl_ch}), {filter_band_share:ci} in the planted bands (uniform
  {uniform_band_share:.2f}; {ctl_b}).
- **Reference trials:** two of the four filters shown share {reference_overlap:.0%} of their reference trials (random draws:
  {reference_overlap_chance:.0%}); the four fall into {reference_filters_n_clusters} cluster(s).
- **Clusters on the common pool:** {n_clusters} clusters among {n_filters} filters ({noise_fraction:.0%} noise); mean coverage {cov:.0%} of
  models against {chance:.0%} (95% range {lo:.0%}-{hi:.0%}) with permuted models (p = {p:.3f}); cluster-model mutual information
  {nmi:.2f} against {nmi_chance:.2f} (95% range {nlo:.2f}-{nhi:.2f}), p = {pt:.3f}: clusters follow the models **{tied}**;
  {clusters_in_all_models} cluster(s) in all models, {clusters_in_one_model} in one only.
- **Do descriptors tell models apart?** Own-model share of the 5 nearest filters: common pool {own_neighbours_pool:ci}, own
  held-out subject {own_neighbours_own:ci}, chance {own_neighbours_pool_chance[mean]:.2f}: the share is **{pool_vs_own}**;
  on the common pool it is **{pool_vs_chance}**.
""", task=task, dataset=dataset, n_folds=len(folds), accs=", ".join(f"{a:.2f}" for a in nb.records["acc_per_fold"]),
   rule=rule, comp=comp, cons=nb.records[f"conservation_{rule}"], cep=nb.records["completeness_epsilon_plus"],
   cab=nb.records["completeness_alphabeta"], ctl_ch=ctl("channel"), ctl_b=ctl("band"), cov=r["observed"],
   chance=r["chance_mean"], lo=r["chance_lo"], hi=r["chance_hi"], p=r["p"], nmi=r["nmi"],
   nmi_chance=r["nmi_chance_mean"], nlo=r["nmi_chance_lo"], nhi=r["nmi_chance_hi"], pt=r["p_model_tied"], tied=tied,
   pool_vs_own=pool_vs_own, pool_vs_chance=pool_vs_chance)

# %% [markdown]
# ## Real data: PhysioNet EEGBCI subject S001
#
# Run this notebook with `dataset="eegbci"` and `data_dir` pointing at the folder holding `S001/`
# (imagery runs 4, 8, 12) to make the same figures from real recordings (within-subject folds,
# since there is one subject; the common pool is then the folds' explained trials, and the planted
# channels and bands are the motor-imagery expectation, not a truth). When those figures exist they
# are shown here.

# %%
from pathlib import Path

from IPython.display import Image, display

for slug in ("concept-heatmaps", "reference-samples", "filter-umap", "cluster-recurrence"):
    path = Path(fig_dir) / f"30-{slug}-real.png"
    if not real and path.exists():
        display(Image(filename=str(path)))

# %% [markdown]
# ## Exercises
#
# Each exercise says what to predict before you run it; the solution cell below it checks the
# result. They use the notebook's variables (`result`, `model0`, `ex`, `data`, `config`).

# %% [markdown] tags=["exercise"]
# **Exercise 1: the epsilon rule on one linear layer.** Take EEGNet's classifier layer
# (`model0.net.classifier`, a `nn.Linear`) and the activations that reach it for the example trial.
# Implement $R_j = a_j \sum_k w_{jk} R_k / (z_k + \varepsilon\,\mathrm{sign}\, z_k)$ with numpy, starting
# from the explained logit, and compare with zennit's `Epsilon` rule on the same layer.
#
# *Predict before you run:* does your relevance sum to the logit exactly? If not, by how much is it
# off, and which parameter of the layer explains the gap?

# %% tags=["solution"]
import torch
from zennit.attribution import Gradient
from zennit.composites import LayerMapComposite
from zennit.rules import Epsilon

lin = model0.net.classifier
acts = {}
h = lin.register_forward_hook(lambda m, i, o: acts.update(a=i[0].detach()))
with torch.no_grad():
    model0(torch.as_tensor(data.X[[ex["sample"]]]))
h.remove()
a, W, b, c = acts["a"][0].numpy(), lin.weight.detach().numpy(), lin.bias.detach().numpy(), ex["pred"]
z = W @ a + b
R_out = np.zeros_like(z)
R_out[c] = z[c]
R_mine = a * (W.T @ (R_out / (z + 1e-6 * np.where(z >= 0, 1, -1))))
comp = LayerMapComposite([(torch.nn.Linear, Epsilon(1e-6))])
with Gradient(model=lin, composite=comp) as attr:
    _, R_zennit = attr(acts["a"].clone(), lambda out: torch.zeros_like(out).index_fill(1, torch.tensor([c]), 1.0) * out)
np.testing.assert_allclose(R_mine, R_zennit[0].numpy(), rtol=1e-4, atol=1e-7)
print(f"sum R = {R_mine.sum():.4f}, logit = {z[c]:.4f}, bias = {b[c]:.4f}: the gap is the bias share {z[c] - R_mine.sum():.4f}")

# %% [markdown] tags=["exercise"]
# **Exercise 2: mask one filter and predict the change.** Silence the example trial's most
# relevant filter (zero its output at the concept layer with a forward hook) and measure how much the
# explained logit drops.
#
# *Predict before you run:* the filter's CRP relevance $R_i(x)$ is a first-order estimate of its
# contribution. Will the logit fall by about $R_i$? More or less, and why might it differ (ELU,
# pooling, BatchNorm bias)?

# %% tags=["solution"]
import torch

from eegnb.explain import crp as crp_explain

lay = dict(model0.named_modules())[crp_explain.concept_layer(model0)]
f = int(ex["filters"][0])
xt = torch.as_tensor(data.X[[ex["sample"]]])
with torch.no_grad():
    before = float(model0(xt)[0, ex["pred"]])
    h = lay.register_forward_hook(lambda m, i, o: o.index_fill(1, torch.tensor([f]), 0.0))
    after = float(model0(xt)[0, ex["pred"]])
    h.remove()
print(f"filter {f}: CRP relevance {ex['relevance'][f]:+.3f}; logit {before:.3f} -> {after:.3f} (drop {before - after:+.3f})")
assert np.sign(before - after) == np.sign(ex["relevance"][f]), "a positively relevant filter should support the logit"

# %% [markdown] tags=["exercise"]
# **Exercise 3: how much data represents a filter?** Relevance maximisation keeps the top
# `config.top_fraction` of the pool per filter and class. Rebuild the descriptors with a tenth and
# with all of the pool (the pool's CRP is cached, so this is fast) and recompute the own-model
# neighbour share.
#
# *Predict before you run:* with all of the pool, every filter is described on the same trials;
# does the share of same-model neighbours go up or down compared with the top tenth?

# %% tags=["solution"]
C = len(data.class_names)
pools = [[paper3.explain_pool(m.cpu().eval(), result.pool_X, c, sfreq=data.sfreq, rule=config.rule,
                              spectral_max_hz=config.spectral_max_hz, cache_dir=nb.cache_dir) for c in range(C)]
         for m in result.models]
for frac in (0.1, config.top_fraction, 1.0):
    tab = paper3.pool_filter_table(pools, result.folds_table, data.ch_names, data.class_names, fraction=frac)
    own, chance = paper3.neighbour_own_share(tab["descriptors"], tab["meta"]["fold"].to_numpy(), k=config.n_neighbours)
    print(f"top {frac:.0%} of the pool: own-model neighbour share {own.mean():.2f} (chance {chance.mean():.2f})")

# %% [markdown] tags=["exercise"]
# **Exercise 4: is alpha2-beta1 complete?** Run `paper3.crp_diagnostics` with the rule
# `"epsilon_alpha2_beta1"` on the first model's explained trials.
#
# *Predict before you run:* alpha-beta rules redistribute positive and negative contributions
# separately and ignore the biases. Will the filter relevances still sum to the logit? Will the
# input map?

# %% tags=["solution"]
d = paper3.crp_diagnostics(model0, data.X[result.concepts[0].index], result.concepts[0].pred,
                           rules=("epsilon", "epsilon_alpha2_beta1"))
print(d.groupby("rule")[["completeness", "conservation"]].agg(["mean", "min", "max"]).round(3))
