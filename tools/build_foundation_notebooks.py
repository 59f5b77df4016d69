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
6. Cells stay thin: more than ~15 lines of logic belong in the `eegnb` package.
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
        ("md", "Numbers that tests should check are recorded, not just printed."),
        ("code", '''
nb.record("n_samples", len(data))
nb.record("n_chans", data.n_chans)
nb.record("sfreq", data.sfreq)
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
- **Runtime:** about 30 s quick, 1-2 min default, on 2 CPU cores.
'''),
        ("params", PARAMS),
        ("code", '''
import matplotlib.pyplot as plt
import numpy as np

import eegnb
from eegnb import train
from eegnb.data import load, simulate
from eegnb.explain import METHODS, explain, methods_table
from eegnb.metrics import localisation_auc
from eegnb.models import parameter_table
from eegnb.plots import plot_map

nb = eegnb.notebook.setup("01", seed=seed, device=device, fig_dir=fig_dir, cache_dir=cache_dir, quick=quick)
n_subjects = 3 if quick else 8
epochs = 30 if quick else 80
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
    print(f"gradient AUC {np.nanmean(auc):.3f} ± {np.nanstd(auc) / np.sqrt(np.isfinite(auc).sum()):.3f} (SEM); random {np.nanmean(auc_random):.3f}")
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
    ],
)
print("written")
