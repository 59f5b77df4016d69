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
# # 10 · Context-aware perturbation saliency: the method (paper 1)
#
# Wang et al. (IEEE TBME 2022) explain an EEG model by learning, for every input, a mask
# $M \in [0,1]^{ch \times t}$ that says which elements must be kept: the input is perturbed as
# $\hat X = (1-M)\odot P + M\odot X$, where the perturbation $P$ is the *context* of each element
# (an average over neighbouring time steps and over neighbouring channels, fused by a per-element
# softmax), and the mask is trained so that the model's output on $\hat X$ stays close to its output
# on $X$. The mask is the saliency map: elements whose replacement by their context would change
# the decision keep $M$ near 1. An optional *area limitation* pushes the least important half of
# the mask to 0, switched on after a warm-up (two-stage training).
#
# This notebook takes one subject's model and walks through the pieces: the context perturbation,
# the training of the mask, the mask next to gradient saliency, the one-stage vs two-stage area
# limitation, and the speed of optimising all masks of a batch at once.
#
# - **Regenerates:** paper Fig. 1 (gradient vs context mask on two samples) → `10-gradient-vs-context.png`;
#   Fig. 4's perturbation operator (eqs. 2-7) → `10-context.png`; Fig. 5 (one-stage vs two-stage area
#   limitation) → `10-area-one-vs-two-stage.png`; Fig. 9 (with vs without area limitation) →
#   `10-area-limitation.png`; plus `10-loss.png`, `10-speed.png`, `10-mechanism.png` (what the
#   optimiser actually does) and a sensitivity table (parametrisation x reading of eq. 11 x area limit).
# - **Runtime (1 thread):** quick about a minute; default about 5 min (estimated from timed pieces;
#   the model is shared with notebook 11 through the cache). Every mask here runs the paper's fixed
#   budget (`early_stopping=False`, 200 epochs, area term from epoch 100) except the early-stopping
#   check, which compares the two.

# %% tags=["parameters"]
dataset = "sim"  # "sim": simulated DEAP-shaped EEG with planted truth; "deap": real files in data_dir
data_dir = ""  # folder with the DEAP data_preprocessed_python .dat files (dataset deap)
quick = False  # True: the CI size (about a minute on 2 cores)
seed = 0
device = "auto"  # "cpu", "cuda" or "auto"
cache_dir = "../.cache"  # trained models and masks, keyed by their inputs
fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/
fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication
paper_scale = False  # True: the paper's sizes (real DEAP, 32 subjects, 200 mask epochs; meant for a GPU)


# %%
import numpy as np
import torch

import eegnb
from eegnb.experiments import context_mask as ctx
from eegnb.explain import explain
from eegnb.explain.context_mask import context_perturbation
from eegnb.metrics import localisation_auc
from eegnb.plots import context as cplots
from eegnb.stats import mean_ci

nb = eegnb.notebook.setup("10", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
cfg = ctx.config(quick, dataset=dataset, data_dir=data_dir, seed=seed, paper_scale=paper_scale)  # the sizes notebook 11 uses too
label, subject = "arousal", 1
model_name = "eegnet" if quick else "tsception"  # the paper's Fig. 1 shows TSception
n_speed, speed_epochs = (4, 10) if quick else (8, 30)
cfg

# %% [markdown]
# ## One subject's model
#
# The paper trains one model per subject (within-subject, non-overlapping segments). Here: the
# arousal dimension of simulated DEAP (32 channels, 128 Hz, 4 s segments), where the evidence was
# planted as a 0.75 s theta/beta burst over six temporal channels (F7, FC5, T7, F8, FC6, T8) at a
# random time in each segment; `truth` marks it. We train on the first fold of a 5-fold split of
# subject 1 and explain held-out segments.

# %%
data = ctx.load_data(cfg, label)
model, sd, test_idx = ctx.subject_model(cfg, data, subject, model_name, device=nb.device, cache_dir=nb.cache_dir)
idx = ctx.explained_samples(cfg, sd, test_idx)
X, y = sd.X[idx], sd.y[idx]
truth = None if sd.truth is None else sd.truth[idx]
test_acc = float((eegnb.explain.predict(model, sd.X[test_idx], device=nb.device).argmax(1) == sd.y[test_idx]).mean())
nb.record("model", model_name)
nb.record("test_acc", test_acc)
nb.record("n_test", len(test_idx))
nb.record("n_explained", len(X))
print(f"{model_name} on subject {subject}: test accuracy {test_acc:.2f} on {len(test_idx)} held-out segments; explaining {len(X)}")

# %% [markdown]
# ## The context perturbation (paper eqs. 4-7)
#
# $C_t$ is a moving average along time (kernel 15 samples = 117 ms at 128 Hz, stride 1) and $C_s$ a
# moving average across the channel axis (kernel 28 channels, stride 1). Both keep the input's shape:
# the window is centred (an even kernel reaches one element further forward than back) and only
# elements inside the axis are averaged, so the edges are averages of fewer neighbours rather than
# being pulled towards zero. The two are fused per element with a softmax,
# $w_t = e^{C_t}/(e^{C_t}+e^{C_s})$, $P = w_t C_t + w_s C_s$. Because the softmax sees raw amplitudes
# (µV), it acts almost like "take the larger context" wherever the two differ by a few µV; the bottom
# panel shows where the temporal context wins. The 117 ms temporal window removes rhythms above
# about 8 Hz (alpha, beta) and keeps slower ones, so replacing an element by its context deletes
# the fast activity the arousal evidence is made of.

# %%
P, Ct, Cs, wt = context_perturbation(torch.as_tensor(X[:1]), 15, 28, return_parts=True)
planted = sd.info.get("planted", {}).get("channels", ["F7", "T7"]) if sd.info else ["F7", "T7"]
channels = [planted[0], planted[2] if len(planted) > 2 else planted[-1], "Oz"]
parts = {"temporal context $C_t$": Ct[0].numpy(), "spatial context $C_s$": Cs[0].numpy(), "perturbation $P$": P[0].numpy()}
fig = cplots.plot_context_parts(X[0], parts, ch_names=sd.ch_names, sfreq=sd.sfreq, channels=channels, w_t=wt[0].numpy(),
                                  truth=None if truth is None else truth[0])
nb.savefig(fig, "context")
nb.record("temporal_weight_mean", float(wt.mean()))

# %% [markdown]
# ## Training the masks
#
# For every explained segment a mask is initialised at 0.9 and trained with Adam (learning rate
# 0.1) on the cross-entropy between the model's softmax output on $X$ and on $\hat X$ (eq. 11).
# The default optimises $M$ itself and clips it back onto $[0, 1]$ after every Adam step
# (`parametrization="clamp"`): the paper states $M \in [0,1]$, the initial 0.9 and Adam with
# learning rate 0.1 on the mask and no reparametrisation, so this is its most direct reading; the
# logit variant ($M = \mathrm{sigmoid}(z)$) is scored in the sensitivity table below. The paper's
# fixed budget is used (`early_stopping=False`). All masks of the batch are trained together: the loss is the *sum* of
# the per-sample losses, so each mask receives only its own gradient (the model is frozen in eval
# mode, so samples do not interact). Three variants: no area limitation (the default map), the
# paper's two-stage area limitation ($a = 0.5$, $\lambda = 0.05$, switched on after a warm-up) and
# the same term from the first epoch (one-stage).

# %%
variants = {"context": "no area limit", "area": "two-stage area limit", "one_stage": "one-stage area limit"}
res = ctx.mask_variants(cfg, model, X, list(variants), device=nb.device, cache_dir=nb.cache_dir)
grad = explain("gradient", model, X, device=nb.device)
fig = cplots.plot_loss_curves({name: res[v] for v, name in variants.items()}, n=len(X), warmup=cfg.area_warmup)
nb.savefig(fig, "loss")
nb.record("mask_epochs", cfg.mask["epochs"])
nb.record("parametrization", res["context"].config["parametrization"])
nb.record("final_kl_per_sample", {v: float(res[v].divergence[-1] / len(X)) for v in variants})


# %% [markdown]
# ### Open the hood: the optimisation loop written out
#
# The cell below is the whole method for two segments, with nothing hidden: the blend
# $\hat X = M \odot X + (1 - M) \odot P$ (eq. 8), the error of eq. 11 against the soft reference
# $\mathrm{softmax}\, f(X)$, one Adam step on $M$ (lr 0.1) and the projection back onto $[0, 1]$
# (the clamped reading of the paper), for a fixed 30 steps and no area term. It then checks that
# `ContextMask` with the same settings gives the same masks.

# %%
from eegnb.explain.context_mask import ContextMask

dev = next(model.parameters()).device
x = torch.as_tensor(X[:2], device=dev)
p = context_perturbation(x, 15, 28)  # temporal x spatial moving-average context (eqs. 4-7)
model.eval()
with torch.no_grad():
    ref = torch.softmax(model(x), dim=1)  # the soft reading of eq. 11
M = torch.full_like(x, 0.9).requires_grad_(True)
opt = torch.optim.Adam([M], lr=0.1)
for step in range(30):
    x_hat = M * x + (1 - M) * p  # keep the input where M = 1, the context where M = 0
    error = -(ref * torch.log_softmax(model(x_hat), dim=1)).sum()  # summed over samples
    opt.zero_grad()
    error.backward()
    opt.step()
    with torch.no_grad():
        M.clamp_(0.0, 1.0)
lib = ContextMask(epochs=30, early_stopping=False, progress=False).attribute(model, X[:2], device=dev).mask
by_hand = M.detach().cpu().numpy()
print(f"by hand vs ContextMask: largest difference {np.abs(by_hand - lib).max():.1e}; "
      f"share of elements that moved {np.mean(np.abs(by_hand - 0.9) > 1e-3):.2f}")
assert np.allclose(by_hand, lib, atol=1e-4)


# %% [markdown]
# ## What the optimiser actually does (the mechanism)
#
# At the initial mask the gradient of the error with respect to one mask element is
# $a = \partial d/\partial \hat x \cdot (x - p)$ (eq. 10). If the mask followed $|a|$, elements that
# matter would move most. But Adam divides each element's gradient by its own running magnitude, so
# every element takes steps of about the learning rate in the direction of $-\mathrm{sign}(a)$ and the
# size of $a$ is lost; the error term is near its minimum after a few steps, so the mask ends up close
# to $\pm\mathrm{sign}(a)$ (clipped to [0, 1]), with a polarity that can differ from sample to sample.
# The cell below measures this on the run (`ctx.mechanism`): the share of elements that moved, the
# share whose movement agrees with $-\mathrm{sign}(a)$ and its polarity-free version, the per-sample
# Spearman correlation between $|M - 0.9|$ and $|a|$, and the localisation AUC of $|a|$ read as a map
# against that of the learned mask (evaluation layer).

# %%
mech = ctx.mechanism(model, X, truth, device=nb.device, **cfg.mask_kw("context"))
for k in ("moved", "sign_agreement", "polarity", "spearman") + (("auc_abs_a", "auc_mask") if truth is not None else ()):
    nb.record_ci(f"mechanism_{k}", mech[k], unit_name="segment")
fig = cplots.plot_mechanism(mech, truth=truth, ch_names=sd.ch_names, sfreq=sd.sfreq, seed=seed)
nb.savefig(fig, "mechanism")


# %% [markdown]
# ## Gradient vs context mask on two samples (paper Fig. 1)
#
# Two held-out segments, one of each class. The dashed white outline marks where the evidence was
# planted. The paper's argument: the gradient reflects the model's weights more than the input, so
# it looks alike for different inputs; the mask reacts to each input. We check this in numbers
# with the mean pairwise correlation between the maps of different samples (1 = identical maps),
# against a random map's (near 0: a random map "reacts to each input" perfectly, so a low value
# alone proves nothing; the check only means something next to the localisation scores). Each
# method's two rows share one colour scale.

# %%
pick = [int(np.flatnonzero(y == c)[0]) for c in np.unique(y)][:2]
titles = [f"segment {i}, class '{sd.class_names[y[i]]}'" for i in pick]
maps = {"gradient": grad[pick], "context": res["context"].mask[pick]}
fig = cplots.plot_example_maps(maps, ["gradient", "context"], ch_names=sd.ch_names, sfreq=sd.sfreq,
                               truth=None if truth is None else truth[pick], sample_titles=titles)
nb.savefig(fig, "gradient-vs-context")
rand = np.random.default_rng(seed).random(X.shape)
similarity = {"gradient": ctx.pairwise_correlation(grad), "context": ctx.pairwise_correlation(res["context"].mask), "random": ctx.pairwise_correlation(rand)}
nb.record("pairwise_map_correlation", similarity)

# %% [markdown]
# ## Area limitation: one stage vs two stages (paper Fig. 5) and with vs without (Fig. 9)
#
# The area term is the Euclidean norm of the lowest half of the sorted mask. At the start every
# element equals 0.9, so "the lowest half" is decided by ties: sorted stably, the first channels
# come first and the term switches off the top of the map whatever the input (the paper's Fig. 5,
# top). Training on the error alone first gives the mask an estimate to sort by (two-stage). The
# numbers: the mean mask over the first and the second half of the channels for each variant.

# %%
j = pick[0]
fig = cplots.plot_example_maps({v: res[v].mask[[j]] for v in ("one_stage", "area")}, ["one_stage", "area"],
                               ch_names=sd.ch_names, sfreq=sd.sfreq, truth=None if truth is None else truth[[j]])
nb.savefig(fig, "area-one-vs-two-stage")
half = sd.n_chans // 2
bias = {v: {"first_half": float(res[v].mask[:, :half].mean()), "second_half": float(res[v].mask[:, half:].mean())} for v in ("one_stage", "area")}
nb.record("area_channel_halves", bias)

# %%
fig = cplots.plot_example_maps({v: res[v].mask[[j]] for v in ("context", "area")}, ["context", "area"],
                               ch_names=sd.ch_names, sfreq=sd.sfreq, truth=None if truth is None else truth[[j]])
nb.savefig(fig, "area-limitation")
nb.record("fraction_below_0.1", {v: float((res[v].mask < 0.1).mean()) for v in variants})
nb.record("mask_mean", {v: float(res[v].mask.mean()) for v in variants})

# %% [markdown]
# ### How well does each map find the planted evidence?
#
# On simulated data we know where the evidence is, so each map can be scored: ROC-AUC of the map
# against `truth` per segment (0.5 = chance; a random map is the control). Notebook 11 repeats this
# over subjects and models with standard errors; here it is one model.

# %%
if truth is not None:
    maps_all = {**{v: res[v].mask for v in variants}, "gradient": grad, "random": np.random.default_rng(seed).random(X.shape)}
    per_segment = {m: localisation_auc(v, truth) for m, v in maps_all.items()}
    nb.record("localisation_auc", {m: float(np.nanmean(a)) for m, a in per_segment.items()})
    nb.record("localisation_auc_ci", {m: mean_ci(a, unit_name="segment") for m, a in per_segment.items()})
    # where does the gradient sit outside the planted window? share on the planted channels vs a uniform map
    on_ch, off_t = truth.max(2) >= 0.5, truth.max(1) < 0.5  # (n, ch), (n, t): positives as the metrics count them
    share = [g[c][:, o].sum() / g[:, o].sum() for g, c, o in zip(grad, on_ch, off_t)]
    nb.record_ci("gradient_share_planted_channels", share, unit_name="segment")
    nb.record_ci("uniform_share_planted_channels", on_ch.mean(1), unit_name="segment")

# %% [markdown]
# ## Sensitivity: parametrisation, reading of eq. 11, area limitation
#
# Each variant is scored by the evaluation layer on the same segments: localisation ROC-AUC against
# the planted truth and the channel deletion area (probability of the predicted class as the most
# salient channels are zeroed, k = 1..all; lower = more faithful), beside gradient and the random
# and oracle (truth as a map) controls. Variants: clipped vs logit (sigmoid) parametrisation,
# soft target $\mathrm{softmax} f(X)$ vs the predicted class one-hot (both readings of eq. 11), each
# without and with the two-stage area limitation, on the paper's fixed budget. Intervals: 95% over
# the explained segments of this one subject model (notebook 11 has intervals over subjects).

# %%
sens = ctx.sensitivity(model, X, truth, epochs=cfg.mask["epochs"], warmup=cfg.area_warmup, seed=seed, device=nb.device, cache_dir=nb.cache_dir)
cols = ("auc", "channel_area_most") if truth is not None else ("channel_area_most",)
sens_ci = {m: {v: mean_ci(g[v], unit_name="segment") for v in cols} for m, g in sens.groupby("method", sort=False)}
nb.record("sensitivity", sens_ci)
nb.record("sensitivity_degenerate", {m: int(g.channel_degenerate.sum()) for m, g in sens.groupby("method", sort=False)})
ctx.ci_table(sens, values=cols)


# %% [markdown]
# ### Early stopping (issue 17)
#
# `explain("context_mask", ...)` stops each sample's mask on its own by default (patience 10 epochs,
# tolerance 1e-4 on the sample's loss, best mask kept). The paper's experiments above use the fixed
# budget; here the two are compared on the same segments: mean epochs run and the change of the
# mean localisation AUC.

# %%
es = ctx.early_stopping_check(model, X, truth, epochs=cfg.mask["epochs"], device=nb.device, seed=seed)
nb.record("early_stopping", es)
es


# %% [markdown]
# ## Speed: one batch vs one sample at a time
#
# The masks of a batch are optimised together (one forward and backward pass per epoch for the
# whole batch). Optimising the same samples one by one gives the same masks (checked below: the
# largest difference) but costs one pass per sample per epoch. Timed here on this machine's CPU
# at a small size (`n_speed` samples, `speed_epochs` epochs); on a GPU the gap is larger.

# %%
sp = ctx.speed(model, X[:n_speed], epochs=speed_epochs, device=nb.device)
nb.record("speed", sp)
fig = cplots.plot_speed(sp)
nb.savefig(fig, "speed")

# %% [markdown]
# ## What we saw
#
# The run's numbers follow in the next cell; here, what they mean.
#
# - **Where the model looks.** The evidence was planted on six temporal channels in a short window,
#   but a model can also rely on the same channels outside that window. The share of the gradient that falls on the planted channels
#   outside the planted window, against a uniform map's share, says whether it does.
# - **The mask follows the sign of the gradient, not its size.** Almost every element moves, and how far
#   it moves is unrelated to the eq.-10 quantity $|a|$ (rank correlation near zero); its direction
#   agrees with $-\mathrm{sign}(a)$ or with its opposite, per sample. Adam normalises each element's
#   step, so the magnitude that would rank the elements is discarded, and eq. 11 is near its minimum
#   within a few steps. $|a|$ itself, read as a map, localises the planted evidence; the learned mask
#   localises far less. The sensitivity table says whether any reading of the method (clipped or logit
#   mask, soft or one-hot target, with or without area limitation) changes that.
# - **Area limitation, two-stage vs one-stage.** Switched on after a warm-up, the area term pushes
#   the half of the mask that the error term ranks lowest towards 0 (how far depends on the epochs left). Switched on from the start (one
#   stage), it also zeroes half of the mask, but at the start every mask value is equal, so sorting
#   breaks the tie by position and the term drives the first half of the elements, in memory order
#   (the first channels of the montage), to 0 before the error term has said what matters: the
#   failure the paper's Fig. 5 warns of, in its purest form.
# - **Speed:** one batched optimisation against one optimisation per segment; the gain grows with the
#   batch and on a GPU.

# %%
# NBVAL_CHECK_OUTPUT
halves = nb.records["area_channel_halves"]
ties = "switches off the first channels" if halves["one_stage"]["first_half"] < 0.3 * halves["one_stage"]["second_half"] else "does not single out the first channels"
nb.report("""
**This run:** {model} on simulated subject {subject}, {label} (test accuracy {test_acc:.2f} on {n_test} held-out
segments); {n_explained} segments explained, {mask_epochs} mask epochs.

- Final KL divergence per sample without area limitation {final_kl_per_sample[context]:.1e}; mean mask value
  {mask_mean[context]:.2f} (no area limit), {mask_mean[area]:.2f} (two-stage), {mask_mean[one_stage]:.2f} (one-stage).
- Two-stage: {below[area]:.0%} of the mask below 0.1, mean mask {halves[area][first_half]:.2f} on the first
  {half} channels vs {halves[area][second_half]:.2f} on the last {half}. One-stage: {below[one_stage]:.0%} below 0.1,
  {halves[one_stage][first_half]:.2f} vs {halves[one_stage][second_half]:.2f}: the one-stage term **{ties}**.
- The soft attention weights the temporal context by w_t = {temporal_weight_mean:.2f} on average (0.5: equal).
- **Speed:** {speed[n]} masks as one batch took {speed[batched_s_per_sample]:.3f} s per sample against
  {speed[single_s_per_sample]:.3f} s one at a time ({speed[speedup]:.1f}x, {speed[epochs]} epochs on {device}; largest
  difference between the two sets of masks {speed[max_abs_diff]:.1e}).
""", subject=subject, label=label, half=half, below=nb.records["fraction_below_0.1"], halves=halves, ties=ties, device=nb.device)

# %%
# NBVAL_CHECK_OUTPUT
if truth is not None:
    auc = nb.records["localisation_auc_ci"]
    names = {"context": "the context mask", "area": "the two-stage mask", "one_stage": "the one-stage mask", "gradient": "gradient saliency", "random": "the random map"}
    vs = lambda a, b: nb.verdict(auc[a], auc[b], names=(names[a], names[b]))  # noqa: E731
    nb.report("""
- **Against the planted truth** (localisation ROC-AUC, mean [95% CI] over the {n_explained} explained segments):
  gradient {auc[gradient]:ci}, no area limit {auc[context]:ci}, two-stage {auc[area]:ci}, one-stage
  {auc[one_stage]:ci}, random map {auc[random]:ci}.
  Gradient vs random: **{g_r}**; no area limit vs gradient: **{c_g}**; two-stage vs gradient: **{a_g}**;
  two-stage vs no area limit: **{a_c}**; one-stage vs two-stage: **{o_a}**.
- Outside the planted window {gradient_share_planted_channels:ci} of the gradient lies on the planted channels
  (uniform map: {uniform_share_planted_channels:ci}): **{share}**.
""", auc=auc, g_r=vs("gradient", "random"), c_g=vs("context", "gradient"), a_g=vs("area", "gradient"), a_c=vs("area", "context"),
        o_a=vs("one_stage", "area"), share=nb.verdict("gradient_share_planted_channels", "uniform_share_planted_channels", names=("the gradient", "a uniform map")))

# %%
# NBVAL_CHECK_OUTPUT
m = {k[len("mechanism_"):]: v for k, v in nb.records.items() if k.startswith("mechanism_")}
sens_r, es = nb.records["sensitivity"], nb.records["early_stopping"]
beats = [v for v in sens_r if v not in ("gradient", "random", "oracle") and "auc" in sens_r[v]
         and nb.verdict(sens_r[v]["auc"], sens_r["gradient"]["auc"], names=(v, "gradient")) == f"{v} beats gradient"]
beats_del = [v for v in sens_r if v not in ("gradient", "random", "oracle") and nb.verdict(sens_r[v]["channel_area_most"],
             sens_r["gradient"]["channel_area_most"], names=(v, "gradient"), higher_is_better=False) == f"{v} beats gradient"]
nb.report("""
- **Mechanism** (mean [95% CI] over {n_explained} segments): {m[moved]:ci} of mask elements moved; movement agrees with
  -sign(a) for {m[sign_agreement]:ci} of them (polarity-free {m[polarity]:ci}); Spearman of |M - init| with |a| {m[spearman]:ci}.
  {auc_line}
- **Sensitivity** (default: {parametrization} parametrisation, soft target): variants whose localisation AUC beats gradient's
  with separated intervals: **{beats}**; variants whose channel deletion area is lower than gradient's with separated
  intervals: **{beats_del}**. So on this run no reading of the method reproduces "context mask beats gradient" unless a
  variant is named here. Channel deletion area (lower = more faithful): default {s_def}, gradient {s_grad},
  random {s_rand}, oracle {s_orc}.
- **Fig. 1 check:** pairwise map correlation gradient {sim[gradient]:.2f}, context mask {sim[context]:.2f}, random map {sim[random]:.2f}.
- **Early stopping:** {es[early_epochs]:.0f} epochs on average against {es[fixed_epochs]:.0f} (ratio {es[epoch_ratio]:.2f}),
  {es_auc}.
""", m=m, beats=", ".join(beats) or "none", beats_del=", ".join(beats_del) or "none", sim=nb.records["pairwise_map_correlation"], es=es,
    auc_line=("Localisation AUC of |a| {} vs the learned mask {}: **{}**.".format(nb.ci(m["auc_abs_a"]), nb.ci(m["auc_mask"]),
              nb.verdict(m["auc_abs_a"], m["auc_mask"], names=("|a|", "the learned mask")))) if "auc_abs_a" in m else "",
    s_def=nb.ci(sens_r["clamp, soft"]["channel_area_most"]), s_grad=nb.ci(sens_r["gradient"]["channel_area_most"]),
    s_rand=nb.ci(sens_r["random"]["channel_area_most"]), s_orc=nb.ci(sens_r["oracle"]["channel_area_most"]) if "oracle" in sens_r else "n/a",
    es_auc=(f"localisation AUC change {es['auc_change']:+.3f} (issue target: epochs at least halved, |change| <= 0.01)" if "auc_change" in es else "no truth"))


# %% [markdown]
# ## Paper scale
#
# The paper used real DEAP (32 subjects, 40 one-minute trials, 4 s non-overlapping segments), one
# model per subject, and 200 mask epochs (area limitation after 100). Run
# `papermill 10_context_mask_method.ipynb out.ipynb -p dataset deap -p data_dir /path/to/data_preprocessed_python -p paper_scale True -p device cuda`:
# `paper_scale=True` switches `eegnb.experiments.context_mask.config` to 32 subjects, every test
# segment, `mask=dict(epochs=200, lr=0.1, init=0.9)` and `area_warmup=100`. The mask optimiser
# batches all segments of a subject in one pass, so the cost is about 200 forward/backward passes
# per subject and model.

# %% [markdown]
# ## Exercises
#
# Each exercise changes one piece of the method; predict the outcome before you run the solution.

# %% [markdown] tags=["exercise"]
# **Exercise 1: implement the area loss (eq. 12).** Write `my_area_loss(M, a)` that sorts each sample's
# flattened mask ascending, keeps the lowest `floor(a * ch * t)` entries and returns their Euclidean norm
# per sample `(n,)`; check it against `eegnb.explain.context_mask.area_loss` on a random mask.
# Predict before you run: what is its value on the constant initial mask (all 0.9) of one DEAP segment
# (32 x 512) with a = 0.5?

# %% tags=["solution"]
import math
from eegnb.explain.context_mask import area_loss


def my_area_loss(M, a):
    flat = M.reshape(len(M), -1)
    k = int(math.floor(a * flat.shape[1]))
    return flat.sort(dim=1).values[:, :k].pow(2).sum(1).sqrt()


Mr = torch.rand(3, *X.shape[1:], generator=torch.Generator().manual_seed(0))
assert torch.allclose(my_area_loss(Mr, 0.5), area_loss(Mr, 0.5), atol=1e-4)
M0 = torch.full((1, *X.shape[1:]), 0.9)
print(f"initial mask: {float(my_area_loss(M0, 0.5)[0]):.2f} = 0.9 * sqrt({M0[0].numel() // 2}) = {0.9 * math.sqrt(M0[0].numel() // 2):.2f}")


# %% [markdown] tags=["exercise"]
# **Exercise 2: change the area limit.** Train the two-stage mask on four segments with a = 0.25 and with
# a = 0.5 (30 epochs, area term from epoch 15, lambda = 0.05, the paper's fixed budget) and print the
# share of mask elements below 0.1. Predict before you run: roughly what share for each a?

# %% tags=["solution"]
from eegnb.explain.context_mask import ContextMask

for a_lim in (0.25, 0.5):
    m_ = ContextMask(epochs=30, warmup_epochs=15, area=a_lim, early_stopping=False, progress=False).attribute(model, X[:4]).mask
    print(f"a = {a_lim}: {(m_ < 0.1).mean():.0%} of the mask below 0.1")


# %% [markdown] tags=["exercise"]
# **Exercise 3: the clamped parametrisation.** Run one Adam step (lr 0.1) from the initial mask 0.9 with
# `parametrization="clamp"` and with `"sigmoid"`, and print the mean |M - 0.9| and the share of elements
# that moved up vs down. Predict before you run: how far does each move in one step, and why does it not
# depend on how large the gradient is?

# %% tags=["solution"]
for par in ("clamp", "sigmoid"):
    m_ = ContextMask(epochs=1, parametrization=par, early_stopping=False, progress=False).attribute(model, X[:4]).mask
    d_ = m_ - 0.9
    print(f"{par}: mean |M - 0.9| = {np.abs(d_).mean():.4f}; up {(d_ > 1e-6).mean():.0%}, down {(d_ < -1e-6).mean():.0%}")
# Adam's first step is lr * g / |g| = lr * sign(g): clamp moves 0.1 down (or up, clipped at 1 after 0.1),
# sigmoid moves its logit by 0.1, i.e. M by about 0.1 * 0.9 * 0.1 = 0.009


# %% [markdown] tags=["exercise"]
# **Exercise 4: patience.** With early stopping on, train the masks of four segments with patience 3 and
# with patience 30 (budget 200 epochs) and print the mean epochs run and the mean localisation AUC.
# Predict before you run: does waiting longer change the epochs much, and the AUC?

# %% tags=["solution"]
for pat in (3, 30):
    r_ = ContextMask(epochs=200, patience=pat, progress=False).attribute(model, X[:4])
    auc_ = np.nanmean(localisation_auc(r_.mask, truth[:4])) if truth is not None else float("nan")
    print(f"patience {pat}: {r_.epochs_run.mean():.0f} epochs on average, localisation AUC {auc_:.2f}")

