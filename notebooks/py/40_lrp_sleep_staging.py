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
# # 40 · LRP explains a multimodal sleep-staging CNN
#
# Paper 4: Ellis et al., *A Gradient-based Approach for Explaining Multimodal Deep Learning Classifiers*
# (IEEE BIBE 2021). A 1-D CNN stages 30-s epochs of EEG (Fpz-Cz), horizontal EOG and submental EMG
# (W, N1, N2, N3, REM); layer-wise relevance propagation (LRP) then says how much of each decision rests
# on each modality: the percentage of absolute relevance per modality, per epoch. The paper uses three
# LRP settings, each applied to every layer: epsilon = 0.01 (almost plain LRP), epsilon = 100 (drops
# weak relevance) and alpha = 1 / beta = 0 (positive evidence only).
#
# **Regenerates** paper Fig. 1 (`40-global-shares.png`: shares over folds per rule), Fig. 2
# (`40-group-grid.png`: the same per true x predicted stage) and Fig. 3 (`40-local.png`: 120 min of one
# night, chosen to contain REM), plus the confusion matrix over folds (`40-confusion.png`; the paper reports it in its
# companion paper). **Beyond the paper**, on simulated data: a comparison with the planted
# stage-by-modality evidence and with modality ablation (`40-lrp-vs-ablation.png`); input-level
# conservation of every rule, with the unstable maps counted and shown (`40-conservation.png`); one
# relevance pass written out layer by layer ("open the hood") and checked against the library.
# The clinical statistics (paper Fig. 4) are in notebook 41, which reuses this notebook's cached run.
#
# **Runtime** (one thread): quick ≈ 1-2 min; default ≈ 10-12 min (estimated from timed pieces: every test epoch
# is explained with three rules; cached afterwards). Paper scale (real
# Sleep-EDF telemetry, 22 subjects, 10 folds, every epoch explained): hours on CPU, best on a GPU.

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

import pandas as pd

import eegnb.experiments.sleep as S
import eegnb.notebook
import eegnb.plots.sleep as P
from eegnb.metrics.modality import group_counts
from eegnb.stats import mean_ci

warnings.filterwarnings("ignore", category=UserWarning)  # neurodsp filter notes while simulating
nb = eegnb.notebook.setup("40", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
cfg = S.notebook_config(dataset, quick)  # sizes shared with notebook 41, so both hit one cache
pd.set_option("display.precision", 3)
cfg

# %% [markdown]
# ## Data
#
# Simulated by default (`eegnb.data.simulate("sleep-edf")`): each subject has an age, a sex and two nights
# (placebo and temazepam); stages follow a Markov hypnogram calibrated on Sleep-EDF. Each stage's class
# evidence sits mainly in one modality (`data.info["modality_evidence"]`): W in EMG tone, N1 in slow eye
# movements (EOG), N2 in spindles and K-complexes (EEG), N3 in delta (EEG), REM in rapid eye movements
# (EOG); weaker secondary signatures sit elsewhere. Age, sex and medication change specific
# stage-by-modality features (`data.info["planted_effects"]`), which notebook 41 tries to recover.
#
# As in the paper, each modality is z-scored within each recording (`normalize="recording"`; real data
# are always z-scored this way by the loader). `normalize="global"` z-scores per channel over the whole
# data set instead, which keeps the simulated between-night amplitude differences, but the models then
# no longer generalise to new subjects (in a quick-size check, both the CNN and a log band-power logistic
# regression fell to near chance across subjects while staying well above it within a recording; rerun
# with `normalize="global"` to see the numbers), because subjects differ in overall signal gain as real
# ones do. At default size each night contributes 100
# randomly drawn epochs (the CPU budget); the 120-min local view (Fig. 3) comes from a freshly simulated
# whole night that no model saw.
#
# **Cross-validation** by subject with `eegnb.train.grouped_kfold`: the paper uses 10 folds with 17 / 2 / 3
# training / validation / test subjects (22 subjects). Default here (`S.notebook_config`, printed above): 20
# subjects, **4 folds** (13 / 2 / 5) and 1000 stage-balanced training epochs per fold, to stay within the CPU
# budget; quick: 8 subjects, 2 folds. Training: Adam, class-balanced loss, early stopping on the validation
# subjects, the best validation checkpoint kept.

# %% [markdown]
# ## The method as equations
#
# Relevance starts at the explained logit, $R^{(L)}_k = f_k(x)$ for the predicted class $k$ (zero for the others),
# and flows back layer by layer. For a conv or dense layer with inputs $a_i$, weights $w_{ij}$, biases $b_j$ and
# pre-activations $z_j = \sum_i a_i w_{ij} + b_j$ (BatchNorm merged into $w$, $b$ first):
#
# - **LRP-ε** (paper: $\epsilon = 0.01$ and $\epsilon = 100$ on every layer):
#   $R_i = \sum_j \dfrac{a_i w_{ij}}{z_j + \epsilon\,\mathrm{sign}(z_j)}\,R_j$.
#   The stabiliser and the bias take a share $\dfrac{\epsilon\,\mathrm{sign}(z_j) + b_j}{z_j + \epsilon\,\mathrm{sign}(z_j)}R_j$
#   away from the inputs, so $\sum_i R_i = \sum_j R_j$ only when both are small against $z_j$.
# - **LRP-α1β0** (z⁺): $R_i = \sum_j \dfrac{(a_i w_{ij})^+}{\sum_{i'} (a_{i'} w_{i'j})^+ + b_j^+}\,R_j$: positive contributions only.
# - ReLU passes relevance unchanged, max pooling gives it to the winning input (the gradient).
# - **Modality share** of an epoch's map $R \in \mathbb{R}^{ch \times t}$:
#   $S_m = 100\,\dfrac{\sum_{c \in m}\sum_t |R_{c,t}|}{\sum_{c}\sum_t |R_{c,t}|}$, $m \in \{\mathrm{EEG}, \mathrm{EOG}, \mathrm{EMG}\}$ (rows sum to 100 %).
# - **Conservation** of a map: $\kappa = \sum_{c,t} R_{c,t} \,/\, f_k(x)$ (1 = the input relevance adds up to the logit).
#   We flag a map as **unstable** when $\kappa \notin [0.5, 2]$: more than half (or less than half) of the logit, or the
#   opposite sign, sits on the input, so the map is dominated by division by near-zero $z_j$, not by the input.

# %%
data = S.load_sleep_data(dataset, data_dir, n_subjects=cfg["n_subjects"], epochs_per_night=cfg["epochs_per_night"],
                         seed=seed, quick=quick, normalize=normalize, cache_dir=nb.cache_dir, **cfg["load_kw"])
print(f"{len(data)} epochs, {len(data.subjects)} subjects, channels {data.ch_names} ({data.ch_types}), {data.sfreq:.0f} Hz")
demo = data.meta.groupby(["subject", "night"])[["age", "sex", "medication"]].first()
display(pd.crosstab(data.meta["medication"], data.meta["stage"]))
display(demo.groupby("sex").agg(subjects=("age", "size"), mean_age=("age", "mean")))
nb.record("n_subjects", len(data.subjects))
data.info.get("modality_evidence")

# %% [markdown]
# ## Train, evaluate and explain, fold by fold
#
# `S.run_sleep_cv` trains one `sleepcnn` per fold, predicts every test epoch, and explains every one of them at default size
# (a random 150 per fold at quick size) with the three LRP rules from
# `eegnb.explain` (zennit composites with the rule on every conv and dense layer, BatchNorm merged,
# relevance starting at the predicted class's logit). Each map `(3, 3000)` is reduced to the percentage
# of absolute relevance per modality. It also runs the ablation baseline on the same epochs (each
# modality in turn replaced by its per-recording mean; drop of the predicted class's probability) and
# explains the local window with the model of the fold that did not train on it. Everything is cached.

# %%
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
nb.record("n_test_epochs", len(res.samples))
nb.record("cv_macro_f1", m["macro_f1"])
nb.record("fold_acc", res.folds["acc"].round(4).tolist())
report = S.per_class_report(res)
nb.record("per_class", report.round(4))
nb.record("runtime_s", round(res.seconds, 1))
display(res.folds.drop(columns=["test_subjects"]))
report

# %%
cm = res.confusion()
nb.record("confusion", cm)
fig = P.plot_confusion(cm, title=f"Confusion over {cfg['k']} folds: accuracy {m['acc']:.1%}, macro-F1 {m['macro_f1']:.2f}")
nb.savefig(fig, "confusion")

# %% [markdown]
# ## Fig. 1 · Global modality importance
#
# For each fold, the mean over its explained test epochs of the per-epoch percentage of absolute relevance
# on EEG, EOG and EMG, per LRP rule. Boxes span folds; dots are folds. (Summing relevance over epochs
# before taking percentages, `S.global_table(res, pooled=True)`, is another reading of the paper; under
# epsilon = 100 the relevance magnitude varies by orders of magnitude between epochs, so that pooled
# share reflects the handful of epochs with the largest relevance.)

# %%
gtab = S.global_table(res)
nb.record("global_shares", gtab.groupby(["rule", "modality"])["share"].mean().unstack().round(2))
nb.record("global_shares_ci", {r: {m: mean_ci(g["share"], g["fold"], unit_name="fold") for m, g in gr.groupby("modality")}
                               for r, gr in gtab.groupby("rule")})  # intervals over folds
fig = P.plot_global_shares(gtab, rules=res.rules)
nb.savefig(fig, "global-shares")
gtab.groupby(["rule", "modality"])["share"].describe()[["mean", "std", "min", "max"]]

# %% [markdown]
# ## Fig. 2 · Per classification group
#
# The same shares per true x predicted stage, each panel with its number of explained epochs. The diagonal
# (framed) holds the correct classifications, whose shares notebook 41 regresses on the covariates.

# %%
grp = S.group_table(res)
expl = res.samples[res.samples["explained"]]
fig = P.plot_group_grid(grp, group_counts(expl["true"], expl["pred"], res.class_names), rules=res.rules)
nb.savefig(fig, "group-grid")
stage_tab = S.stage_shares(res)  # mean per-epoch share, correctly classified epochs
stage_all = S.stage_shares(res, correct_only=False)  # every explained epoch, by true stage
nb.record("stage_shares", {f"{r}|{st}": row.round(2).to_dict() for (r, st), row in stage_tab.iterrows()})
nb.record("stage_shares_all", {f"{r}|{st}": row.round(2).to_dict() for (r, st), row in stage_all.iterrows()})
stage_tab.unstack("rule").round(1)

# %% [markdown]
# ## Fig. 3 · Local explanation: 120 minutes of one night
#
# The window is **chosen deliberately to contain REM** (`require_stage="REM"`: the first 120-min window, in 15-min
# steps from the start of the night, with at least `local_min_stage` REM epochs), so that the figure shows the stage
# whose evidence sits in the EOG; its start is printed below. Top: the true (black) and predicted (green) hypnogram.
# Middle: a spectrogram per signal (Welch power of each 30-s epoch, log10; 30 s of 100-Hz signal drawn over two
# hours would be a solid band). Bottom: the share of absolute relevance per modality for each 30-s epoch (LRP
# epsilon = 100, as in the paper).

# %%
loc = res.local
nb.record("local_acc", float((loc["true"] == loc["pred"]).mean()))
errors = loc[loc["true"] != loc["pred"]].groupby(["true", "pred"]).size().sort_values(ascending=False)
nb.record("local_top_error", [[res.class_names[t], res.class_names[p], int(n)] for (t, p), n in errors.head(1).items()])
nb.record("local_n_epochs", len(loc))
nb.record("local_window", dict(start_min=local.info.get("window_start_min", 0.0), rule=local.info.get("window_rule", "start")))
nb.record("local_stages", sorted({res.class_names[i] for i in loc["true"]}))
fig = P.plot_local(loc, local.X, res.class_names, sfreq=local.sfreq, rule="eps100", unit="z")
nb.savefig(fig, "local")
local_shares = loc.assign(stage=[res.class_names[i] for i in loc["true"]]).groupby("stage")[[f"eps100:{m}" for m in res.modalities]].mean()
nb.record("local_shares", local_shares.rename(columns=lambda c: c.split(":")[1]).round(2))
local_shares

# %% [markdown]
# ## Beyond the paper · LRP against the planted truth and against ablation
#
# On simulated data we know which modality carries each stage's evidence. For each rule we ask whether the
# modality with the largest mean share (correctly classified epochs) is the planted one. Beside LRP, the
# ablation baseline the paper argues against: replacing a modality by its per-recording mean produces
# inputs the network never saw; its importance is the drop of the predicted class's probability,
# normalised to 100 % over the modalities.

# %%
ev = data.info.get("modality_evidence")
if ev:
    rank = S.ranking_vs_truth(res, ev, rules=res.rules + ["ablation"])
    nb.record("ranking_match", rank.groupby("rule")["match"].mean().round(3))
    nb.record("ranking_n_match", rank.groupby("rule")["match"].sum().astype(int))
    nb.record("ranking_table", rank.set_index(["rule", "stage"])[["planted", "top", "match", "planted_share"]].round(2))
    display(rank.pivot(index="stage", columns="rule", values="top").assign(planted=pd.Series(ev)))
sfr = S.shares_frame(res, res.rules + ["ablation"])
fig = P.plot_stage_methods(sfr, class_names=res.class_names, methods=res.rules + ["ablation"], evidence=ev)
nb.savefig(fig, "lrp-vs-ablation")

# %% [markdown]
# ## Beyond the paper · conservation per rule (and what it means for the ε = 0.01 panels)
#
# For every explained map of the run we have $\kappa = \sum R / f_k(x)$ (with biases, as the paper runs the
# rules). On a subset of fold 0's test epochs we also run each rule with the biases left out of the rules
# (`zero_params="bias"`): then only the stabiliser can absorb relevance. Unstable maps ($\kappa \notin [0.5, 2]$)
# are counted per rule, listed and kept in every figure: nothing is dropped. For ε = 0.01 we compare the modality
# shares of the stable and the unstable maps: if they differ, the paper's ε = 0.01 panels mix two kinds of map.

# %%
import numpy as np

cons_run = {r: res.conservation(r) for r in res.rules}  # every explained map of the run, with biases
flags = {r: S.unstable_maps(c) for r, c in cons_run.items()}
nb.record("n_maps", {r: int(np.isfinite(c).sum()) for r, c in cons_run.items()})
nb.record("n_unstable", {r: int(f.sum()) for r, f in flags.items()})
nb.record("conservation_range", {r: [float(np.nanmin(c)), float(np.nanmax(c))] for r, c in cons_run.items()})
net0 = S.fold_model(data, res, 0, device=nb.device, cache_dir=nb.cache_dir)
sub = res.samples[res.samples["explained"] & (res.samples["fold"] == 0)].head(60 if quick else 100)
cons = S.conservation_table(net0, data.X[sub["idx"].to_numpy()], device=nb.device)
nb.record("n_unstable_subset", cons.groupby(["rule", "bias"])["unstable"].sum().unstack().astype(int))
nb.record("n_subset", len(sub))
fig = P.plot_conservation(cons, run_ratio=cons_run)
nb.savefig(fig, "conservation")
cons.groupby(["rule", "bias"])["ratio"].describe()[["min", "50%", "max"]]

# %%
sh = S.shares_frame(res, ["eps0.01"]).assign(unstable=lambda d: d["idx"].map(pd.Series(flags["eps0.01"], index=res.samples["idx"])))
by = sh.pivot_table(index="unstable", columns="modality", values="share", aggfunc="mean")[list(res.modalities)]
nb.record("eps001_shares_by_stability", {("unstable" if k else "stable"): v for k, v in by.round(2).to_dict(orient="index").items()})
nb.record("eps001_shares_ci", {("unstable" if k else "stable"): {m: mean_ci(g.loc[g.modality == m, "share"], g.loc[g.modality == m, "fold"], unit_name="fold")
                                                                 for m in res.modalities} for k, g in sh.groupby("unstable")})
worst = res.samples.assign(kappa=cons_run["eps0.01"])[flags["eps0.01"]]
display(worst.reindex(worst["kappa"].abs().sort_values(ascending=False).index)[["fold", "subject", "true", "pred", "kappa"]].head(8))  # the unstable maps, shown
by

# %% [markdown]
# ## Open the hood · one LRP-ε pass, layer by layer
#
# The library call (`eegnb.explain`, zennit) hides the loop. Here it is written out on fold 0's network for two
# epochs: BatchNorm folded into each conv (`S.merged_layers`), a forward pass that keeps every layer's input, then
# from the logit backwards $R_i = a_i \sum_j w_{ij} R_j / (z_j + \epsilon\,\mathrm{sign}(z_j))$ on conv and dense layers
# (for a conv, $\sum_j w_{ij}(\cdot)$ is a transposed convolution), ReLU passing relevance on, max pooling routing it to
# the winners. The printed sum after each layer shows where relevance leaks (the biases and the stabiliser); the last
# line checks the result against the library.

# %%
import torch
from zennit.core import stabilize

x, eps = torch.as_tensor(data.X[sub["idx"].to_numpy()[:2]]), 0.01
layers = S.merged_layers(net0)  # BatchNorm folded into the convs, dropout (eval: identity) left out
acts = [x]
with torch.no_grad():
    for L in layers:
        acts.append(L(acts[-1]))
R = torch.zeros_like(acts[-1]).scatter(1, acts[-1].argmax(1, keepdim=True), acts[-1].max(1, keepdim=True).values)
print(f"{'logit':>24}: sum R = {R.sum(1).tolist()}")
for n, (L, a) in enumerate(zip(layers[::-1], acts[-2::-1])):
    if isinstance(L, (torch.nn.Conv1d, torch.nn.Linear)):  # R_in = a * W^T (R / (z + eps sign z))
        s = R / stabilize(L(a), eps)
        R = a * (s @ L.weight if isinstance(L, torch.nn.Linear) else torch.nn.functional.conv_transpose1d(s, L.weight))
    elif isinstance(L, S.MergedBatchNorm):  # the identity the BatchNorm merge leaves: relevance passes unchanged
        pass
    elif not isinstance(L, torch.nn.ReLU):  # max pooling, flatten: relevance goes to the winners (the gradient)
        a = a.clone().requires_grad_(True)
        (R,) = torch.autograd.grad(L(a), a, R)
    print(f"{len(layers) - n:>2} {type(L).__name__:>21}: sum R = {[round(v, 4) for v in R.detach().flatten(1).sum(1).tolist()]}")
lib = S.explain_rule(net0, x.numpy(), "eps0.01")
nb.record("hood_max_rel_diff", float(np.abs(R.detach().numpy() - lib).max() / np.abs(lib).max()))
print("largest difference to the library map, relative to its largest value:", nb.records["hood_max_rel_diff"])

# %% [markdown]
# ## What we saw
#
# The run's numbers follow in the next cell; here, how to read them.
#
# - **Staging.** Accuracy and macro-F1 pooled over the folds, and F1 per stage. N3 against N2 is the
#   confusion human scorers make too; the stage with the lowest F1 and where its epochs go is
#   printed below.
# - **Global shares (Fig. 1).** Which modality receives the largest mean share under each rule, with
#   intervals over folds. Epsilon = 100 drops weak relevance, which sharpens the contrasts between
#   modalities.
# - **Per stage against the planted truth.** For each rule, the modality with the largest mean share
#   of correctly classified epochs is compared with the planted one. The simulation also gives every
#   stage its own EMG tone (a weaker, unmarked signature), so a network can recognise a stage partly
#   by that tone rather than by the planted feature. The ablation baseline (replace a modality by its
#   recording mean) says what the network cannot do without; LRP says what it used.
# - **Local view (Fig. 3).** A freshly simulated night that no model saw (at default size), staged by
#   the fold model that did not train on it.
# - **Conservation (beyond the paper).** How many maps of each rule put between half and twice the logit on
#   the input; for the small-epsilon rule whether the unstable maps' shares differ from the stable ones' (then the
#   paper's small-epsilon panels average two kinds of map). The large epsilon on every layer shrinks relevance by
#   design (the stabiliser absorbs most of it), so its conservation is far below 1 for every map: it is
#   read as shares only, never as amounts.
# - **Open the hood.** The hand-written pass agrees with the library to float precision (printed).

# %%
# NBVAL_CHECK_OUTPUT
pc, cm, gs = nb.records["per_class"], nb.records["confusion"], nb.records["global_shares_ci"]
worst = min(pc, key=lambda s: pc[s]["f1"])
to = max((p for p in cm[worst] if p != worst), key=lambda p: cm[worst][p])  # where the worst stage's errors go (rows: true)
fr = max((t for t in cm if t != worst), key=lambda t: cm[t][worst])  # which stage is most often called the worst one
tops = {r: sorted(g, key=lambda m: -g[m]["mean"]) for r, g in gs.items()}  # modalities by mean share
glob = "; ".join(f"{r}: {t[0].upper()} {nb.ci(gs[r][t[0]], '.0f')} % vs {t[1].upper()} {nb.ci(gs[r][t[1]], '.0f')} % (**{nb.verdict(gs[r][t[0]], gs[r][t[1]], names=(t[0].upper(), t[1].upper()))}**)" for r, t in tops.items())
tab = {tuple(k.strip("()").replace("'", "").split(", ")): v for k, v in nb.records.get("ranking_table", {}).items()}
per_stage = "; ".join(f"{st} {v['top'].upper()} {nb.records['stage_shares'][f'eps100|{st}'][v['top']]:.0f} % (planted {v['planted'].upper()}{'' if v['match'] else ', no match'})" for (r, st), v in tab.items() if r == "eps100")
nb.report("""
**This run:** {n_subjects} simulated subjects x 2 nights x {epochs_per_night} epochs, {k} folds by subject, {n_test_epochs} test epochs,
{n_maps[eps100]} of them explained with each rule (the statistics use the correctly classified ones).

- **Staging:** accuracy {cv_acc:.2f}, macro-F1 {cv_macro_f1:.2f} over the folds ({fold_lo:.2f}-{fold_hi:.2f} per fold); F1 {f1s}.
  Lowest F1: {worst} (recall {pc[worst][recall]:.2f}, precision {pc[worst][precision]:.2f}): {n_to} of its {n_worst} epochs are called {to}
  (its most frequent error), and {n_fr} {fr} epochs are called {worst} (the most frequent false {worst}).
- **Global shares** (mean [95% CI] over folds, largest two per rule): {glob}.
""" + ("""- **Per stage, epsilon = 100** (top modality of correctly classified epochs): {per_stage}. Stages whose top modality is the planted
  one: {matches}.
""" if tab else "") + """- **Local view:** {local_n_epochs} epochs of a {local_minutes:.0f}-minute window staged at accuracy {local_acc:.2f}; stages present {stages}; most frequent error
  {err}; mean EOG share per stage {eog}. The window starts {local_window[start_min]:.0f} min into the night ({local_window[rule]}).
- **Conservation** (sum of input relevance / logit, with biases; unstable outside 0.5-2): unstable maps {unst}.
  Epsilon = 0.01 shares of stable vs unstable maps (mean [95% CI] over folds): {eps_cmp}.
  On {n_subset} epochs of fold 0 with biases left out of the rules: unstable {unst_nobias}.
  **For the paper's epsilon = 0.01 panels:** {eps_meaning}
""", **cfg, unst="; ".join(f"{r} {n} of {nb.records['n_maps'][r]} (range {nb.records['conservation_range'][r][0]:.3g} to {nb.records['conservation_range'][r][1]:.3g})" for r, n in nb.records["n_unstable"].items()),
   eps_cmp="; ".join(f"{m.upper()} {nb.ci(nb.records['eps001_shares_ci']['stable'][m], '.0f')} % vs {nb.ci(nb.records['eps001_shares_ci']['unstable'][m], '.0f')} % (**{nb.verdict(nb.records['eps001_shares_ci']['stable'][m], nb.records['eps001_shares_ci']['unstable'][m], names=('stable', 'unstable'))}**)" for m in res.modalities) if "unstable" in nb.records["eps001_shares_ci"] else "no unstable map",
   eps_meaning=(lambda f: f"{f:.0%} of the epsilon = 0.01 maps are unstable, so those panels summarise maps whose input relevance is not the explained logit "
                             "(division by near-zero pre-activations, sign flips); their shares are a property of the numerics as much as of the network." if f > 0.5 else
                             f"{f:.0%} of the epsilon = 0.01 maps are unstable; the panels rest mostly on maps that conserve the logit.")(nb.records["n_unstable"]["eps0.01"] / max(nb.records["n_maps"]["eps0.01"], 1)),
   unst_nobias="; ".join(f"{r} {v['biases left out']} (with biases {v['with biases (paper)']})" for r, v in nb.records["n_unstable_subset"].items()), fold_lo=min(nb.records["fold_acc"]), fold_hi=max(nb.records["fold_acc"]), f1s=", ".join(f"{s} {v['f1']:.2f}" for s, v in pc.items()),
   pc=dict(pc, worst=pc[worst]), worst=worst, to=to, n_to=cm[worst][to], fr=fr, n_fr=cm[fr][worst], n_worst=sum(cm[worst].values()), glob=glob, per_stage=per_stage,
   matches=", ".join(f"{r} {n} of {len(res.class_names)}" for r, n in nb.records.get("ranking_n_match", {}).items()),
   stages=", ".join(nb.records["local_stages"]), err=" ".join(f"{t} called {p} ({n} epochs)" for t, p, n in nb.records["local_top_error"]) or "none",
   eog=", ".join(f"{s} {v['eog']:.0f} %" for s, v in nb.records["local_shares"].items()))

# %% [markdown]
# ## Paper scale
#
# `dataset = "sleep-edf"`, `data_dir` pointing at the Sleep-EDF Expanded telemetry files (`ST7*-PSG.edf`
# and `ST7*-Hypnogram.edf`, PhysioNet) switches to `notebook_config("sleep-edf")`: the 22 telemetry
# subjects, all epochs, 10 folds (17 / 2 / 3 subjects), 30 training epochs with early stopping, every test
# epoch explained. The loader z-scores each channel within each recording as the paper did. Expect
# hours on CPU; pass `device="cuda"`. The figures keep their names.
