"""Writes notebooks/00_template.ipynb and 01_quickstart.ipynb (outputs empty).

Run: .venv/bin/python tools/build_foundation_notebooks.py
"""

from pathlib import Path

from eegnb.nbtools import build

NB = Path(__file__).resolve().parents[1] / "notebooks"

PARAMS = '''
dataset = "sim"  # "sim": simulated EEG with planted truth (no download); or a real dataset name
data_dir = ""  # folder with the real files when dataset is not "sim"
quick = False  # True: the CI size (about a minute on 2 cores)
seed = 0
device = "auto"  # "cpu", "cuda" or "auto"
cache_dir = "../.cache"  # trained models and explanations, keyed by their inputs
fig_dir = "../figures"
'''

build(
    NB / "00_template.ipynb",
    [
        ("md", '''
# 00 · Template: the house conventions

Every notebook in this workbook has the same shape, so that one command can regenerate all
figures and the tests can read back the key numbers. This one shows the conventions on a tiny
example; copy it to start a new notebook.

- **Regenerates:** no paper figure (`figures/00-example.png` only).
- **Runtime:** a few seconds (quick and default).

The conventions:
1. A title, what the notebook shows, which paper figure or table it regenerates, and its runtime.
2. One cell tagged `parameters` (papermill) holding plain literals only, with the shared names
   `dataset`, `data_dir`, `quick`, `seed`, `device`, `cache_dir`, `fig_dir`. Anything derived
   from them goes in the next cell, or a papermill override would not reach it.
3. `eegnb.notebook.setup(...)` seeds every generator and applies the shared plot style.
4. Figures are saved with `nb.savefig(fig, slug)` as `figures/<number>-<slug>.png`.
5. Key numbers are recorded with `nb.record(key, value)`; the tests read them back.
6. Numbers in prose come from the run: a conclusions cell ("What we saw") explains in words and
   cites the papers' values; the run's numbers follow in a code cell `nb.report("""...""")`
   whose template reads only recorded values, and every verdict ("A beats B", "not separated",
   "reproduces the paper") is computed from intervals (`nb.verdict`, `nb.vs_paper`).
7. Cells stay thin: more than ~15 lines of logic belong in the `eegnb` package.
'''),
        ("params", PARAMS),
        ("code", '''
import matplotlib.pyplot as plt
import numpy as np

import eegnb
from eegnb.data import simulate

nb = eegnb.notebook.setup("00", seed=seed, device=device, fig_dir=fig_dir, cache_dir=cache_dir, quick=quick)
n_subjects = 1 if quick else 2  # derived sizes live here, not in the parameters cell
'''),
        ("md", "Load (here: simulate) the data. `EEGData` keeps signals, labels, subjects, channel names, metadata and the planted truth aligned."),
        ("code", '''
data = simulate("deap", n_subjects=n_subjects, seed=seed, quick=True)
data
'''),
        ("md", "A figure, saved through `nb.savefig` so it lands in `fig_dir` with the notebook's number."),
        ("code", '''
fig, ax = plt.subplots(figsize=(7, 2.5))
t = np.arange(data.n_times) / data.sfreq
for k, ch in enumerate(data.ch_names[:4]):
    ax.plot(t, data.X[0, k] - 4 * k * data.X[0].std(), lw=0.7, label=ch)
ax.set(xlabel="time (s)", yticks=[], title=f"first sample, class {data.class_names[data.y[0]]}")
ax.legend(loc="upper right", fontsize=7, ncol=4)
nb.savefig(fig, "example")
'''),
        ("md", '''
Numbers that tests should check are recorded, not just printed: `nb.record(key, value)` shows the
value, embeds it for the tests and keeps it in `nb.records` for the conclusion. A number that a
comparison rests on is recorded with its interval over the unit that varies (here: samples):
`nb.record_ci(key, values, unit_name="sample")` stores `eegnb.stats.mean_ci` (mean, 95% CI,
number of units). Here: the RMS amplitude inside the planted region and outside it, per sample.
'''),
        ("code", '''
nb.record("n_samples", len(data))
nb.record("n_chans", data.n_chans)
nb.record("sfreq", data.sfreq)
inside = [np.sqrt((x[t > 0] ** 2).mean()) for x, t in zip(data.X, data.truth)]
outside = [np.sqrt((x[t == 0] ** 2).mean()) for x, t in zip(data.X, data.truth)]
nb.record_ci("rms_planted", inside, unit_name="sample")
nb.record_ci("rms_elsewhere", outside, unit_name="sample")
'''),
        ("md", '''
## What we saw

A conclusion is two cells. This markdown cell explains what the figures show and quotes the papers'
values (on a line that says so, e.g. "the paper reports ..."); it types no number of this run, which
would be wrong after a rerun or at quick size. The code cell below renders the run's numbers with
`nb.report(template, **extra)`: the template is formatted against `nb.records` (`{n_chans}`,
`{auc[gradient]:.2f}` for a nested record, `{rms_planted:ci}` for an interval), a field naming a
missing record raises a KeyError that lists the known keys, and the rendered text is shown as
Markdown and recorded under `report`. Verdicts come from intervals, never from typing:
`nb.verdict(a, b, names=...)` returns "A beats B", "B beats A" or "not separated"
(`eegnb.stats.compare`: only non-overlapping intervals separate), and `nb.vs_paper(key, value)`
says whether the interval contains a paper's value.

The simulation plants the class evidence as a burst of rhythmic activity in a few channels and a
time window, so the signal should be stronger there than in the background.
'''),
        ("code", '''
nb.report("""
**{n_samples} samples** of {n_chans} channels at {sfreq:.0f} Hz. RMS amplitude inside the planted
region {rms_planted:ci} µV, elsewhere {rms_elsewhere:ci} µV (mean [95% CI] over samples):
**{verdict}**.
""", verdict=nb.verdict("rms_planted", "rms_elsewhere", names=("the planted region", "the background")))
'''),
    ],
)

build(
    NB / "01_quickstart.ipynb",
    [
        ("md", '''
# 01 · Quickstart: simulate, train, explain, score against the truth

The whole workbook in one page: simulate DEAP-shaped EEG whose class evidence we planted
ourselves, train EEGNet on it, explain the trained model with gradient saliency through the
one entry point `eegnb.explain.explain(method, model, X)`, and check the explanation against
the planted truth. It also prints the models' trainable parameters beside the counts the papers
report (context-aware paper, Table I; frequency paper, model table).

- **Regenerates:** the parameter tables of papers 1 and 2 (`figures/01-parameters.png`), plus
  `01-gradient-vs-truth.png` and `01-training-curve.png`.
- **Runtime:** about 1 min quick, about 5 min default (EEGNet trained for 40 epochs on 8 subjects; cached afterwards), on 2 CPU cores.
'''),
        ("params", PARAMS),
        ("code", '''
import matplotlib.pyplot as plt
import numpy as np

import eegnb
from eegnb import train
from eegnb.data import load, simulate
from eegnb.explain import explain, methods_table
from eegnb.metrics import localisation_auc
from eegnb.models import parameter_table
from eegnb.plots import plot_map

nb = eegnb.notebook.setup("01", seed=seed, device=device, fig_dir=fig_dir, cache_dir=cache_dir, quick=quick)
n_subjects = 3 if quick else 8
epochs = 30 if quick else 40
difficulty = 0.3  # 0 = easiest .. 1 = hardest planted evidence
'''),
        ("md", '''
## Data

`simulate("deap", ...)` builds 32-channel, 128 Hz, 4 s segments shaped like DEAP. The class
evidence exists only where `data.truth` says (a few channels, a time window per trial); the rest
of the signal (1/f background, alpha, subject differences) is independent of the label. So a
model above chance *must* use the planted region, and an explanation can be scored against it.
With `dataset="deap"` and `data_dir` pointing at the preprocessed DEAP files, the same cells
run on the real recordings (without a truth to score against).
'''),
        ("code", '''
if dataset == "sim":
    data = simulate("deap", n_subjects=n_subjects, seed=seed, difficulty=difficulty)
else:
    data = load(dataset, data_dir, subjects=list(range(1, n_subjects + 1)))
data
'''),
        ("md", "## Train EEGNet\n\nOne subject-independent split (stratified over all samples), Adam with learning rate 0.01 (on this data 0.001 needs many more epochs), early stopping on the validation loss. Trained weights are cached under `cache_dir`, keyed by model, data, split and seed."),
        ("code", '''
split = train.subject_independent(data, seed=seed)[0]
model = train.train_model("eegnet", data, split, seed=seed, device=nb.device, cache_dir=nb.cache_dir, epochs=epochs, lr=1e-2, patience=15)
scores = train.evaluate(model, data.X[split.test], data.y[split.test], device=nb.device)
nb.record("test_acc", scores["acc"])
nb.record("test_macro_f1", scores["macro_f1"])
nb.record("n_test", len(split.test))

fig, ax = plt.subplots(figsize=(5, 2.8))
model.history.plot(x="epoch", y=["loss", "val_loss"], ax=ax)
ax.set(ylabel="cross-entropy", title=f"EEGNet: test accuracy {scores['acc']:.2f}")
nb.savefig(fig, "training-curve")
'''),
        ("md", '''
## Explain

Every method goes through `explain(method, model, X, target=None)`; the default target is the
predicted class. `METHODS` lists what is available and in which domain each map lives.
'''),
        ("code", "methods_table()"),
        ("code", '''
Xt, truth = data.X[split.test], data.truth[split.test] if data.truth is not None else None
sal = explain("gradient", model, Xt, device=nb.device)
i = int(np.argmax(scores["proba"][np.arange(len(Xt)), data.y[split.test]]))  # a confidently right sample
fig, axes = plt.subplots(1, 3 if truth is not None else 2, figsize=(13, 3.4))
plot_map(Xt[i], ax=axes[0], ch_names=data.ch_names, sfreq=data.sfreq, signed=True, title="input", cbar_label="amplitude (µV)")
plot_map(sal[i], ax=axes[1], ch_names=data.ch_names, sfreq=data.sfreq, title="gradient saliency |d logit / d x|")
if truth is not None:
    plot_map(truth[i], ax=axes[2], ch_names=data.ch_names, sfreq=data.sfreq, cmap="Greys", title="planted evidence (truth)", cbar_label="truth")
fig.tight_layout()
nb.savefig(fig, "gradient-vs-truth")
'''),
        ("md", '''
## Score the explanation against the truth

`localisation_auc` is the ROC-AUC of the map's values as a detector of the planted elements,
per sample: 0.5 is chance, 1.0 means every planted element outranks every other one. A map of
random numbers is the control.
'''),
        ("code", '''
if truth is not None:
    auc = localisation_auc(sal, truth)
    auc_random = localisation_auc(nb.rng.random(sal.shape), truth)
    nb.record("gradient_auc", float(np.nanmean(auc)))
    nb.record("random_auc", float(np.nanmean(auc_random)))
    nb.record_ci("gradient_auc_ci", auc, unit_name="sample")  # one AUC per test sample
    nb.record_ci("random_auc_ci", auc_random, unit_name="sample")
    nb.record("n_auc_undefined", int(np.isnan(auc).sum()))  # samples without planted elements: counted, not hidden
'''),
        ("md", '''
## Model sizes

Trainable parameters of our implementations beside the counts the papers report, for the input
shapes the papers used. The `note` column says where a difference comes from.
'''),
        ("code", '''
table = parameter_table()
nb.record("parameter_table", table.reset_index(drop=True).to_dict(orient="records"))
fig, ax = plt.subplots(figsize=(10, 0.4 + 0.3 * len(table)))
ax.axis("off")
cols = ["model", "dataset", "n_chans", "n_times", "ours", "paper", "difference"]
tab = ax.table(cellText=table[cols].astype(str).values, colLabels=cols, loc="center")
tab.auto_set_font_size(False)
tab.set_fontsize(8)
nb.savefig(fig, "parameters")
table
'''),
        ("md", '''
## What we saw

The planted evidence is learnable, so a model well above chance must have found it, and the
gradient of a model that uses the planted region should point there more than a map of random
numbers does. The localisation AUC of each explained test sample is one unit of the interval
below; a random map's interval sits at chance. The parameter table reproduces the papers' counts
where the note column says nothing, and explains every difference otherwise.
'''),
        ("code", '''
scored = truth is not None
verdict = nb.verdict("gradient_auc_ci", "random_auc_ci", names=("gradient saliency", "the random map")) if scored else None
nb.report("""
EEGNet reaches test accuracy **{test_acc:.2f}** (macro-F1 {test_macro_f1:.2f}; chance {chance:.2f}) on
{n_test} held-out samples.
""" + ("""
Against the planted truth, gradient saliency scores a localisation AUC of **{gradient_auc_ci:ci}** and the
random map {random_auc_ci:ci} (mean [95% CI] over test samples; {n_auc_undefined} samples without a
defined AUC): **{verdict}**.
""" if scored else "Real data: there is no truth to score the map against."), chance=1 / data.n_classes, verdict=verdict)
'''),
    ],
)
print("written")
