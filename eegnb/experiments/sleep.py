"""Paper 4: LRP explanations of a multimodal sleep-staging CNN, with clinical statistics.

Reproduces the pipeline of Ellis et al. ("A Gradient-based Approach for Explaining Multimodal
Deep Learning Classifiers"): a 1-D CNN (``build("sleepcnn", ...)``) on 30-s epochs of EEG
Fpz-Cz, horizontal EOG and submental EMG at 100 Hz, trained with k-fold cross-validation by
subject (train / validation / test subjects in the paper's 17 / 2 / 3 proportion via
:func:`eegnb.train.grouped_kfold`); per fold the test epochs are explained with three LRP
rules applied to every layer (epsilon = 0.01, epsilon = 100, alpha = 1 / beta = 0; relevance
starts at the predicted class) and summarised as the percentage of absolute relevance per
modality (:mod:`eegnb.metrics.modality`). Beyond the paper: a modality-ablation baseline
(replace one modality by its per-recording mean) and, on simulated data, comparisons with the
planted truth (which modality carries each stage's evidence, which covariate effects were
planted). Walked through in ``notebooks/40_lrp_sleep_staging`` (training, LRP, figures 1-3)
and ``notebooks/41_lrp_sleep_statistics`` (OLS + FDR, figure 4).

The whole cross-validation is cached by :func:`eegnb.utils.cached` under its inputs (data
fingerprint and every setting), so notebook 41 reads notebook 40's results.

Compute knobs (CPU budget): ``max_train`` / ``max_val`` cap the epochs each fold trains and
validates on (a stage-balanced / random subsample of the fold's subjects' epochs);
``max_explain`` caps the test epochs per fold that are explained (a random subsample).
``None`` uses everything, as the paper does.

Hand-written here (no library does it): the orchestration, and :class:`ScaledLogits`, which
scales the relevance LRP starts from so that epsilon = 100 on every layer does not underflow
float32 (``eegnb.explain.explain`` always starts from the plain logit).

Second pass (beyond the paper): every map's conservation (``SleepResult.conservation``,
:func:`conservation_table` with and without biases, :func:`unstable_maps`); the statistics on
additive log-ratios of the shares with cluster-robust errors (:func:`covariate_table`
``transform="alr"``, :func:`statistics_table`, the paper's OLS beside it); the REM-containing
local window; :func:`manual_lrp_epsilon`, LRP-epsilon written out layer by layer (teaching and
a check of the library call, notebook 40's "open the hood"). The regressions are statsmodels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score, precision_recall_fscore_support

from eegnb.metrics.modality import (
    MODALITIES,
    ablation_shares,
    global_shares,
    group_shares,
    modality_ablation,
    modality_relevance,
    recording_means,
    shares_from_relevance,
)
from eegnb.progress import tqdm
from eegnb.utils import cached

#: The paper's three LRP settings, each rule applied to every conv and dense layer.
RULES: dict[str, tuple[str, dict[str, float]]] = {
    "eps0.01": ("lrp_epsilon", {"epsilon": 0.01}),
    "eps100": ("lrp_epsilon", {"epsilon": 100.0}),
    "ab10": ("lrp_alphabeta", {"alpha": 1.0, "beta": 0.0}),
}
#: Factor on the logits while explaining with a rule (see :class:`ScaledLogits`): LRP-epsilon with
#: epsilon = 100 on all 11 layers of a BatchNorm-merged network (activations of order 1) shrinks
#: relevance by about 100x per layer, to ~1e-30 at the input, near float32's underflow.
RELEVANCE_SCALE: dict[str, float] = {"eps100": 1e12}
RULE_LABELS: dict[str, str] = {
    "eps0.01": "ε = 0.01",
    "eps100": "ε = 100",
    "ab10": "α = 1, β = 0",
    "ablation": "ablation",
}
COVARIATES = ("age", "sex", "medication")


@dataclass
class SleepResult:
    """Everything one cross-validation produced (picklable; cached as a whole).

    samples: one row per test epoch (every fold): ``idx`` (row in the data), ``fold``,
        ``subject``, ``recording``, ``onset`` (s), ``true``/``pred`` (class index), ``correct``,
        ``proba`` (probability of the predicted class), ``explained``, and the covariates.
    relevance: per rule, absolute relevance per modality ``(n_samples, n_mod)``, NaN rows for
        epochs that were not explained.
    ablation_drop: ``(n_samples, n_mod)`` drop of the predicted class's probability when the
        modality is replaced by its per-recording mean (NaN where not explained).
    folds: per fold ``acc``, ``macro_f1``, sizes, ``best_epoch``, seconds (``train_s``, ``total_s``,
        ``cpu_s`` = process CPU time) and the test subjects.
    local: one row per epoch of the local recording (paper Fig. 3): ``onset`` (s), ``true``,
        ``pred``, and per rule and modality the share (%) in columns ``<rule>:<modality>``.
    logit: ``(n_samples,)`` the explained (predicted-class) logit, NaN where not explained.
    rel_sum: per rule ``(n_samples,)`` the signed sum of the input relevance (at the logit's
        scale, :data:`RELEVANCE_SCALE` undone); ``rel_sum / logit`` is the conservation of each
        map (1 = the input relevance adds up to the explained logit).
    """

    samples: pd.DataFrame
    relevance: dict[str, np.ndarray]
    ablation_drop: np.ndarray | None
    folds: pd.DataFrame
    local: pd.DataFrame | None
    class_names: list[str]
    modalities: list[str]
    config: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    logit: np.ndarray | None = None
    rel_sum: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        return list(self.relevance)

    def conservation(self, rule: str) -> np.ndarray:
        """Per sample ``sum(input relevance) / explained logit`` ``(n_samples,)`` (NaN if not explained)."""
        if rule not in self.rel_sum or self.logit is None:
            raise ValueError(f"no conservation record for rule {rule!r}; have {list(self.rel_sum)}")
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.rel_sum[rule] / self.logit

    def confusion(self) -> pd.DataFrame:
        """Confusion matrix summed over folds (rows true, columns predicted)."""
        from eegnb.metrics.modality import group_counts

        return group_counts(self.samples["true"], self.samples["pred"], self.class_names)


class ScaledLogits(torch.nn.Module):
    """``scale * net(x)``: makes LRP maps ``scale**2`` times larger and otherwise identical.

    LRP rules are linear in the relevance a layer receives, and zennit maps no rule to this
    wrapper (it is no conv/linear/activation type), so the plain gradient crosses the product:
    the explained logit is ``scale * z`` and the gradient through the product multiplies by
    ``scale`` again. Ratios such as modality shares are unchanged; float32 underflow for large
    epsilon is avoided. Geometry attributes are copied for the canonizers.
    """

    def __init__(self, net: torch.nn.Module, scale: float):
        super().__init__()
        self.net = net
        self.scale = float(scale)
        for a in ("n_chans", "n_times", "n_classes", "sfreq"):
            if hasattr(net, a):
                setattr(self, a, getattr(net, a))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * self.scale


def explain_rule(
    net: torch.nn.Module,
    X: np.ndarray,
    rule: str,
    rules: dict | None = None,
    *,
    device=None,
    batch_size: int = 128,
) -> np.ndarray:
    """LRP map ``(n, ch, t)`` of ``net`` on ``X (n, ch, t)`` for one of ``rules`` (default
    :data:`RULES`), relevance starting at the predicted class, via :func:`eegnb.explain.explain`
    (with :data:`RELEVANCE_SCALE` applied through :class:`ScaledLogits` where listed)."""
    from eegnb.explain import explain

    rules = RULES if rules is None else rules
    if rule not in rules:
        raise ValueError(f"unknown rule {rule!r}; have {list(rules)}")
    method, kw = rules[rule]
    scale = RELEVANCE_SCALE.get(rule, 1.0)
    model = ScaledLogits(net, scale) if scale != 1.0 else net
    return explain(method, model, X, device=device, batch_size=batch_size, **kw)


@torch.no_grad()
def explained_logit(
    net: torch.nn.Module, X: np.ndarray, *, device=None, batch_size: int = 128
) -> np.ndarray:
    """The logit LRP starts from (the predicted class's), ``(n,)`` for ``X (n, ch, t)``."""
    from eegnb.utils import get_device

    dev = get_device(device)
    net = net.to(dev).eval()
    out = []
    for i in range(0, len(X), batch_size):
        z = net(torch.as_tensor(np.asarray(X[i : i + batch_size]), dtype=torch.float32, device=dev))
        out.append(z.max(1).values.double().cpu().numpy())
    return np.concatenate(out)


def recording_labels(meta: pd.DataFrame) -> np.ndarray:
    """One label per epoch naming its recording: ``"<subject>-<night>"``, else ``recording``, else subject."""
    if "night" in meta.columns:
        return (meta["subject"].astype(str) + "-" + meta["night"].astype(str)).to_numpy()
    if "recording" in meta.columns:
        return meta["recording"].astype(str).to_numpy()
    return meta["subject"].astype(str).to_numpy()


def notebook_config(dataset: str = "sim", quick: bool = False) -> dict[str, Any]:
    """Sizes shared by notebooks 40 and 41 (so 41 hits 40's cache).

    - quick (CI, one to two minutes on 2 cores): 8 simulated subjects x 2 nights x 40 random
      epochs, 2 folds (4 test / 1 validation / 3 training subjects), 6 training epochs, 150
      explained test epochs per fold; the local window comes from a test subject (with gaps);
      seeds 0 and 1.
    - default (simulated): 20 subjects x 2 nights x 100 random epochs, 4 folds (5 / 2 / 13
      subjects), 1000 stage-balanced training epochs per fold (with 500, retraining fold 0 with
      three seeds gave test accuracies 0.72-0.79; with 1000, 0.90 for seed 0), at most 8 training epochs,
      early stopping on every epoch of the 2 validation subjects, every test epoch explained (the statistics use all correctly classified ones; a
      subsample of 150 per fold recovered 0-2 of the 5 planted effects); the local window is
      120 min of a freshly simulated whole night that contains REM.
    - ``seeds``: the seeds notebook 41 repeats the cross-validation with (each seed draws the
      folds, the training subsample, the initialisation and the batch order; seed 0 is notebook
      40's run); ``local_stage`` / ``local_min_stage``: the local window is chosen to contain
      that stage; ``variant_max_explain``: explained epochs per fold of the BatchNorm-free run.
    - real data (``dataset != "sim"``, paper scale; a GPU helps): Sleep-EDF telemetry
      (22 subjects), 10 folds (17 / 2 / 3), every epoch used and explained.
    """
    fit_kw = dict(epochs=8, patience=3, lr=2e-3, batch_size=32, class_weight="balanced")
    if dataset != "sim":
        return dict(
            n_subjects=None,
            epochs_per_night=None,
            k=10,
            n_val_subjects=2,
            fit_kw=dict(fit_kw, epochs=30, patience=5),
            max_train=None,
            max_val=None,
            max_explain=None,
            local_minutes=120.0,
            fresh_local=False,
            load_kw=dict(study="telemetry"),
            seeds=(0, 1, 2),
            local_stage="REM",
            local_min_stage=10,
            variant_max_explain=None,
        )
    if quick:
        return dict(
            n_subjects=8,
            epochs_per_night=40,
            k=2,
            n_val_subjects=1,
            fit_kw=dict(fit_kw, epochs=6),
            max_train=None,
            max_val=None,
            max_explain=150,
            local_minutes=120.0,
            fresh_local=False,
            load_kw={},
            seeds=(0, 1),
            local_stage="REM",
            local_min_stage=1,
            variant_max_explain=100,
        )
    return dict(
        n_subjects=20,
        epochs_per_night=100,
        k=4,
        n_val_subjects=2,
        fit_kw=fit_kw,
        max_train=1000,
        max_val=None,
        max_explain=None,
        local_minutes=120.0,
        fresh_local=True,
        load_kw={},
        seeds=(0, 1, 2),
        local_stage="REM",
        local_min_stage=10,
        variant_max_explain=100,
    )


def zscore_recordings(data, *, per: str = "recording"):
    """A copy of ``data`` with every channel z-scored within each recording (``per="recording"``,
    the paper's preprocessing; ``eegnb.data.load("sleep-edf", ..., zscore=True)`` does the same)
    or over the whole data set (``per="global"``: keeps amplitude differences between
    recordings, e.g. those the simulation plants for age, sex and medication)."""
    if per not in ("recording", "global"):
        raise ValueError(f"per must be 'recording' or 'global'; got {per!r}")
    X = data.X.copy()
    rec = recording_labels(data.meta) if per == "recording" else np.zeros(len(data), dtype=int)
    for r in pd.unique(rec):
        sel = rec == r
        mu = X[sel].mean(axis=(0, 2), keepdims=True, dtype=np.float64)
        sd = X[sel].std(axis=(0, 2), keepdims=True, dtype=np.float64)
        X[sel] = ((X[sel] - mu) / np.where(sd > 0, sd, 1.0)).astype(np.float32)
    out = data[np.arange(len(data))]
    out.X = X
    out.info = dict(data.info, zscored=f"per {per} and channel")
    if per == "global":
        out.info.update(channel_mean=mu.ravel().astype(float), channel_sd=sd.ravel().astype(float))
    return out


def load_sleep_data(
    dataset: str = "sim",
    data_dir: str = "",
    *,
    n_subjects: int | None = 20,
    epochs_per_night: int | None = None,
    seed: int = 0,
    quick: bool = False,
    normalize: str = "recording",
    cache_dir=None,
    **load_kw,
):
    """The paper-4 data set, z-scored per recording and channel; cached.

    ``dataset="sim"``: ``eegnb.data.simulate("sleep-edf", n_subjects=..., seed=...,
    epochs_per_night=...)`` (two nights per subject, placebo and temazepam; the planted truth
    maps are dropped to keep the cache small, ``info`` keeps ``modality_evidence`` and
    ``planted_effects``), z-scored per channel ``normalize="recording"`` (the paper) or
    ``"global"`` (see :func:`zscore_recordings`). Otherwise ``eegnb.data.load("sleep-edf", data_dir, **load_kw)``
    (e.g. ``study="telemetry"``, the paper's 22 subjects); ``n_subjects`` keeps the first ones.
    """

    def compute():
        if dataset == "sim":
            from eegnb.data import simulate

            kw = {} if epochs_per_night is None else dict(epochs_per_night=epochs_per_night)
            d = simulate("sleep-edf", n_subjects=n_subjects, seed=seed, quick=quick, **kw)
            d.truth = None
            return zscore_recordings(d, per=normalize)
        from eegnb.data import load

        d = load("sleep-edf", data_dir, **load_kw)
        if n_subjects is not None:
            d = d[np.isin(d.subject, d.subjects[:n_subjects])]
        return d

    key = dict(
        dataset=dataset,
        data_dir=str(data_dir),
        n_subjects=n_subjects,
        epochs_per_night=epochs_per_night,
        seed=seed,
        quick=quick,
        normalize=normalize,
        load_kw=load_kw,
    )
    return cached(cache_dir, "sleep_data", key, compute)


def local_recording(
    data,
    *,
    minutes: float = 120.0,
    fold: int = 0,
    k: int = 10,
    n_val_subjects: int = 2,
    seed: int = 0,
    fresh_seed: int | None = None,
    normalize: str = "recording",
    cache_dir=None,
    require_stage: str | None = None,
    min_stage_epochs: int = 10,
    step_minutes: float = 15.0,
):
    """A contiguous window of ``minutes`` of one night, for paper Fig. 3.

    The window starts at the night's first epoch, or, with ``require_stage`` (e.g. ``"REM"``,
    chosen deliberately so the figure shows every stage the paper discusses), at the first
    start (in steps of ``step_minutes``) whose window holds at least ``min_stage_epochs``
    epochs of that stage; ``window.info["window_start_min"]`` and ``["window_rule"]`` say
    which. ValueError when no window of the night qualifies.

    ``fresh_seed`` given (simulated data): a new subject simulated with that seed, whole nights
    (no epoch subsampling), z-scored like the data; no fold has trained on it. Otherwise the
    first test subject of fold ``fold`` of ``grouped_kfold(data, k, n_val_subjects, seed)``
    (real data holds whole nights). Returns ``(window, fold)`` for :func:`run_sleep_cv`.
    """
    if fresh_seed is not None:

        def compute():
            from eegnb.data import simulate

            d = simulate("sleep-edf", n_subjects=1, seed=fresh_seed, epochs_per_night=100_000)
            d.truth = None
            # "global": the data set's own scale, so the models see familiar amplitudes
            if normalize == "global":
                mu = np.asarray(data.info["channel_mean"])[None, :, None]
                sd = np.asarray(data.info["channel_sd"])[None, :, None]
                d.X = ((d.X - mu) / sd).astype(np.float32)
                return d
            return zscore_recordings(d)

        key = dict(
            fresh_seed=fresh_seed,
            whole_night=True,
            normalize=normalize,
            ref=np.asarray(data.info.get("channel_sd", [])).tolist(),
        )
        night = cached(cache_dir, "sleep_data", key, compute)
    else:
        from eegnb.train import grouped_kfold

        subj = grouped_kfold(data, k=k, n_val_subjects=n_val_subjects, seed=seed)[
            fold
        ].test_subjects[0]
        night = data.by_subject(subj)
    rec = recording_labels(night.meta)
    first = night[rec == rec[0]]
    onset = first.meta["onset"].to_numpy(float)
    start, rule = onset.min(), "the night's first epochs"
    if require_stage is not None:
        if require_stage not in list(night.class_names):
            raise ValueError(f"require_stage must be one of {night.class_names}; got {require_stage!r}")
        code = list(night.class_names).index(require_stage)
        for s0 in np.arange(onset.min(), onset.max(), step_minutes * 60.0):
            inside = (onset >= s0) & (onset < s0 + minutes * 60.0)
            if int((first.y[inside] == code).sum()) >= min_stage_epochs:
                start = s0
                rule = f"first window with >= {min_stage_epochs} {require_stage} epochs"
                break
        else:
            raise ValueError(f"no {minutes:.0f}-min window holds {min_stage_epochs} {require_stage} epochs")
    keep = (onset >= start) & (onset < start + minutes * 60.0)
    order = np.argsort(onset[keep], kind="stable")
    win = first[np.flatnonzero(keep)[order]]
    win.info = dict(win.info, window_start_min=float((start - onset.min()) / 60.0), window_rule=rule)
    return win, fold


def _subsample(
    idx: np.ndarray, y: np.ndarray, cap: int | None, rng: np.random.Generator, *, balanced: bool
) -> np.ndarray:
    """At most ``cap`` of ``idx``: stage-balanced (up to cap // n_classes per class, the rest
    filled at random) or uniformly at random. Sorted."""
    if cap is None or len(idx) <= cap:
        return np.sort(idx)
    if not balanced:
        return np.sort(rng.choice(idx, cap, replace=False))
    classes = np.unique(y[idx])
    per = cap // len(classes)
    take = [
        rng.choice(idx[y[idx] == c], min(per, int((y[idx] == c).sum())), replace=False)
        for c in classes
    ]
    chosen = np.concatenate(take)
    rest = np.setdiff1d(idx, chosen)
    if len(chosen) < cap and len(rest):
        chosen = np.concatenate(
            [chosen, rng.choice(rest, min(cap - len(chosen), len(rest)), replace=False)]
        )
    return np.sort(chosen)


def run_sleep_cv(
    data,
    *,
    k: int = 10,
    n_val_subjects: int = 2,
    seed: int = 0,
    model: str = "sleepcnn",
    model_kw: dict | None = None,
    fit_kw: dict | None = None,
    rules: dict[str, tuple[str, dict]] | None = None,
    max_train: int | None = None,
    max_val: int | None = None,
    max_explain: int | None = None,
    explain: str = "all",
    local_data=None,
    local_fold: int = 0,
    ablation: bool = True,
    device=None,
    batch_size: int = 128,
    cache_dir=None,
    progress: bool = True,
) -> SleepResult:
    """Cross-validate ``model`` by subject, explain every fold's test epochs with LRP; cached.

    data: an ``EEGData`` with ``ch_types`` covering ``eeg``/``eog``/``emg`` and ``meta`` with
        ``subject`` and (for the statistics) ``age``, ``sex``, ``medication``; ``night`` or
        ``recording`` names the recording (for the ablation's per-recording means).
    k, n_val_subjects: folds of :func:`eegnb.train.grouped_kfold` (22 subjects, k=10,
        n_val_subjects=2 gives the paper's 17/2/3 train/validation/test subjects).
    fit_kw: passed to :func:`eegnb.train.train_model` (``epochs``, ``lr``, ``batch_size``,
        ``patience``, ``class_weight``).
    rules: ``{label: (method, kw)}``, default :data:`RULES`.
    max_train, max_val, max_explain: compute caps (module docstring).
    explain: ``"all"`` test epochs (subject to ``max_explain``) or only the ``"correct"`` ones
        (what the statistics use; e.g. for repeated runs over seeds).
    local_data, local_fold: a contiguous stretch of one recording (``EEGData``, e.g. 120 min)
        explained epoch by epoch with the model of fold ``local_fold`` (paper Fig. 3); it must
        hold a subject that fold did not train on (a test subject of that fold, or a fresh
        simulated one).
    Returns a :class:`SleepResult`; cached under ``cache_dir/sleep_cv``.
    """
    rules = dict(RULES if rules is None else rules)
    config = dict(
        k=k,
        n_val_subjects=n_val_subjects,
        seed=seed,
        model=model,
        model_kw=model_kw or {},
        fit_kw=fit_kw or {},
        rules={r: [m, kw] for r, (m, kw) in rules.items()},
        max_train=max_train,
        max_val=max_val,
        max_explain=max_explain,
        ablation=ablation,
        local_fold=int(local_fold),
    )
    if explain not in ("all", "correct"):
        raise ValueError(f"explain must be 'all' or 'correct'; got {explain!r}")
    if explain != "all":
        config["explain"] = explain  # only when set, so existing cache keys stay valid
    for m in MODALITIES:
        if m not in [str(t).lower() for t in data.ch_types]:
            raise ValueError(
                f"data needs a channel of each type {MODALITIES}; ch_types are {data.ch_types}"
            )
    if local_data is not None and not 0 <= local_fold < k:
        raise ValueError(f"local_fold must lie in 0..{k - 1}; got {local_fold}")
    key = dict(
        data=data.fingerprint(),
        local=None if local_data is None else local_data.fingerprint(),
        config=config,
        version=3,
    )

    def compute() -> SleepResult:
        return _run(
            data,
            config,
            rules,
            local_data,
            device=device,
            batch_size=batch_size,
            cache_dir=cache_dir,
            progress=progress,
        )

    return cached(cache_dir, "sleep_cv", key, compute)


def _run(
    data, config, rules, local_data, *, device, batch_size, cache_dir, progress
) -> SleepResult:
    import time

    from eegnb.train import Split, evaluate, grouped_kfold, train_model

    t0 = time.time()
    rng = np.random.default_rng(config["seed"])
    ch_types = [str(t).lower() for t in data.ch_types]
    rec = recording_labels(data.meta)
    splits = grouped_kfold(
        data, k=config["k"], n_val_subjects=config["n_val_subjects"], seed=config["seed"]
    )
    rows, rel_parts, drop_parts, fold_rows, local = [], {r: [] for r in rules}, [], [], None
    sum_parts, logit_parts = {r: [] for r in rules}, []
    for f, split in enumerate(tqdm(splits, desc="folds", disable=not progress)):
        t_fold, cpu_fold = time.time(), time.process_time()
        tr = _subsample(split.train, data.y, config["max_train"], rng, balanced=True)
        va = _subsample(split.val, data.y, config["max_val"], rng, balanced=False)
        sub = Split(split.name, tr, va, split.test, list(split.test_subjects))
        net = train_model(
            config["model"],
            data,
            sub,
            seed=config["seed"],
            device=device,
            cache_dir=cache_dir,
            model_kw=config["model_kw"],
            progress=False,
            **config["fit_kw"],
        )
        t_train = time.time() - t_fold
        te = np.sort(split.test)
        ev = evaluate(net, data.X[te], data.y[te], device=device)
        pick = _subsample(
            np.arange(len(te)), data.y[te], config["max_explain"], rng, balanced=False
        )
        expl = np.zeros(len(te), bool)
        expl[pick] = True
        if config.get("explain", "all") == "correct":
            expl &= ev["y_pred"] == data.y[te]
        xe = data.X[te[expl]]
        lg = np.full(len(te), np.nan)
        if expl.any():
            lg[expl] = explained_logit(net, xe, device=device, batch_size=batch_size)
        logit_parts.append(lg)
        for r in rules:
            rel = np.full((len(te), len(MODALITIES)), np.nan)
            tot = np.full(len(te), np.nan)
            if expl.any():
                maps = explain_rule(net, xe, r, rules, device=device, batch_size=batch_size)
                rel[expl] = modality_relevance(maps, ch_types, MODALITIES)
                tot[expl] = maps.astype(np.float64).sum((1, 2)) / RELEVANCE_SCALE.get(r, 1.0) ** 2
                del maps
            rel_parts[r].append(rel)
            sum_parts[r].append(tot)
        if config["ablation"]:
            drop = np.full((len(te), len(MODALITIES)), np.nan)
            if expl.any():
                means = recording_means(data.X[te], rec[te])[expl]
                drop[expl] = modality_ablation(
                    net,
                    xe,
                    ch_types,
                    rec[te][expl],
                    means=means,
                    device=device,
                    batch_size=batch_size,
                )["drop"]
            drop_parts.append(drop)
        s = pd.DataFrame(
            dict(
                idx=te,
                fold=f,
                subject=data.subject[te],
                recording=rec[te],
                true=data.y[te],
                pred=ev["y_pred"],
                proba=ev["proba"].max(1),
                explained=expl,
            )
        )
        s["onset"] = data.meta["onset"].to_numpy()[te] if "onset" in data.meta.columns else np.nan
        for c in COVARIATES:
            if c in data.meta.columns:
                s[c] = data.meta[c].to_numpy()[te]
        rows.append(s)
        if local_data is not None and f == config["local_fold"]:
            local = _explain_local(net, local_data, rules, device=device, batch_size=batch_size)
        hist = getattr(net, "history", None)
        fold_rows.append(
            dict(
                fold=f,
                acc=ev["acc"],
                macro_f1=ev["macro_f1"],
                n_train=len(tr),
                n_val=len(va),
                n_test=len(te),
                n_explained=int(expl.sum()),
                epochs_run=0 if hist is None else len(hist),
                best_epoch=None
                if hist is None or "val_loss" not in hist
                else int(hist["val_loss"].idxmin()),
                train_s=round(t_train, 1),
                total_s=round(time.time() - t_fold, 1),
                cpu_s=round(time.process_time() - cpu_fold, 1),
                test_subjects=[int(x) for x in split.test_subjects],
            )
        )
    samples = pd.concat(rows, ignore_index=True)
    samples["correct"] = samples["true"] == samples["pred"]
    return SleepResult(
        samples=samples,
        relevance={r: np.concatenate(v) for r, v in rel_parts.items()},
        ablation_drop=np.concatenate(drop_parts) if drop_parts else None,
        folds=pd.DataFrame(fold_rows),
        local=local,
        class_names=list(data.class_names),
        modalities=list(MODALITIES),
        config=config,
        seconds=time.time() - t0,
        logit=np.concatenate(logit_parts),
        rel_sum={r: np.concatenate(v) for r, v in sum_parts.items()},
    )


def _explain_local(net, local, rules, *, device, batch_size) -> pd.DataFrame:
    from eegnb.explain import predict

    ch_types = [str(t).lower() for t in local.ch_types]
    proba = predict(net, local.X, device=device)
    onset = (
        local.meta["onset"].to_numpy(float)
        if "onset" in local.meta.columns
        else np.arange(len(local)) * 30.0
    )
    out = pd.DataFrame(dict(onset=onset, true=local.y, pred=proba.argmax(1), proba=proba.max(1)))
    for r in rules:
        maps = explain_rule(net, local.X, r, rules, device=device, batch_size=batch_size)
        sh = shares_from_relevance(modality_relevance(maps, ch_types, MODALITIES))
        for j, m in enumerate(MODALITIES):
            out[f"{r}:{m}"] = sh[:, j]
    return out.sort_values("onset", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- performance


def cv_metrics(res: SleepResult) -> dict[str, float]:
    """Pooled accuracy and macro-F1 over every fold's test epochs, and their fold means."""
    s = res.samples
    labels = range(len(res.class_names))
    return dict(
        acc=float(s["correct"].mean()),
        macro_f1=float(
            f1_score(s["true"], s["pred"], average="macro", labels=labels, zero_division=0)
        ),
        fold_acc_mean=float(res.folds["acc"].mean()),
        fold_acc_sd=float(res.folds["acc"].std()),
        fold_macro_f1_mean=float(res.folds["macro_f1"].mean()),
    )


def per_class_report(res: SleepResult) -> pd.DataFrame:
    """Precision, recall, F1 and support per stage over all folds (sklearn)."""
    p, r, f, n = precision_recall_fscore_support(
        res.samples["true"],
        res.samples["pred"],
        labels=range(len(res.class_names)),
        zero_division=0,
    )
    return pd.DataFrame(
        dict(precision=p, recall=r, f1=f, support=n), index=pd.Index(res.class_names, name="stage")
    )


# ---------------------------------------------------------------- relevance shares


def _rel(res: SleepResult, rule: str) -> np.ndarray:
    if rule == "ablation":
        if res.ablation_drop is None:
            raise ValueError("this result was computed with ablation=False")
        return np.clip(res.ablation_drop, 0, None)
    if rule not in res.relevance:
        raise ValueError(f"unknown rule {rule!r}; have {res.rules} and 'ablation'")
    return res.relevance[rule]


def shares_frame(res: SleepResult, rules: Sequence[str] | None = None) -> pd.DataFrame:
    """Long table of per-sample shares of the explained epochs: one row per sample x rule x modality.

    Columns: the sample columns of ``res.samples``, ``stage`` / ``pred_stage`` (names),
    ``rule``, ``modality``, ``share`` (%). ``rules`` may include ``"ablation"`` (positive
    probability drops normalised to 100 %).
    """
    rules = list(res.rules if rules is None else rules)
    s = res.samples[res.samples["explained"]].copy()
    s["stage"] = np.asarray(res.class_names)[s["true"]]
    s["pred_stage"] = np.asarray(res.class_names)[s["pred"]]
    out = []
    for r in rules:
        rel = _rel(res, r)[s.index]
        sh = ablation_shares(rel) if r == "ablation" else shares_from_relevance(rel)
        for j, m in enumerate(res.modalities):
            out.append(s.assign(rule=r, modality=m, share=sh[:, j]))
    return pd.concat(out, ignore_index=True)


def global_table(
    res: SleepResult, rules: Sequence[str] | None = None, *, pooled: bool = False
) -> pd.DataFrame:
    """Per fold and modality, the share over all explained test epochs (paper Fig. 1), per rule.

    Default: the mean of the per-epoch shares. ``pooled=True`` sums absolute relevance over the
    fold's epochs first; under epsilon = 100 relevance magnitudes span orders of magnitude
    between epochs, so the pooled share is that of the few epochs with the largest relevance.
    """
    s = res.samples[res.samples["explained"]]
    out = [
        global_shares(
            _rel(res, r)[s.index], s["fold"].to_numpy(), modalities=res.modalities, pooled=pooled
        ).assign(rule=r)
        for r in (rules or res.rules)
    ]
    return pd.concat(out, ignore_index=True)


def group_table(
    res: SleepResult, rules: Sequence[str] | None = None, *, pooled: bool = False
) -> pd.DataFrame:
    """Per fold, classification group (true x predicted) and modality, the share (paper Fig. 2),
    per rule (mean of per-epoch shares; ``pooled`` as in :func:`global_table`)."""
    s = res.samples[res.samples["explained"]]
    out = [
        group_shares(
            _rel(res, r)[s.index],
            s["true"].to_numpy(),
            s["pred"].to_numpy(),
            s["fold"].to_numpy(),
            res.class_names,
            modalities=res.modalities,
            pooled=pooled,
        ).assign(rule=r)
        for r in (rules or res.rules)
    ]
    return pd.concat(out, ignore_index=True)


def stage_shares(
    res: SleepResult, rules: Sequence[str] | None = None, *, correct_only: bool = True
) -> pd.DataFrame:
    """Mean per-sample share (%) per rule x true stage (rows) and modality (columns).

    ``correct_only``: only correctly classified epochs (the diagonal of paper Fig. 2).
    """
    df = shares_frame(res, rules)
    if correct_only:
        df = df[df["correct"]]
    tab = df.pivot_table(
        index=["rule", "stage"], columns="modality", values="share", aggfunc="mean", observed=True
    )
    order = [
        (r, st) for r in (rules or res.rules) for st in res.class_names if (r, st) in tab.index
    ]
    return tab.loc[order, list(res.modalities)]


# ---------------------------------------------------------------- truth comparisons


def ranking_vs_truth(
    res: SleepResult, modality_evidence: dict[str, str], rules: Sequence[str] | None = None
) -> pd.DataFrame:
    """Does the modality with the largest mean share match the planted one, per rule and stage?

    modality_evidence: ``{stage: modality}`` (``data.info["modality_evidence"]``). Uses
    correctly classified epochs. Columns: ``rule``, ``stage``, ``planted``, ``top``, ``match``,
    ``planted_rank`` (1 = largest share), ``planted_share`` (%), ``n``.
    """
    rules = list(rules or res.rules)
    tab = stage_shares(res, rules)
    df = shares_frame(res, rules)
    n = df[df["correct"] & (df["modality"] == res.modalities[0])].groupby(["rule", "stage"]).size()
    rows = []
    for r in rules:
        for stage, mod in modality_evidence.items():
            mod = str(mod).lower()
            if (r, stage) not in tab.index:
                rows.append(
                    dict(
                        rule=r,
                        stage=stage,
                        planted=mod,
                        top=None,
                        match=False,
                        planted_rank=np.nan,
                        planted_share=np.nan,
                        n=0,
                    )
                )
                continue
            v = tab.loc[(r, stage)]
            ranks = v.rank(ascending=False)
            rows.append(
                dict(
                    rule=r,
                    stage=stage,
                    planted=mod,
                    top=str(v.idxmax()),
                    match=str(v.idxmax()) == mod,
                    planted_rank=float(ranks[mod]),
                    planted_share=float(v[mod]),
                    n=int(n.get((r, stage), 0)),
                )
            )
    return pd.DataFrame(rows)


def logratio_frame(
    res: SleepResult, rule: str = "eps100", *, reference: str = "eeg"
) -> pd.DataFrame:
    """Long table of additive log-ratios ``log(share_m / share_reference)`` per explained sample.

    One row per sample x non-reference modality (``modality`` = the numerator, ``reference``);
    columns as :func:`shares_frame` with ``share`` replaced by ``logratio``. Samples with a zero
    share (no log-ratio) are dropped and counted in ``attrs["n_zero_dropped"]``.
    """
    from eegnb.stats import log_ratios

    if reference not in res.modalities:
        raise ValueError(f"reference must be one of {res.modalities}; got {reference!r}")
    wide = shares_frame(res, [rule]).pivot_table(
        index="idx", columns="modality", values="share", observed=True
    )[list(res.modalities)]
    ok = (wide > 0).all(1) & np.isfinite(wide).all(1)
    ref = res.modalities.index(reference)
    lr = log_ratios(wide[ok].to_numpy(), kind="alr", reference=ref)
    others = [m for m in res.modalities if m != reference]
    s = res.samples[res.samples["explained"]].set_index("idx").loc[wide.index[ok]].reset_index()
    s["stage"] = np.asarray(res.class_names)[s["true"]]
    s["pred_stage"] = np.asarray(res.class_names)[s["pred"]]
    out = pd.concat(
        [s.assign(rule=rule, modality=m, reference=reference, logratio=lr[:, j]) for j, m in enumerate(others)],
        ignore_index=True,
    )
    out.attrs["n_zero_dropped"] = int((~ok).sum())
    return out


#: Which errors each analysis of :func:`statistics_table` uses.
ANALYSES: dict[str, dict[str, Any]] = {
    "shares, OLS (paper)": dict(transform="share", cluster=None),
    "shares, cluster-robust by subject": dict(transform="share", cluster="subject"),
    "log-ratios, OLS": dict(transform="alr", cluster=None),
    "log-ratios, cluster-robust by recording": dict(transform="alr", cluster="recording"),
    "log-ratios, cluster-robust by subject (primary)": dict(transform="alr", cluster="subject"),
}
PRIMARY = "log-ratios, cluster-robust by subject (primary)"
PAPER = "shares, OLS (paper)"


def covariate_table(
    res: SleepResult,
    rule: str = "eps100",
    *,
    alpha: float = 0.05,
    correct_only: bool = True,
    cluster: str | None = None,
    transform: str = "share",
    reference: str = "eeg",
) -> pd.DataFrame:
    """Paper Fig. 4: per correctly classified stage and modality, OLS of the share on age, sex,
    medication; Benjamini-Hochberg FDR over all tests of the rule (the family: every stage x
    modality x covariate coefficient, 45 with five stages). See :func:`eegnb.stats.regress_groups`.

    ``cluster``: a sample column (``"subject"`` or ``"recording"``) for cluster-robust errors
    with t tests on clusters - 1 df (beyond the paper). ``transform="alr"``: regress the
    additive log-ratios ``log(share_m / share_reference)`` of the two non-reference modalities
    instead (:func:`logratio_frame`): the three shares sum to 100 %, so their three
    coefficients per stage and covariate sum to exactly zero and the 45 share tests carry only
    30 independent ones; the 30 log-ratio tests are those 30 (the FDR family then has 30
    tests). ``attrs["fdr_family"]`` describes the family.
    """
    from eegnb.stats import regress_groups

    if transform not in ("share", "alr"):
        raise ValueError(f"transform must be 'share' or 'alr'; got {transform!r}")
    df = shares_frame(res, [rule]) if transform == "share" else logratio_frame(res, rule, reference=reference)
    missing = [c for c in COVARIATES if c not in df.columns]
    if missing:
        raise ValueError(
            f"the data's meta lacks covariates {missing}; the statistics need {COVARIATES}"
        )
    if cluster is not None and cluster not in df.columns:
        raise ValueError(f"cluster must be a sample column such as 'subject' or 'recording'; got {cluster!r}")
    if correct_only:
        df = df[df["correct"]]
    mods = res.modalities if transform == "share" else [m for m in res.modalities if m != reference]
    df = df.assign(
        stage=pd.Categorical(df["stage"], res.class_names),
        modality=pd.Categorical(df["modality"], mods),
    )
    response = "share" if transform == "share" else "logratio"
    tab = regress_groups(
        df,
        response,
        by=("stage", "modality"),
        covariates=COVARIATES,
        alpha=alpha,
        cluster=cluster,
        use_t=True if cluster else None,
    )
    tab["stage"], tab["modality"] = tab["stage"].astype(str), tab["modality"].astype(str)
    tab = tab.assign(rule=rule, transform=transform, reference=reference if transform == "alr" else "")
    what = "share" if transform == "share" else f"log(share / {reference.upper()} share)"
    tab.attrs["fdr_family"] = (
        f"{len(tab)} tests: every stage x {what} x covariate coefficient of LRP {RULE_LABELS.get(rule, rule)}, BH at q = {alpha}"
    )
    tab.attrs["fdr_family_size"] = int(len(tab))
    return tab


def _sign(v) -> int:
    if isinstance(v, str):
        v = v.strip()
        if v in ("+", "up", "increase", "positive"):
            return 1
        if v in ("-", "−", "down", "decrease", "negative"):
            return -1
        v = float(v)
    return int(np.sign(float(v)))


def effects_vs_truth(coef: pd.DataFrame, planted: pd.DataFrame) -> pd.DataFrame:
    """Which planted covariate effects does the regression recover with the right sign?

    coef: :func:`covariate_table` output; planted: ``data.info["planted_effects"]`` with
    ``stage``, ``modality``, ``covariate``, ``sign`` (+1/-1 or "+"/"-"), ``description``, and
    ``attrs["coding"]`` naming the covariate coding the signs refer to (signs are converted to
    :mod:`eegnb.stats`' coding: male = 1, temazepam = 1). Returns the planted rows with ``coef``, ``p_fdr``, ``significant``, ``sign_ok`` and
    ``recovered`` (significant and of the planted sign).
    """
    p = planted.copy()
    p["modality"] = p["modality"].astype(str).str.lower()
    p["sign"] = p["sign"].map(_sign)
    # eegnb.stats codes sex male = 1 (the paper's direction); flip effects planted as female = 1
    coding = dict(getattr(planted, "attrs", {}).get("coding", {}))
    if "female=1" in str(coding.get("sex", "")).replace(" ", "").lower():
        p.loc[p["covariate"] == "sex", "sign"] *= -1
    if "placebo=1" in str(coding.get("medication", "")).replace(" ", "").lower():
        p.loc[p["covariate"] == "medication", "sign"] *= -1
    cols = ["stage", "modality", "covariate", "coef", "se", "p_fdr", "significant"]
    c = coef[cols].astype(
        dict(stage=str, modality=str, covariate=str, coef=float, se=float, p_fdr=float)
    )
    ref = ""
    if "transform" in coef.columns and (coef["transform"] == "alr").any():
        ref = str(coef["reference"].iloc[0])
    if not ref:
        out = p.merge(c, on=["stage", "modality", "covariate"], how="left")
        out["significant"] = out["significant"].fillna(False).astype(bool)
        out["sign_ok"] = np.sign(out["coef"]) == out["sign"]
        out["recovered"] = out["significant"] & out["sign_ok"]
        return out
    # log(m / ref) rises with m's share: an effect on m != ref is read off that ratio with its
    # sign; an effect on the reference moves every ratio the other way: read off the ratio with
    # the smallest p_FDR, sign flipped
    rows = []
    for e in p.itertuples(index=False):
        g = c[(c.stage == e.stage) & (c.covariate == e.covariate)]
        if e.modality != ref:
            g = g[g.modality == e.modality]
            flip = 1
        else:
            flip = -1
        if len(g) == 0:
            rows.append(dict(coef=np.nan, se=np.nan, p_fdr=np.nan, significant=False, sign_ok=False, read_off=""))
            continue
        b = g.sort_values("p_fdr", kind="stable").iloc[0]
        ok = bool(np.sign(flip * b.coef) == e.sign)
        rows.append(dict(coef=float(flip * b.coef), se=float(b.se), p_fdr=float(b.p_fdr),
                         significant=bool(b.significant), sign_ok=ok, read_off=f"log({b.modality}/{ref})"))
    out = pd.concat([p.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    out["recovered"] = out["significant"] & out["sign_ok"]
    return out


def statistics_table(
    res: SleepResult,
    planted: pd.DataFrame | None = None,
    rule: str = "eps100",
    *,
    analyses: dict[str, dict[str, Any]] | None = None,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The Fig. 4 analysis side by side with the compositional, cluster-robust ones.

    Runs :func:`covariate_table` for each of ``analyses`` (default :data:`ANALYSES`: the
    paper's OLS on shares, the primary cluster-robust-by-subject model on log-ratios, and
    variants) on every correctly classified explained epoch. Returns a summary (one row per
    analysis: ``tests`` = FDR family size, ``significant``, ``recovered`` planted effects,
    ``n_epochs``, ``n_clusters``) and the coefficient tables.
    """
    analyses = ANALYSES if analyses is None else analyses
    tabs, rows = {}, {}
    for name, kw in analyses.items():
        tab = covariate_table(res, rule, alpha=alpha, **kw)
        tabs[name] = tab
        s = res.samples[res.samples["explained"] & res.samples["correct"]]
        hits = effects_vs_truth(tab, planted) if planted is not None else None
        rows[name] = dict(
            tests=int(len(tab)),
            significant=int(tab["significant"].sum()),
            recovered=None if hits is None else int(hits["recovered"].sum()),
            n_planted=None if planted is None else int(len(planted)),
            n_epochs=int(len(s)),
            n_clusters=int(s[kw["cluster"]].nunique()) if kw.get("cluster") else None,
        )
    return pd.DataFrame(rows).T, tabs


def covariate_robustness(
    res: SleepResult, planted: pd.DataFrame | None = None, rule: str = "eps100"
) -> tuple[pd.DataFrame, list[str]]:
    """How the Fig. 4 conclusions depend on the errors and the rule (beyond the paper).

    Runs :func:`covariate_table` for ``rule`` with plain and cluster-robust (by subject) errors
    and for the other rules with plain errors. Returns a table (one row per variant: ``tests``,
    ``significant``, ``recovered`` planted effects) and the planted effects
    (``"stage modality covariate"``) recovered by the plain OLS of at least one rule.
    """
    variants = {f"{rule} (OLS)": covariate_table(res, rule)}
    variants[f"{rule} (cluster-robust)"] = covariate_table(res, rule, cluster="subject")
    variants.update({f"{r} (OLS)": covariate_table(res, r) for r in res.rules if r != rule})
    rows, any_rule = {}, set()
    for name, tab in variants.items():
        hits = effects_vs_truth(tab, planted).query("recovered") if planted is not None else None
        rows[name] = dict(
            tests=len(tab),
            significant=int(tab["significant"].sum()),
            recovered=None if hits is None else len(hits),
        )
        if hits is not None and name.endswith("(OLS)"):
            any_rule |= {f"{h.stage} {h.modality} {h.covariate}" for h in hits.itertuples()}
    return pd.DataFrame(rows).T, sorted(any_rule)


# ---------------------------------------------------------------- conservation and the hood


def unstable_maps(ratio, lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    """Flag maps whose conservation ``sum(relevance) / logit`` lies outside ``[lo, hi]``.

    ratio: ``(n,)`` (:meth:`SleepResult.conservation`); NaN (not explained) is not flagged.
    A map that puts twice the logit (or less than half of it, or the opposite sign) on the
    input is numerically dominated by the stabiliser and the biases, not by the input: its
    shares are counted and shown apart, never dropped silently.
    """
    r = np.asarray(ratio, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(r) & ~((r >= lo) & (r <= hi))


def fold_model(data, res: SleepResult, fold: int, *, device=None, cache_dir=None) -> torch.nn.Module:
    """The trained model of ``fold`` of ``res`` (from the model cache; retrained if missing),
    with the training subsample replayed exactly as :func:`run_sleep_cv` drew it."""
    from eegnb.train import Split, grouped_kfold, train_model

    cfg = res.config
    if not 0 <= fold < cfg["k"]:
        raise ValueError(f"fold must lie in 0..{cfg['k'] - 1}; got {fold}")
    rng = np.random.default_rng(cfg["seed"])
    splits = grouped_kfold(data, k=cfg["k"], n_val_subjects=cfg["n_val_subjects"], seed=cfg["seed"])
    for f, split in enumerate(splits):
        tr = _subsample(split.train, data.y, cfg["max_train"], rng, balanced=True)
        va = _subsample(split.val, data.y, cfg["max_val"], rng, balanced=False)
        te = np.sort(split.test)
        if f == fold:
            sub = Split(split.name, tr, va, split.test, list(split.test_subjects))
            return train_model(cfg["model"], data, sub, seed=cfg["seed"], device=device,
                               cache_dir=cache_dir, model_kw=cfg["model_kw"], progress=False, **cfg["fit_kw"])
        _subsample(np.arange(len(te)), data.y[te], cfg["max_explain"], rng, balanced=False)
    raise AssertionError("unreachable")


def conservation_table(
    net: torch.nn.Module,
    X: np.ndarray,
    rules: dict | None = None,
    *,
    device=None,
    batch_size: int = 128,
) -> pd.DataFrame:
    """Input-level conservation of every rule with and without biases on ``X (n, ch, t)``.

    For each rule (default :data:`RULES`): ``sum(map) / explained logit`` per sample, once as
    the paper runs the rule (biases in the rule, so merged-BatchNorm shifts and conv biases
    absorb relevance) and once with ``zero_params="bias"`` (biases left out: only the
    stabiliser can absorb relevance). Returns one row per sample x rule x variant: ``sample``,
    ``rule``, ``bias`` (``"with biases (paper)"`` / ``"biases left out"``), ``ratio``,
    ``unstable`` (:func:`unstable_maps`).
    """
    rules = RULES if rules is None else rules
    logit = explained_logit(net, X, device=device, batch_size=batch_size)
    rows = []
    for r, (method, kw) in rules.items():
        for label, extra in (("with biases (paper)", {}), ("biases left out", dict(zero_params="bias"))):
            maps = explain_rule(net, X, r, {r: (method, dict(kw, **extra))}, device=device, batch_size=batch_size)
            ratio = maps.astype(np.float64).sum((1, 2)) / RELEVANCE_SCALE.get(r, 1.0) ** 2 / logit
            rows.append(pd.DataFrame(dict(sample=np.arange(len(X)), rule=r, bias=label, ratio=ratio,
                                          unstable=unstable_maps(ratio))))
    return pd.concat(rows, ignore_index=True)


class MergedBatchNorm(torch.nn.Module):
    """What zennit's BatchNorm merge leaves in place of a BatchNorm: ``x / sqrt(1 + bn_eps)``
    (an identity up to BatchNorm's eps). :func:`eegnb.explain.lrp.make_composite` gives it the
    epsilon rule, so with LRP-epsilon it is one more stabilised layer: ``R_in = R z / (z +
    epsilon sign z)`` (negligible for epsilon = 0.01, a shrinkage for epsilon = 100)."""

    def __init__(self, bn_eps: float):
        super().__init__()
        self.gain = float(1.0 / np.sqrt(1.0 + bn_eps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain


def merged_layers(net: torch.nn.Module) -> list[torch.nn.Module]:
    """The sleep CNN as a flat list of layers in forward order, each BatchNorm folded into the
    conv before it (``torch.nn.utils.fusion.fuse_conv_bn_eval``: the LRP canonizer's merge) and
    followed by the :class:`MergedBatchNorm` identity the canonizer leaves; the dropouts
    (identities in eval mode) left out. ``net`` is not modified."""
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    net = copy.deepcopy(net).eval()  # fusion needs eval-mode BatchNorm statistics
    flat: list[torch.nn.Module] = []
    for block in (net.features, net.head):
        for m in block.modules():
            if isinstance(m, torch.nn.Sequential):
                continue
            if isinstance(m, (torch.nn.Dropout, torch.nn.Dropout1d)):
                continue
            if isinstance(m, torch.nn.BatchNorm1d):
                if not flat or not isinstance(flat[-1], torch.nn.Conv1d):
                    raise ValueError("a BatchNorm that follows no conv cannot be merged")
                flat[-1] = fuse_conv_bn_eval(flat[-1], m)
                flat.append(MergedBatchNorm(m.eps))
                continue
            flat.append(copy.deepcopy(m).eval())
    return flat


def manual_lrp_epsilon(net: torch.nn.Module, X: np.ndarray, epsilon: float = 0.01, target=None) -> np.ndarray:
    """LRP-epsilon written out layer by layer on :func:`merged_layers` (what notebook 40's
    "open the hood" cell runs): ``R_in = a * W^T (R_out / (z + epsilon sign z))`` on every conv
    and dense layer (the identities merged BatchNorms leave pass relevance unchanged, as in the
    library),
    relevance passed unchanged through ReLU and routed to the winners of the max poolings. ``X (n, ch, t)`` -> ``(n, ch, t)``; target: default the predicted class."""
    from zennit.core import stabilize

    layers = merged_layers(net)
    a = [torch.as_tensor(np.asarray(X), dtype=torch.float32)]
    with torch.no_grad():
        for L in layers:
            a.append(L(a[-1]))
    t = a[-1].argmax(1) if target is None else torch.as_tensor(np.broadcast_to(target, (len(X),)))
    R = torch.zeros_like(a[-1]).scatter(1, t[:, None], a[-1].gather(1, t[:, None]))
    for L, ai in zip(layers[::-1], a[-2::-1]):
        if isinstance(L, (torch.nn.Conv1d, torch.nn.Linear)):
            s = R / stabilize(L(ai), epsilon)
            c = s @ L.weight if isinstance(L, torch.nn.Linear) else torch.nn.functional.conv_transpose1d(s, L.weight)
            R = (ai * c).detach()
        elif isinstance(L, MergedBatchNorm):  # the identity a merge leaves: relevance passes unchanged
            continue
        elif not isinstance(L, torch.nn.ReLU):  # pools, flatten: relevance follows the gradient
            x = ai.clone().requires_grad_(True)
            (R,) = torch.autograd.grad(L(x), x, R)
    return R.numpy()


# ---------------------------------------------------------------- seeds and variants


def seed_summary(res: SleepResult, planted: pd.DataFrame | None, rule: str = "eps100") -> dict[str, Any]:
    """Accuracy, macro-F1 and recovered planted effects (paper analysis and primary) of one run."""
    m = cv_metrics(res)
    out = dict(acc=m["acc"], macro_f1=m["macro_f1"], seed=int(res.config["seed"]))
    if planted is not None:
        tab, _ = statistics_table(res, planted, rule, analyses={k: ANALYSES[k] for k in (PAPER, PRIMARY)})
        out.update(recovered_paper=int(tab.loc[PAPER, "recovered"]), recovered_primary=int(tab.loc[PRIMARY, "recovered"]),
                   significant_paper=int(tab.loc[PAPER, "significant"]), significant_primary=int(tab.loc[PRIMARY, "significant"]))
    return out
