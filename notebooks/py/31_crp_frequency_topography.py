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
# # 31 · CRP in the frequency domain: DFT-LRP, band topomaps, functional regions and ICA (paper 3)
#
# The second half of paper 3's analysis. A **virtual inspection layer** (Vielhaben et al. 2024,
# DFT-LRP) prepends an exact discrete Fourier transform and its inverse to EEGNet, so that LRP and
# CRP relevance lands on frequency bins per channel without retraining; a short-time DFT does the
# same for time-frequency bins. From these we draw class-wise relevance spectra, band-wise relevance
# topomaps (delta to gamma) per class and per filter cluster of notebook 30, relevance per
# **functional region** (frontal, central, temporal, parietal, occipital; per hemisphere, from MNE's
# montage positions), time-frequency maps over the planted areas of both hemispheres, and we carry
# the relevance onto ICA components of the EEG (MNE, labelled brain / eye / muscle / ... by ICLabel).
# On simulated data we score how much of the positive relevance falls on the planted channels and
# bands (from `info["planted"]` and `truth_freq`) against a random map and the planted truth.
#
# - **Tasks:** `task` as in notebook 30 (`"motor"` default; `"auditory"`, `"attention"` write
#   `31-*-auditory.png`, `31-*-attention.png`).
# - **Regenerates:** the paper's frequency-resolved relevance, per-cluster band topomaps,
#   functional grouping and ICA-component relevance (figures `31-*.png`; `31-*-real.png` from
#   PhysioNet EEGBCI S001 with `dataset="eegbci"`).
# - **Runtime:** quick under a minute, default about a minute on 2 cores after notebook 30 (its
#   trained models and CRP results come from the cache; without them add notebook 30's time).
# - **Library:** zennit / zennit-crp (`eegnb.explain.dft_lrp`, `eegnb.explain.crp`), MNE
#   (`plot_topomap`, `ICA`, `standard_1005` montage), mne-icalabel (ICLabel, offline with torch).

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
import pandas as pd

import eegnb
from eegnb.experiments import crp as paper3
from eegnb.plots import crp as plots
from eegnb.stats import mean_ci

nb = eegnb.notebook.setup("31", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
config = paper3.CRPConfig.quick() if quick else paper3.CRPConfig()
real = dataset != "sim"
suffix = ("-real" if real else "") + ("" if task == "motor" else f"-{task}")  # real / other-task figures sit beside
raw = paper3.load_data(dataset, data_dir, config=config, seed=seed, task=task)
pool = paper3.load_pool(dataset, config=config, seed=seed, task=task)
result = paper3.run(raw, config=config, seed=seed, device=nb.device, cache_dir=nb.cache_dir, pool=pool)
data = result.data
print(f"planted channels ({result.planted_from}): {result.planted_channels}; bands (Hz): {result.planted_bands}")
data

# %% [markdown]
# ## The virtual inspection layer, as equations
#
# For a channel's signal $x \in \mathbb{R}^N$ the real DFT $F$ stacks real and imaginary parts of the
# one-sided spectrum, $X = F x \in \mathbb{R}^{2K}$ ($K = N/2 + 1$), and its inverse $G$ gives
# $G F = I$. The wrapped model $f(G F x)$ computes exactly $f(x)$. LRP through $f$ gives the input
# relevance $R_t$; the inverse DFT is a bias-free linear layer $x_t = \sum_k G_{tk} X_k$, and LRP-0
# (epsilon $10^{-9}$) through it gives each coefficient
# $$R_k = \sum_t \frac{G_{tk} X_k}{x_t}\, R_t, \qquad R(f_b) = R_{\mathrm{Re}\,b} + R_{\mathrm{Im}\,b},$$
# with $\sum_k R_k = \sum_t R_t$ (no bias, nothing leaks). CRP through the inspection layer
# conditions the backward pass at EEGNet's concept layer as in notebook 30, $R(f_b \mid \theta)$, so
# every filter gets a relevance spectrum per channel. The short-time version replaces $F$ by
# windowed frames and $G$ by its canonical dual frame (pseudo-inverse), so relevance lands on
# time-frequency bins.

# %% [markdown]
# **The inspection layer is exact, and it can tell bands apart.** The wrapped model must compute
# what EEGNet computes. And a check that can fail: hand-built models that read only one band (a
# band-pass FIR per channel, ReLU, a linear read-out; `paper3.BandReader`), explained by DFT-LRP on
# white noise, must put most of their positive relevance in the band they read and almost none in
# the other band. A frequency axis mixed up in the inspection layer (bins swapped, real and
# imaginary parts folded wrongly) would fail it. For contrast the same check runs with the z+ rule (alpha-beta with
# alpha = 1, beta = 0), which redistributes by positive contributions only.

# %%
import torch

from eegnb.explain import dft_lrp

model = result.models[0].cpu().eval()
vi = dft_lrp.VirtualInspection(model)
x = torch.as_tensor(data.X[:8])
with torch.no_grad():
    nb.record("inspection_max_output_difference", float((vi(x) - model(x)).abs().max()))
check_bands = {"mu 8-13 Hz": (8.0, 13.0), "beta 20-30 Hz": (20.0, 30.0)}
check = paper3.band_reading_check(data.n_chans, data.n_times, data.sfreq, check_bands, rule=config.rule, seed=seed)
nb.record("band_check", check.round(4).to_dict(orient="index"))
nb.record("band_check_in_band_min", float(np.diag(check.to_numpy()).min()))
nb.record("band_check_other_band_max", float(check.to_numpy()[~np.eye(len(check), dtype=bool)].max()))
zplus = paper3.band_reading_check(data.n_chans, data.n_times, data.sfreq, check_bands, rule="alphabeta", seed=seed)
nb.record("band_check_zplus_in_band_max", float(np.diag(zplus.to_numpy()).max()))  # z+ (alpha1-beta0) for contrast
pd.concat({config.rule: check, "alphabeta (z+)": zplus}).round(3)

# %% [markdown]
# **Open the hood: one relevance pass, layer by layer.** For the mu-reading model wrapped in the
# inspection layer, LRP-epsilon runs here by hand: the forward pass keeps every layer's input, then
# relevance starts at the class logit and goes through the read-out, the reshape, the ReLU, the FIR
# convolution and the inverse DFT, each linear step by $R_{in} = a \odot W^{\top}(R_{out} / (z + \varepsilon\,\mathrm{sign}\,z))$.
# The result must equal `DFTLRP.spectrum` (zennit) and sum to the logit.

# %%
reader = paper3.BandReader(data.n_chans, data.n_times, data.sfreq, band=check_bands["mu 8-13 Hz"]).eval()
vi_r = dft_lrp.VirtualInspection(reader, sfreq=data.sfreq, n_times=data.n_times, n_chans=data.n_chans)
X_noise = np.random.default_rng(seed).normal(size=(2, data.n_chans, data.n_times)).astype(np.float32)

def eps_rule(layer, a, R, eps):
    """LRP-epsilon through one linear map: R_in = a * W^T (R / (z + eps sign z))."""
    a = a.detach().requires_grad_(True)
    z = layer(a)
    (c,) = torch.autograd.grad(z, a, R / (z + eps * torch.where(z >= 0, 1.0, -1.0)))
    return (a * c).detach()

with torch.no_grad():  # forward pass, keeping every layer's input
    a_idft = vi_r.dft(torch.as_tensor(X_noise))
    a_fir = vi_r.idft(a_idft).unsqueeze(1)
    a_flat = reader.act(reader.fir(a_fir))
    a_out = reader.flat(a_flat)
    logits = reader.out(a_out)
R = torch.zeros_like(logits)
R[:, 1] = logits[:, 1]                                            # relevance starts at the class-1 logit
R = eps_rule(reader.out, a_out, R, 1e-6).view_as(a_flat)          # read-out, then undo the flatten
R = eps_rule(reader.fir, a_fir, R, 1e-6)[:, 0]                    # ReLU passes R unchanged; FIR convolution
R = eps_rule(vi_r.idft, a_idft, R, dft_lrp.INSPECTION_EPSILON)    # inverse DFT: onto the Fourier coefficients
R_bins = vi_r.fold(R.numpy())                                     # real + imaginary part per bin, (n, ch, bins)
ref = dft_lrp.DFTLRP(reader, data.sfreq, rule="epsilon").spectrum(X_noise, 1)
nb.record("hood_vs_dft_lrp", float(np.abs(R_bins - ref).max() / np.abs(ref).max()))
nb.record("hood_sum_over_logit", (R_bins.sum((1, 2)) / logits[:, 1].numpy()).round(6).tolist())
print(f"by hand vs DFTLRP: {nb.records['hood_vs_dft_lrp']:.1e}; sum / logit: {nb.records['hood_sum_over_logit']}")

# %% [markdown]
# **Class-wise relevance spectra.** DFT-LRP of each held-out trial for its predicted class, summed
# over channels, averaged per model and class (lines: mean over the models, bands: standard error
# over models; shaded: the planted bands).

# %%
fig = plots.plot_class_spectra(result.freqs, paper3.class_spectra(result), bands=result.planted_bands,
                               title="DFT-LRP relevance spectra per explained class",
                               ylabel="relevance per bin (logit units, summed over channels)")
nb.savefig(fig, "class-spectra" + suffix)

# %% [markdown]
# **How much relevance lands on the planted evidence?** Share of the positive frequency-domain
# relevance on the planted channels, in the planted bands, and on both at once, computed per trial
# and averaged per model (dots: models), next to a random map and the planted truth used as a map
# (`truth_freq`, simulated data only) through the same metric, and the share a uniform map would
# give (dashes). For real data the channel set and bands are the textbook expectation for hand motor
# imagery, not a planted truth.

# %%
from eegnb.metrics.controls import oracle_map, random_map

sh = result.shares
ch_b = dict(channels=result.planted_channels, bands=result.planted_bands)
controls = {"random": pd.DataFrame([paper3.relevance_shares(random_map(fc.spectrum.shape, seed=seed + i), fc.freqs, data.ch_names, **ch_b)
                                    for i, fc in enumerate(result.concepts)])}
if data.truth_freq is not None:
    controls["oracle"] = pd.DataFrame([paper3.relevance_shares(oracle_map(data.truth_freq), fc.freqs, data.ch_names, **ch_b)
                                       for fc in result.concepts])
fig = plots.plot_relevance_shares(sh, controls=controls, title="positive DFT-LRP relevance on the planted evidence")
nb.savefig(fig, "planted-shares" + suffix)
for k in ("channel", "band", "joint"):
    nb.record(f"{k}_share", float(sh[f"{k}_share"].mean()))
    nb.record(f"{k}_uniform", float(sh[f"{k}_uniform"].iloc[0]))
nb.record("shares_ci", {k: mean_ci(sh[f"{k}_share"], unit_name="fold") for k in ("channel", "band", "joint")})
nb.record("control_shares_ci", {c: {k: mean_ci(d[f"{k}_share"], unit_name="fold") for k in ("channel", "band", "joint")}
                                for c, d in controls.items()})
sh.round(3)

# %% [markdown]
# **Band topomaps per explained class.** Relevance summed within the five canonical EEG bands
# (delta 1-4, theta 4-8, alpha/mu 8-13, beta 13-30, gamma 30-40 Hz at our 80 Hz sampling), mean
# over models; white dots mark the planted channels. Each row has its own symmetric colour scale,
# colourbars in logit units.

# %%
info = plots.topo_info(data.ch_names)
bands = result.filters["band_names"]
topo = paper3.class_band_topographies(result)  # (class, ch, band)
fig = plots.plot_band_topomaps(topo, data.class_names, bands, info, mask_channels=result.planted_channels,
                               title="DFT-LRP relevance per band and class")
nb.savefig(fig, "class-topomaps" + suffix)
nb.record("band_abs_share", dict(zip(bands, (np.abs(topo).sum((0, 1)) / np.abs(topo).sum()).round(4).tolist())))
hemi = result.groups.set_index("channel")["hemisphere"].reindex(data.ch_names).to_numpy()
planted = np.isin(data.ch_names, result.planted_channels)
left, right = planted & (hemi == "left"), planted & (hemi == "right")  # planted channels per hemisphere (montage x)
nb.record("left_minus_right", {c: dict(zip(bands, (topo[k][left].sum(0) - topo[k][right].sum(0)).tolist()))
                               for k, c in enumerate(data.class_names)})  # relevance, left minus right planted area

# %% [markdown]
# **Band topomaps per filter cluster** (clusters of notebook 30, described on the common pool):
# what each recurring filter type looks at, on the scalp and in frequency.

# %%
labels, ctopo = paper3.cluster_band_topographies(result)
if len(labels):
    ct = result.cluster_table.set_index("cluster")
    rows = [f"cluster {c}\n({ct.loc[c, 'n_filters']} filters, {ct.loc[c, 'coverage']:.0%} of models)" for c in labels]
    fig = plots.plot_band_topomaps(ctopo, rows, bands, info, mask_channels=result.planted_channels,
                                   title="CRP relevance per band on the common pool, mean over each cluster's filters")
    nb.savefig(fig, "cluster-topomaps" + suffix)
nb.record("n_clusters", len(labels))

# %% [markdown]
# **Functional grouping.** Each channel is assigned a region (frontal, central, temporal,
# parietal, occipital) and a hemisphere from its position in MNE's `standard_1005` montage
# (`paper3.functional_groups`; thresholds on the head coordinates, listed in `paper3.REGION_BOUNDS`).
# Per held-out trial, the share of positive relevance (summed over time) in each group; mean and 95%
# CI over models, for the model's DFT-LRP maps, a random map and the planted truth (oracle).
# Black ticks: the group's share of the channels.

# %%
gtab = paper3.functional_group_table(result, seed=seed)
fig = plots.plot_functional_groups(gtab, title=f"Relevance per functional region ({task})")
nb.savefig(fig, "functional-groups" + suffix)
region = gtab.groupby(["map", "fold", "region"])["share"].sum().reset_index()
for m, d in region.groupby("map"):
    nb.record(f"region_share_{m}", d.groupby("region")["share"].mean().round(4).to_dict())
model_reg = region[region["map"] == "model"]
top_region = model_reg.groupby("region")["share"].mean().idxmax()
nb.record("top_region", top_region)
for m in region["map"].unique():
    nb.record_ci(f"top_region_share_{m}", region[(region["map"] == m) & (region["region"] == top_region)]["share"], unit_name="fold")
nb.record("group_degenerate", int(gtab["n_degenerate"].sum()))
result.groups.groupby("group")["channel"].apply(", ".join).to_frame()

# %% [markdown]
# **Time-frequency relevance** (short-time DFT inspection layer, 0.5 s Hann windows every 0.25 s)
# of the first model's held-out trials, summed over the planted channels of each hemisphere, per
# explained class.

# %%
tf = paper3.time_frequency(result, fold=0)
times, tf_freqs = tf.pop("times"), tf.pop("freqs")
fig = plots.plot_time_frequency(tf, times, tf_freqs, title="short-time DFT-LRP over the planted areas")
nb.savefig(fig, "time-frequency" + suffix)

# %% [markdown]
# **ICA components.** Extended-infomax ICA (MNE, solved with Picard) of each held-out subject's
# epochs; the input of the model is the sum of the components' contributions plus a rest (the part
# outside the retained components), and LRP-0 through this virtual mixing layer gives each
# component its relevance (they sum to the map's relevance). ICLabel names the components. Shown:
# the first model's subject (topomaps: the components' mixing weights, arbitrary units; bars: each
# component's share of the absolute relevance); recorded: every fold.

# %%
icas, tables = paper3.ica_all_folds(raw, result, seed=seed, cache_dir=nb.cache_dir)
fig = plots.plot_ica_relevance(icas[0], tables[0], top=5, title=f"ICA of S{tables[0]['test_subject'].iloc[0]}: "
                               "relevance per component (ICLabel labels)")
nb.savefig(fig, "ica-relevance" + suffix)
ica_all = pd.concat(tables)
by_label = ica_all.groupby(["fold", "label"])["abs_share"].sum().unstack(fill_value=0.0)
nb.record("ica_abs_share_by_label", by_label.mean().round(3).to_dict())
nb.record("ica_top2_share", float(np.mean([t.nlargest(2, "abs_share")["abs_share"].sum() for t in tables])))
by_label.round(3)

# %% [markdown]
# ## What we see
#
# The run's numbers follow in the next cell; here, how to read them.
#
# - **The virtual inspection layer should be exact** (the wrapped model's output unchanged beyond
#   float32 round-off) and **frequency-faithful**: a model that reads one band gets its relevance in
#   that band, a model reading another band does not; the hand-written pass must equal zennit's.
# - **Relevance on the planted channels and bands**, per model, against a random map (chance), the
#   planted truth (the best this metric allows) and the uniform share.
# - **The topomaps and the physiology.** For motor imagery, imagining the left hand desynchronises
#   the right (contralateral) motor cortex, so the classes should be mirror images over the two
#   hemispheres; the left-minus-right relevance over the planted areas checks this in numbers. The
#   auditory task is lateralised too (alpha rises on the attended side); internal vs external attention
#   was planted on both sides, so there no mirror symmetry is expected.
# - **Functional regions:** the region holding the most relevance, and its share against the random
#   map and the oracle.
# - **ICA:** for simulated data without artefacts, the relevance should fall on components ICLabel
#   calls brain, concentrated on a few of them.

# %%
# NBVAL_CHECK_OUTPUT
s, lr = nb.records["shares_ci"], nb.records["left_minus_right"]
cs = nb.records["control_shares_ci"]
top = sorted(nb.records["band_abs_share"].items(), key=lambda kv: -kv[1])
side = {c: "left" if v[top[0][0]] > 0 else "right" for c, v in lr.items()}  # sign in the band with the most relevance
mirror = "mirror images" if len(set(side.values())) == len(side) == 2 else "not mirror images"
if task == "attention":  # planted bilaterally: the classes differ in alpha amount, not in side
    mirror = f"{mirror} (none is expected: internal vs external attention was planted on both sides)"
vs = {k: nb.verdict(s[k], cs["random"][k], names=("the model", "a random map")) for k in s}
exact = "exact" if nb.records["inspection_max_output_difference"] < 1e-4 else "NOT exact"
faithful = ("passes" if nb.records["band_check_in_band_min"] > 0.8 and nb.records["band_check_other_band_max"] < 0.1
            else "FAILS")
orc = lambda k: f"; oracle {nb.ci(cs['oracle'][k])}" if "oracle" in cs else ""  # noqa: E731
reg_or = f", oracle {nb.ci('top_region_share_oracle')}" if "top_region_share_oracle" in nb.records else ""
nb.report("""
**This run** ({task}, {dataset}): {n_models} models of notebook 30.

- **Inspection layer:** output changed by at most {inspection_max_output_difference:.1e} ({exact}). Band-reading models put at least
  {band_check_in_band_min:.1%} of their positive relevance in the band they read and at most {band_check_other_band_max:.1%} in the other band:
  the check **{faithful}** (with z+ at most {band_check_zplus_in_band_max:.1%} lands in the band read). The hand-written pass equals DFTLRP to {hood_vs_dft_lrp:.1e}.
- **Planted evidence** (share of positive DFT-LRP relevance per trial, mean [95% CI] over folds): channels {s[channel]:ci} (random
  {rc}{oc}; uniform {channel_uniform:.2f}): **{vs[channel]}**; bands {s[band]:ci} (random {rb}{ob}): **{vs[band]}**; both
  {s[joint]:ci} (random {rj}{oj}): **{vs[joint]}**.
- **Topomaps:** share of absolute relevance per band {bands}; in the {b0} band the relevance is higher {sides}
  planted area: the two classes are **{mirror}**.
- **Functional regions:** the most relevance lies in the {top_region} region, {tr} of the positive relevance (random {trr}{reg_or}).
- **ICA:** share of absolute relevance by ICLabel label {ica}; the two most relevant components hold {ica_top2_share:.0%} of it.
""", task=task, dataset=dataset, n_models=len(result.models), s=s, vs=vs, exact=exact, faithful=faithful,
   rc=nb.ci(cs["random"]["channel"]), rb=nb.ci(cs["random"]["band"]), rj=nb.ci(cs["random"]["joint"]),
   oc=orc("channel"), ob=orc("band"), oj=orc("joint"), bands=", ".join(f"{b} {v:.0%}" for b, v in top), b0=top[0][0],
   sides=", ".join(f"for {c} over the {side[c]}" for c in side), mirror=mirror,
   tr=nb.ci("top_region_share_model"), trr=nb.ci("top_region_share_random"), reg_or=reg_or,
   ica=", ".join(f"{k} {v:.0%}" for k, v in sorted(nb.records["ica_abs_share_by_label"].items(), key=lambda kv: -kv[1])))

# %% [markdown]
# ## Real data: PhysioNet EEGBCI subject S001
#
# With `dataset="eegbci"` and `data_dir` pointing at the folder holding `S001/`, this notebook makes
# the same figures from the real recordings (suffix `-real`); they are shown here when present.

# %%
from pathlib import Path

from IPython.display import Image, display

for slug in ("class-spectra", "planted-shares", "class-topomaps", "cluster-topomaps", "functional-groups",
             "time-frequency", "ica-relevance"):
    path = Path(fig_dir) / f"31-{slug}-real.png"
    if not real and path.exists():
        display(Image(filename=str(path)))
