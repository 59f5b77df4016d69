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
# # 00 · Template: the house conventions
#
# Every notebook in this workbook has the same shape, so that one command can regenerate all
# figures and the tests can read back the key numbers. This one shows the conventions on a tiny
# example; copy it to start a new notebook.
#
# - **Regenerates:** no paper figure (`figures/00-example.png` only).
# - **Runtime:** a few seconds (quick and default).
#
# The conventions:
# 1. A title, what the notebook shows, which paper figure or table it regenerates, and its runtime.
# 2. One cell tagged `parameters` (papermill) holding plain literals only, with the shared names
#    `dataset`, `data_dir`, `quick`, `seed`, `device`, `cache_dir`, `fig_dir`. Anything derived
#    from them goes in the next cell, or a papermill override would not reach it.
# 3. `eegnb.notebook.setup(...)` seeds every generator and applies the shared plot style.
# 4. Figures are saved with `nb.savefig(fig, slug)` as `figures/<number>-<slug>.png`.
# 5. Key numbers are recorded with `nb.record(key, value)`; the tests read them back.
# 6. Numbers in prose come from the run: a conclusions cell ("What we saw") explains in words and
#    cites the papers' values; the run's numbers follow in a code cell `nb.report("""...""")`
#    whose template reads only recorded values, and every verdict ("A beats B", "not separated",
#    "reproduces the paper") is computed from intervals (`nb.verdict`, `nb.vs_paper`).
# 7. Cells stay thin: more than ~15 lines of logic belong in the `eegnb` package.

# %% tags=["parameters"]
dataset = "sim"  # "sim": simulated EEG with planted truth (no download); or a real dataset name
data_dir = ""  # folder with the real files when dataset is not "sim"
quick = False  # True: the CI size (about a minute on 2 cores)
seed = 0
device = "auto"  # "cpu", "cuda" or "auto"
cache_dir = "../.cache"  # trained models and explanations, keyed by their inputs
fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/
fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication

# %%
import numpy as np

import eegnb
from eegnb.data import simulate
from eegnb.data.views import plot_traces

nb = eegnb.notebook.setup("00", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)
n_subjects = 1 if quick else 2  # derived sizes live here, not in the parameters cell

# %% [markdown]
# Load (here: simulate) the data. `EEGData` keeps signals, labels, subjects, channel names, metadata and the planted truth aligned.

# %%
data = simulate("deap", n_subjects=n_subjects, seed=seed, quick=True)
data

# %% [markdown]
# A figure, saved through `nb.savefig` so it lands in `fig_dir` with the notebook's number.

# %%
unit = data.info.get("unit", "uV").replace("uV", "µV")
ax = plot_traces(data.X[0, :4], data.sfreq, data.ch_names[:4], unit=unit, truth=data.truth[0, :4],
                 title=f"first sample, class {data.class_names[data.y[0]]} (one amplitude scale)")
nb.savefig(ax.figure, "example")

# %% [markdown]
# Numbers that tests should check are recorded, not just printed: `nb.record(key, value)` shows the
# value, embeds it for the tests and keeps it in `nb.records` for the conclusion. A number that a
# comparison rests on is recorded with its interval over the unit that varies (here: samples):
# `nb.record_ci(key, values, unit_name="sample")` stores `eegnb.stats.mean_ci` (mean, 95% CI,
# number of units). Here: the RMS amplitude inside the planted region and outside it, per sample.

# %%
nb.record("n_samples", len(data))
nb.record("n_chans", data.n_chans)
nb.record("sfreq", data.sfreq)
inside = [np.sqrt((x[t > 0] ** 2).mean()) for x, t in zip(data.X, data.truth)]
outside = [np.sqrt((x[t == 0] ** 2).mean()) for x, t in zip(data.X, data.truth)]
nb.record_ci("rms_planted", inside, unit_name="sample")
nb.record_ci("rms_elsewhere", outside, unit_name="sample")

# %% [markdown]
# ## What we saw
#
# A conclusion is two cells. This markdown cell explains what the figures show and quotes the papers'
# values (on a line that says so, e.g. "the paper reports ..."); it types no number of this run, which
# would be wrong after a rerun or at quick size. The code cell below renders the run's numbers with
# `nb.report(template, **extra)`: the template is formatted against `nb.records` (`{n_chans}`,
# `{auc[gradient]:.2f}` for a nested record, `{rms_planted:ci}` for an interval), a field naming a
# missing record raises a KeyError that lists the known keys, and the rendered text is shown as
# Markdown and recorded under `report`. Verdicts come from intervals, never from typing:
# `nb.verdict(a, b, names=...)` returns "A beats B", "B beats A" or "not separated"
# (`eegnb.stats.compare`: only non-overlapping intervals separate), and `nb.vs_paper(key, value)`
# says whether the interval contains a paper's value.
#
# The simulation plants the class evidence as a burst of rhythmic activity in a few channels and a
# time window, so the signal should be stronger there than in the background.

# %%
# NBVAL_CHECK_OUTPUT
nb.report("""
**{n_samples} samples** of {n_chans} channels at {sfreq:.0f} Hz. RMS amplitude inside the planted
region {rms_planted:ci} µV, elsewhere {rms_elsewhere:ci} µV (mean [95% CI] over samples):
**{verdict}**.
""", verdict=nb.verdict("rms_planted", "rms_elsewhere", names=("the planted region", "the background")))
