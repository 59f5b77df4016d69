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
# # 02 · Data: simulated EEG with planted truth, and the real datasets
#
# Every notebook in this workbook runs on **simulated EEG shaped like the papers' datasets** (DEAP,
# SEED, EEGBCI motor imagery, Sleep-EDF), in which we planted the class evidence ourselves, so that
# every explanation can be scored against the truth. This notebook shows what `eegnb.data.simulate`
# builds (sources inside a head, projected to the electrodes through an MNE lead field), sets it beside a
# real recording (EEGBCI subject S001) with the same spectral and spatial statistics, shows where the
# evidence is (`truth`, `truth_freq`), builds the semi-synthetic layout (real S001 background, planted
# burst), and measures how hard each layout is for EEGNet at several `difficulty` levels. With `dataset` set to a real dataset name and `data_dir`
# pointing at its files, the last section shows the same views of the real recordings.
#
# - **Regenerates:** no paper figure; it documents the data every other notebook uses
#   (figures `02-*.png`).
# - **Runtime:** quick about 40 s; default about 15 minutes on 2 CPU cores from an empty cache (most of it trains
#   EEGNet 12 times; trained models are cached under `cache_dir`).

# %% tags=["parameters"]
dataset = "sim"  # "sim", or a real dataset to view: "deap", "seed", "eegbci", "sleep-edf"
data_dir = ""  # folder with the real files when dataset is not "sim"
quick = False  # True: the CI size (about 2 minutes on 2 cores)
seed = 0
device = "auto"
cache_dir = "../.cache"
fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/
fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication
difficulties = [0.2, 0.5, 0.8]  # difficulty levels of the EEGNet sweep
real_subjects = [1]  # subjects to read when dataset is real
reference_dir = "../../shared/data/eegmmidb"  # EEGBCI files (S001/) for the real reference; "" to skip

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import eegnb
from eegnb.data import LAYOUTS, load, simulate
from eegnb.data.calibration import difficulty_sweep
from eegnb.data.simulate import TRANSITIONS_CSV
from eegnb.data.views import (
    evidence_contrast,
    plot_realism_pair,
    realism_comparison,
    plot_hypnogram,
    plot_overview,
    plot_realism,
    plot_sleep_stages,
    plot_truth_topomaps,
    subject_separability,
)

nb = eegnb.notebook.setup("02", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
found = {}  # recorded values, for the conclusions at the end


def keep(key, value):
    found[key] = value
    nb.record(key, value)


n_subjects = 3 if quick else 6
sweep_layouts = ["sleep-edf"] if quick else list(LAYOUTS)
sweep_difficulties = [0.2, 0.8] if quick else difficulties
sweep_subjects = 2 if quick else 3  # subjects per sweep dataset (sleep-edf: two nights each)
# DEAP's evidence sits in a 0.75-s window: with 3 subjects (243 training segments) EEGNet stayed
# at chance at every difficulty; EEGBCI has only 45 trials per subject. With 8 subjects and
# lr 1e-2 both reach the accuracy their difficulty implies (measured, see below)
layout_kw = {name: dict(n_subjects=2 if quick else 8, lr=1e-2) for name in ("deap", "eegbci")}
fit_kw = dict(epochs=10 if quick else 30, patience=12, lr=3e-3)

# %% [markdown]
# ## Simulate the four layouts
#
# `simulate(layout, n_subjects=..., seed=..., difficulty=..., quick=...)` returns an `EEGData`:
# `X (n, ch, t)` in µV, labels `y`, `subject`, a per-sample `meta` table, and the planted truth
# (`truth` with the shape of `X`, `truth_freq` over channels x FFT bins). How the signals are built
# (300 dipoles per subject with 1/f activity plus posterior alpha generators, projected through the lead
# field of an MNE three-layer sphere head with the 10-05 electrode positions; the evidence from dipoles
# under the planted region through the same lead field) is described in the `eegnb.data.simulate`
# docstring and in each dataset's `info`. We time every simulation at this notebook's size.

# %%
sims, seconds = {}, {}
for layout in LAYOUTS:
    t0 = time.perf_counter()
    sims[layout] = simulate(layout, n_subjects=n_subjects, seed=seed, quick=quick)
    seconds[layout] = round(time.perf_counter() - t0, 2)
keep("sim_seconds", seconds)
nb.record("sim_sizes", {k: list(d.X.shape) for k, d in sims.items()})
pd.DataFrame({k: {"samples": len(d), "channels": d.n_chans, "time points": d.n_times,
                  "sfreq (Hz)": d.sfreq, "classes": ", ".join(d.class_names),
                  "subjects": len(d.subjects), "simulation (s)": seconds[k]}
              for k, d in sims.items()}).T

# %% [markdown]
# ## DEAP layout: arousal evidence localised in channels and time
#
# 32 channels, 128 Hz, 4 s segments. For `label="arousal"` (default) the evidence is a 0.75 s burst from
# two dipoles under FT7 and FT8 that starts at a random time in each segment; high arousal carries more
# beta (18-25 Hz) and less theta (5-7 Hz) than low arousal. The truth is the dipoles' normalised
# lead-field power (printed below: `channels` are those with truth >= 0.5, `weights` all of them). Top left: one segment per class (gold: where
# `truth > 0`); top right: class-averaged spectra at the planted channels (solid) and at the channels
# farthest from them (dashed): the classes differ mostly in the solid curves (volume conduction carries
# a little of the evidence everywhere, as the truth's small weights say). Bottom: the truth of one
# sample in time and in frequency.

# %%
print(sims["deap"].info["planted"])
fig = plot_overview(sims["deap"], title="simulated DEAP (arousal)")
nb.savefig(fig, "deap")

# %% [markdown]
# ## SEED layout: spectral evidence over lateral temporal cortex
#
# 62 channels, 200 Hz, 2 s segments. Positive segments carry more beta/gamma (16-45 Hz) power from two
# dipoles in the lateral temporal cortex (under T7 and T8) for the whole segment, as the SEED literature
# reports, so the truth covers every time point of the channels their lead field reaches (graded by its
# power) and only the 16-45 Hz bins.

# %%
print(sims["seed"].info["planted"])
fig = plot_overview(sims["seed"], title="simulated SEED (positive vs negative)")
nb.savefig(fig, "seed")

# %% [markdown]
# ## EEGBCI layout: contralateral mu/beta desynchronisation
#
# 64 channels, 160 Hz, 0-4 s after the cue. A mu (subject peak ± 1.5 Hz) and beta (18-26 Hz) rhythm from
# dipoles under C3 and C4 runs in both sensorimotor cortices; from about 0.5 s to 3.5 s after the cue it weakens over the hemisphere
# opposite the imagined hand. The spectra are taken in that window, separately over the C3 and the C4
# neighbourhoods: right-hand imagery lowers mu/beta at C3, left-hand imagery at C4.

# %%
bci = sims["eegbci"]
groups = {"C3 area": ["C3", "FC3", "CP3", "C5", "C1"], "C4 area": ["C4", "FC4", "CP4", "C6", "C2"]}
fig = plot_overview(bci, groups=groups, window=(1.0, 3.0), title="simulated EEGBCI (left vs right hand)")
nb.savefig(fig, "eegbci")

# %% [markdown]
# ## Where the evidence is planted
#
# Mean `truth` per channel as a scalp map (`mne.viz.plot_topomap`, white dots: channels with truth >= 0.5, the metrics' positives),
# including DEAP with `label="valence"` (frontal alpha asymmetry, dipoles under AF3 and AF4). The maps
# are the lead-field power of the evidence dipoles.

# %%
maps = {"DEAP arousal": sims["deap"], "DEAP valence": simulate("deap", n_subjects=1, seed=seed, quick=True, label="valence"),
        "SEED": sims["seed"], "EEGBCI": sims["eegbci"]}
fig = plot_truth_topomaps(maps)
nb.savefig(fig, "truth-topomaps")

# %% [markdown]
# ## Sleep-EDF layout: stages, hypnogram and planted covariate effects
#
# Fpz-Cz EEG, horizontal EOG and submental EMG at 100 Hz, 30 s epochs. Each subject sleeps two nights
# (placebo and temazepam) whose stage sequence follows a Markov chain calibrated on the 20 Sleep-EDF-20
# hypnograms (`eegnb/data/sleep_transitions.csv`, one transition table per third of the night, so deep
# sleep comes early and REM late); `epochs_per_night` epochs are sampled from each night. Every stage has
# its signature; the gold shading marks the evidence of the stage's dominant modality, which is what
# `truth` holds for this layout.

# %%
sleep = sims["sleep-edf"]
print("dominant modality per stage:", sleep.info["modality_evidence"])
fig, ax = plt.subplots(figsize=(10, 2.6))
plot_hypnogram(sleep, ax=ax)
nb.savefig(fig, "sleep-hypnogram")
fig = plot_sleep_stages(sleep, seed=seed)
nb.savefig(fig, "sleep-stages")

# %% [markdown]
# Stage proportions of the simulated nights next to those of the 20 real hypnograms (the `proportion`
# column of the committed table, per third of the night, averaged), and the planted covariate effects
# that the statistics notebooks must recover (sign: direction of the effect on the named feature).

# %%
table = pd.read_csv(TRANSITIONS_CSV, comment="#")
real_prop = table.groupby("from")["proportion"].mean().reindex(sleep.class_names)
sim_prop = pd.Series(np.bincount(sleep.y, minlength=5) / len(sleep), index=sleep.class_names)
props = pd.DataFrame({"Sleep-EDF-20": real_prop, "simulated": sim_prop}).round(3)
keep("sleep_stage_proportions", props["simulated"].to_dict())
display(props.T)
sleep.info["planted_effects"]

# %% [markdown]
# ## Does it look like EEG?
#
# Three checks on the background, the first two beside the real EEGBCI S001 recording (black, dashed; read
# from `reference_dir` when it is there, else the figure says it is missing): the correlation between two channels falls with their distance on the
# scalp (volume conduction through the lead field) and the grand-mean spectrum falls as 1/f with an alpha bump; the samples of one subject cluster
# together (gains, alpha frequency and noise level are fixed per subject); and the class contrast (Cohen's
# d of log band power between classes) is largest on the channels with truth >= 0.5; on those with truth
# < 0.05 it is a fraction of it, not zero: with volume conduction the evidence reaches every channel a
# little, as the small truth weights say (columns `max_abs_d` and `max_abs_gap`, the class difference in log power).

# %%
real = load("eegbci", reference_dir, subjects=[1]) if reference_dir and os.path.isdir(reference_dir) else None
print("real reference:", "EEGBCI S001" if real is not None else f"not found at {reference_dir!r}")
fig = plot_realism({k: sims[k] for k in ["deap", "seed", "eegbci"]},
                   reference={"EEGBCI S001 (real)": real} if real is not None else None,
                   reference_note=f"not found at {reference_dir!r}")
nb.savefig(fig, "realism")
silhouette = {k: round(subject_separability(d), 3) for k, d in sims.items()}
keep("subject_silhouette", silhouette)
contrast = pd.concat({k: evidence_contrast(d) for k, d in sims.items() if k != "sleep-edf"})
keep("evidence_contrast_max_d", contrast["max_abs_d"].round(3).to_dict())
keep("evidence_contrast_max_gap", contrast["max_abs_gap"].round(3).to_dict())
contrast.round(2)

# %% [markdown]
# ## Beside a real recording: EEGBCI subject S001
#
# The realism table (`eegnb.data.realism.realism_table`, on all EEG channels): the aperiodic **slope**
# (Welch spectrum averaged over samples and channels, straight line in log-log over 2-40 Hz without
# 7-14 Hz), **alpha_ratio** (8-12 Hz power over that line; 1 = no alpha peak), **mean_abs_corr** (mean
# absolute correlation between channel pairs) and the mean correlation of near (< 4 cm) and far
# (> 10 cm) pairs. The real reference is PhysioNet EEGBCI S001, imagery runs 4/8/12, 0-4 s after each cue
# (`reference_dir`). Only the EEGBCI layout is calibrated to it; DEAP and SEED share its source spectrum
# but have their own reference (common average), and no recording of theirs is available here, so their
# rows are set beside S001 for scale only. Sleep-EDF has a single EEG derivation (no spatial statistics)
# and no PSG file here.

# %%
rows = ({"EEGBCI S001 (real)": real} if real is not None else {}) | {f"sim {k}": sims[k] for k in ["eegbci", "deap", "seed"]}
realism = realism_comparison(rows)
keep("realism", realism[["slope", "alpha_ratio", "mean_abs_corr", "corr_near", "corr_far"]].round(3).to_dict("index"))
realism.round(3)

# %%
for layout in ["eegbci", "deap", "seed"]:
    pair = ({"EEGBCI S001 (real)": real} if real is not None else {}) | {f"simulated {layout}": sims[layout]}
    fig = plot_realism_pair(pair, title=f"simulated {layout} beside the real reference")
    nb.savefig(fig, f"realism-{layout}")

# %% [markdown]
# ## Semi-synthetic EEGBCI: real background, planted burst
#
# `simulate("semi-eegbci", data_dir=..., n_subjects=..., seed=...)` takes the real recordings as they are
# (epochs demeaned) and plants a 2 s mu burst (9-13 Hz) from the dipole under C4 (label "left hand") or C3
# ("right hand"), projected through the same lead field, at an in-band amplitude SNR set by `difficulty`.
# The labels are new (independent of the real cues), so the only label-dependent signal is the planted
# one and its truth is exact, while the noise is real. Outside the burst the data equal the recording
# sample for sample (checked below).

# %%
if real is not None:
    semi = simulate("semi-eegbci", data_dir=reference_dir, n_subjects=1, seed=seed, difficulty=0.2)
    base = real.X.astype(np.float64)
    base = (base - base.mean(-1, keepdims=True)).astype(np.float32)
    outside = semi.truth.max(axis=1, keepdims=True) == 0
    keep("semi_max_diff_outside_burst", float(np.abs(np.where(outside, semi.X - base, 0)).max()))
    keep("semi_snr", semi.info["planted"]["snr"])
    keep("semi_contrast_max_d", evidence_contrast(semi)["max_abs_d"].round(3).to_dict())
    print(semi.info["planted"]["channels_by_class"], semi.info["planted"]["rule"])
    fig = plot_overview(semi, groups={"C3": ["C3"], "C4": ["C4"]}, title="semi-synthetic EEGBCI (S001 background)")
    nb.savefig(fig, "semi-eegbci")

# %% [markdown]
# ## How hard is each layout for EEGNet?
#
# `difficulty` in [0, 1] scales the planted effect (the modulation depth, log-linearly from each layout's
# easiest to its hardest value). For each layout and difficulty we simulate, train EEGNet on a pooled
# within-subject split (fold 0 of a stratified 5-fold per subject, one model for all subjects; early
# stopping on the validation part) and report the test accuracy. Models are cached under `cache_dir`.

# %%
sweep = pd.concat([difficulty_sweep(layout, sweep_difficulties, seed=seed, quick=quick, device=nb.device,
                                    cache_dir=nb.cache_dir, **{"n_subjects": sweep_subjects, **fit_kw, **layout_kw.get(layout, {})})
                   for layout in sweep_layouts], ignore_index=True)
keep("eegnet_acc", {f"{r.layout}@{r.difficulty:g}": round(r.acc, 3) for r in sweep.itertuples()})
keep("train_seconds", round(float(sweep["train_s"].sum()), 1))
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for i, (layout, g) in enumerate(sweep.groupby("layout", sort=False)):
    ax.plot(g["difficulty"], g["acc"], "o-", label=layout, color=f"C{i}")
    ax.axhline(g["chance"].mean(), color=f"C{i}", ls=":", lw=0.8)
ax.set(xlabel="difficulty", ylabel="EEGNet test accuracy", ylim=(0, 1.02), title="accuracy by difficulty (dotted: chance)")
ax.legend()
nb.savefig(fig, "eegnet-difficulty")
sweep.round(3)

# %% [markdown]
# ## Real data
#
# With `dataset` set to `"deap"`, `"seed"`, `"eegbci"` or `"sleep-edf"` and `data_dir` pointing at the
# files (`eegnb.data.load` only reads; its errors say where each dataset is obtained), the same views are
# drawn for the real recordings. Real data have no truth; the spectra compare the channels where the
# simulation plants its evidence (solid) with the farthest ones (dashed).

# %%
if dataset != "sim":
    real = load(dataset, data_dir, subjects=real_subjects)
    display(real.summary())
    ref = [c for c in sims[dataset].info["planted"].get("channels", [])] if dataset in sims and "channels" in sims[dataset].info["planted"] else None
    if dataset == "sleep-edf":
        fig = plot_sleep_stages(real, seed=seed)
    elif dataset == "eegbci":
        fig = plot_overview(real, groups=groups, window=(1.0, 3.0), title=f"real {dataset}")
    else:
        fig = plot_overview(real, reference_channels=ref, title=f"real {dataset}")
    nb.savefig(fig, f"real-{dataset}")
    nb.record("real_shape", list(real.X.shape))

# %% [markdown]
# ## What we saw
#
# Built from the numbers this run recorded (nothing typed by hand).
#

# %%
# NBVAL_CHECK_OUTPUT
real_row = found["realism"].get("EEGBCI S001 (real)")
sim_row = found["realism"]["sim eegbci"]
cmp = (" / ".join(f"{k} {sim_row[k]:.2f} vs {real_row[k]:.2f}" for k in ["slope", "alpha_ratio", "mean_abs_corr"])
       if real_row else "no real reference in this run")
ev = found["evidence_contrast_max_gap"]
ev_txt = ", ".join(f"{k} {ev.get((k, 'planted'), float('nan')):.2f} vs {ev.get((k, 'other'), float('nan')):.2f}" for k in ["deap", "seed", "eegbci"])
acc = ", ".join(f"{k} {v:.2f}" for k, v in found["eegnet_acc"].items())
semi_txt = (f"largest |semi - real| outside the burst {found['semi_max_diff_outside_burst']:g} µV (burst SNR "
            f"{found['semi_snr']:.2f})" if "semi_snr" in found else "not run (no reference files)")
stages = ", ".join(f"{k} {v:.2f}" for k, v in found["sleep_stage_proportions"].items())
nb.report("""
- **Fast and deterministic:** each layout simulates in {t_lo:.1f}-{t_hi:.1f} s at this size.
- **Realism, simulated EEGBCI vs S001** (slope / alpha ratio / mean abs correlation): {cmp}.
- **Evidence where the truth is:** largest class contrast in log power (natural log) on channels with truth >= 0.5 vs truth < 0.05: {ev_txt}.
- **Semi-synthetic EEGBCI:** {semi_txt}.
- **EEGNet test accuracy** (layout@difficulty): {acc}.
- Simulated stage proportions: {stages}.
""", t_lo=min(found["sim_seconds"].values()), t_hi=max(found["sim_seconds"].values()), cmp=cmp, ev_txt=ev_txt, acc=acc,
          semi_txt=semi_txt, stages=stages)
