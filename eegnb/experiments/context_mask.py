"""Paper 1 experiments (Wang et al., IEEE TBME 2022): per-subject models, maps, removal games.

:func:`run` trains one model per subject, model and label dimension (within-subject, first
fold of :func:`eegnb.train.within_subject_kfold`), explains that subject's held-out segments
with the context mask (plus its no-context ablation and area-limited variant where
configured), the captum gradient baseline and a random map, then plays the removal games of
:mod:`eegnb.metrics.removal` and scores each map against the planted truth
(:func:`eegnb.metrics.localisation_auc`, simulated data only). Every (label, subject, model)
unit is cached with :func:`eegnb.utils.cached` keyed by the configuration, the data
fingerprint and the subject; trained weights are cached by :func:`eegnb.train.train_model`.
:func:`summarise` gives mean and standard error over subjects (the paper reports means only).

Used by ``notebooks/10_context_mask_method.ipynb`` (one subject's model, the method's
pieces, speed) and ``notebooks/11_context_mask_experiments.ipynb`` (paper Figs. 6-11,
Table I, localisation).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd

from eegnb.explain import explain, predict
from eegnb.explain.context_mask import ContextMask
from eegnb.metrics import localisation_auc
from eegnb.metrics.removal import element_scores, random_maps, removal_game
from eegnb.progress import tqdm
from eegnb.utils import cached, fingerprint, get_device

#: Display names of the maps, in plotting order.
METHOD_LABELS = {
    "context": "context mask",
    "no_context": "mask without context",
    "area": "context mask + area limit",
    "gradient": "gradient",
    "random": "random",
}


@dataclass(frozen=True)
class Config:
    """Everything that changes the results of :func:`run` (part of every cache key).

    dataset / data_dir: ``"sim"`` (``eegnb.data.simulate("deap", ...)``) or ``"deap"`` (real
    files in ``data_dir``). subjects: number of subjects (the first ones). labels, models:
    label dimensions and model names. difficulty, n_trials, n_segments: simulation size
    (``n_segments`` non-overlapping 4 s segments per trial). fit: keywords of
    :func:`eegnb.train.train_model`. validation: False trains a fixed number of epochs on the
    training and validation parts together (on ~30 validation segments early stopping on the
    validation loss picked near-chance early epochs); True stops early on the validation part
    (then pass ``patience`` in ``fit``). n_explain: held-out segments explained per model (at
    most the test fold). mask: :class:`ContextMask` keywords of the main map; ``area`` /
    ``area_warmup``: the area-limited variant (paper: a = 0.5 after k = 100 of 200 epochs).
    no_context_on / area_on: ``(model, label)`` pairs that also get the ablation / the
    area-limited map (``"*"`` matches any). k_channel, k_time, ks_curve: removal sizes
    (paper: 6 channels, 64 time steps, k in 2..10). tsception_layout: ``"all"`` (every channel,
    32 on DEAP: 13,913 parameters; Table I's 12,563 needs 28) or ``"hemisphere"`` (the paper's
    28-channel TSception setup: the 14 left/right pairs of :func:`eegnb.models.tsception.hemisphere_order`,
    midline dropped, so the spatial context kernel 28 covers the whole montage and the model has
    Table I's 12,563 parameters). deletion_axes / deletion_steps: the deletion curves of
    :func:`deletion_curves` (every channel; 8 blocks of time steps, 64 samples each at DEAP
    size: the paper's time cut, and the CPU budget).
    """

    dataset: str = "sim"
    data_dir: str = ""
    subjects: int = 3
    labels: tuple[str, ...] = ("arousal", "valence")
    models: tuple[str, ...] = ("eegnet", "tsception", "deepconvnet")
    seed: int = 0
    difficulty: float = 0.0
    n_trials: int | None = 30
    n_segments: int = 6
    fit: dict = field(default_factory=lambda: dict(epochs=20, lr=3e-3, batch_size=16))
    validation: bool = False
    n_explain: int = 12
    mask: dict = field(default_factory=lambda: dict(epochs=200, lr=0.1, init=0.9, early_stopping=False))
    area: float = 0.5
    area_weight: float = 0.05
    area_warmup: int = 100
    no_context_on: tuple[tuple[str, str], ...] = (("tsception", "arousal"),)
    area_on: tuple[tuple[str, str], ...] = (("*", "arousal"),)
    k_channel: int = 6
    k_time: int = 64
    ks_curve: tuple[int, ...] = (2, 4, 6, 8, 10)
    tsception_layout: str = "all"
    deletion_axes: tuple[str, ...] = ("channel", "time")
    deletion_steps: tuple[tuple[str, int], ...] = (("time", 8),)

    def key(self) -> dict:
        d = asdict(self)
        d.pop("data_dir")  # where the files are does not change the results
        return d

    def mask_kw(self, variant: str = "context") -> dict:
        """:class:`ContextMask` keywords of a map variant (``context``, ``no_context``, ``area``, ``one_stage``)."""
        kw = dict(self.mask, progress=False, seed=self.seed)
        if variant == "no_context":
            kw["context"] = False
        elif variant in ("area", "one_stage"):
            kw.update(
                area=self.area,
                area_weight=self.area_weight,
                warmup_epochs=0 if variant == "one_stage" else self.area_warmup,
            )
        elif variant != "context":
            raise ValueError(f"unknown mask variant {variant!r}")
        return kw


def _matches(pairs, model: str, label: str) -> bool:
    return any(m in ("*", model) and lab in ("*", label) for m, lab in pairs)


# --------------------------------------------------------------------------- data and models
def load_data(cfg: Config, label: str):
    """The ``EEGData`` of ``label`` for ``cfg``: simulated DEAP layout or real DEAP files."""
    if cfg.dataset == "sim":
        from eegnb.data import simulate

        kw = dict(n_segments=cfg.n_segments)
        if cfg.n_trials:
            kw["n_trials"] = cfg.n_trials
        return simulate(
            "deap",
            n_subjects=cfg.subjects,
            seed=cfg.seed,
            difficulty=cfg.difficulty,
            label=label,
            **kw,
        )
    if cfg.dataset == "deap":
        from eegnb.data import load

        return load("deap", cfg.data_dir, subjects=list(range(1, cfg.subjects + 1)), label=label)
    raise ValueError(f"dataset must be 'sim' or 'deap', got {cfg.dataset!r}")


def subject_model(cfg: Config, data, subject, model_name: str, *, device=None, cache_dir=None):
    """Train (or load from cache) ``model_name`` on one subject; returns ``(model, subject_data, test_idx)``.

    Within-subject protocol of the paper: the first fold of a 5-fold stratified split of the
    subject's segments; the validation part is used for early stopping only when
    ``cfg.validation``, otherwise it joins the training part.
    """
    from eegnb.train import Split, train_model, within_subject_kfold

    sd = data.by_subject(subject)
    if model_name == "tsception" and cfg.tsception_layout == "hemisphere":
        from eegnb.models.tsception import hemisphere_order

        sd = sd.pick_channels(hemisphere_order(sd.ch_names)[1])  # the paper's 28-channel layout
    elif cfg.tsception_layout not in ("all", "hemisphere"):
        raise ValueError(f"tsception_layout must be 'all' or 'hemisphere', got {cfg.tsception_layout!r}")
    split = within_subject_kfold(sd, k=5, seed=cfg.seed)[0]
    if not cfg.validation:
        split = Split(
            split.name,
            np.sort(np.concatenate([split.train, split.val])),
            np.array([], int),
            split.test,
            split.test_subjects,
        )
    model = train_model(
        model_name,
        sd,
        split,
        seed=cfg.seed,
        device=device,
        cache_dir=cache_dir,
        progress=False,
        **cfg.fit,
    )
    return model, sd, split.test


def model_fingerprint(model) -> str:
    """Hash of a model's class and weights (cache keys of maps computed from it)."""
    return fingerprint(
        type(model).__name__, *[v.detach().cpu().numpy() for v in model.state_dict().values()]
    )


def explained_samples(cfg: Config, sd, test_idx: np.ndarray) -> np.ndarray:
    """Indices (into the subject's data) of the held-out segments that get explained."""
    return np.asarray(test_idx)[: cfg.n_explain]


def mask_maps(
    cfg: Config, model, X: np.ndarray, variant: str = "context", *, device=None, cache_dir=None
):
    """Cached :class:`ContextMaskResult` of one mask variant for ``X (n, ch, t)``."""
    kw = cfg.mask_kw(variant)
    key = mask_key(model, X, kw)
    return cached(
        cache_dir, "context_mask", key, lambda: ContextMask(**kw).attribute(model, X, device=device)
    )


def mask_key(model, X: np.ndarray, kw: dict) -> dict:
    """Cache key of a :class:`ContextMask` run: model, data and *every* ContextMask field
    (defaults included, so changing a default invalidates old entries; ``progress`` excluded)."""
    full = asdict(ContextMask(**kw))
    full.pop("progress", None)
    return dict(model=model_fingerprint(model), X=fingerprint(np.asarray(X)), kw=full, v=3)


def mask_variants(cfg: Config, model, X: np.ndarray, variants, *, device=None, cache_dir=None) -> dict:
    """Cached :class:`ContextMaskResult` per variant. On the fixed budget the ``"context"`` and
    ``"area"`` variants are identical up to the area term's start, so when both are missing
    from the cache the first ``area_warmup`` epochs run once and both continue from there
    (``ContextMask.attribute(resume=...)``; same result as two separate runs)."""
    out = {}
    todo = []
    for v in variants:
        kw = cfg.mask_kw(v)
        key = mask_key(model, X, kw)
        todo.append((v, kw, key))
    kws = {v: kw for v, kw, _ in todo}
    share = (
        {"context", "area"} <= set(kws)
        and not kws["context"].get("early_stopping", True)
        and not kws["area"].get("early_stopping", True)
        and kws["area"].get("warmup_epochs", 0) > 0
    )
    state = {}

    def prefix():
        if "s" not in state:
            pre = dict(kws["context"], epochs=kws["area"]["warmup_epochs"])
            state["s"] = ContextMask(**pre).attribute(model, X, device=device, keep_state=True)
        return state["s"]

    def compute(v, kw):
        if share and v in ("context", "area"):
            pre = prefix()
            r = ContextMask(**kw).attribute(model, X, device=device, resume=pre.state)
            r.seconds += pre.seconds / 2  # each of the two runs is charged half the shared part
            return r
        return ContextMask(**kw).attribute(model, X, device=device)

    for v, kw, key in todo:
        out[v] = cached(cache_dir, "context_mask", key, lambda v=v, kw=kw: compute(v, kw))
    return out


def deletion_curves(model, X: np.ndarray, maps: dict, *, axes=("channel", "time"), n_steps=None, device=None) -> dict:
    """Deletion curves (most salient removed first) of every map and their areas
    (:func:`eegnb.metrics.faithfulness.deletion_curve`, probability of the predicted class,
    removed elements set to 0 as in the paper's games; lower area = more faithful).
    ``n_steps`` ``{axis: steps}``: default every channel (k = 1..ch) and 16 equal blocks of
    time steps (32 samples each at DEAP size: the CPU budget). Returns ``{"areas": per-sample
    DataFrame (method, axis, sample, area_most, degenerate), "curves": mean curve per
    (method, axis, fraction)}``."""
    from eegnb.metrics.faithfulness import deletion_curve

    steps = {"channel": X.shape[1], "time": 16, **(n_steps or {})}
    pred = predict(model, X, device=device).argmax(1)
    areas, curves = [], []
    for ax in axes:
        for name, M in maps.items():
            f = deletion_curve(model, X, pred, M, axis=ax, order="most", n_steps=steps[ax], replace="zero", device=device)
            areas.append(pd.DataFrame(dict(method=name, axis=ax, sample=np.arange(len(X)),
                                           area_most=np.trapezoid(f["curve"], f["fraction"], axis=1), degenerate=f["degenerate"])))
            curves.append(pd.DataFrame(dict(method=name, axis=ax, fraction=f["fraction"], score=np.nanmean(f["curve"], 0))))
    return dict(areas=pd.concat(areas, ignore_index=True), curves=pd.concat(curves, ignore_index=True))


# --------------------------------------------------------------------------- one unit
def run_unit(
    cfg: Config, data, label: str, subject, model_name: str, *, device=None, cache_dir=None
) -> dict:
    """Everything for one (label, subject, model): accuracies, removal games, AUCs, timing, maps.

    Returns a dict with ``acc`` (removal DataFrame), ``auc`` (per method, mean over samples),
    ``test_acc``, ``mask_seconds`` (per sample), ``n_explained`` and ``maps`` of the first two
    explained samples (for figures).
    """
    dev = get_device(device)
    model, sd, test_idx = subject_model(
        cfg, data, subject, model_name, device=dev, cache_dir=cache_dir
    )
    idx = explained_samples(cfg, sd, test_idx)
    X, y = sd.X[idx], sd.y[idx]
    maps, seconds = {}, {}
    variants = ["context"]
    if _matches(cfg.no_context_on, model_name, label):
        variants.append("no_context")
    if _matches(cfg.area_on, model_name, label):
        variants.append("area")
    epochs_run = {}
    for v, res in mask_variants(cfg, model, X, variants, device=dev, cache_dir=cache_dir).items():
        maps[v], seconds[v] = res.mask, res.seconds / len(X)
        epochs_run[v] = float(np.mean(res.epochs_run)) if res.epochs_run is not None else float("nan")
    maps["gradient"] = explain("gradient", model, X, device=dev)
    maps["random"] = random_maps(X.shape, seed=cfg.seed + int(subject))
    has_truth = getattr(sd, "truth", None) is not None
    # deletion curves over every channel and 32 time-step blocks, random and oracle controls
    from eegnb.metrics.controls import oracle_map

    curve_maps = dict(maps, **({"oracle": oracle_map(sd.truth[idx])} if has_truth else {}))
    deletion = deletion_curves(model, X, curve_maps, axes=cfg.deletion_axes, n_steps=dict(cfg.deletion_steps), device=dev)
    # the paper's four removal experiments on the same maps (the random map is the control)
    game = partial(removal_game, model, X, y, maps, random_control=False, seed=cfg.seed, device=dev)
    games = [
        game(axis="channel", ks=(cfg.k_channel,), level="instance"),
        game(axis="channel", ks=(cfg.k_channel,), level="group"),
        game(axis="time", ks=(cfg.k_time,), level="instance"),
        game(axis="channel", ks=cfg.ks_curve, orders=("top",), level="instance"),
    ]
    names = ["channel-instance", "channel-group", "time-instance", "channel-curve"]
    acc = pd.concat([g.assign(experiment=n) for g, n in zip(games, names)], ignore_index=True)
    pred = predict(model, X, device=dev).argmax(1)
    auc = {}
    if has_truth:
        truth = sd.truth[idx]
        ch_truth = truth.max(2)
        for m, M in maps.items():
            auc[m] = dict(
                auc=float(np.nanmean(localisation_auc(M, truth))),
                channel_auc=float(
                    np.nanmean(localisation_auc(element_scores(M, "channel"), ch_truth))
                ),
            )
    return dict(
        acc=acc.assign(label=label, subject=subject, model=model_name),
        auc=pd.DataFrame(
            [
                dict(label=label, subject=subject, model=model_name, method=m, **v)
                for m, v in auc.items()
            ]
        ),
        test_acc=float(
            (predict(model, sd.X[test_idx], device=dev).argmax(1) == sd.y[test_idx]).mean()
        ),
        explained_acc=float((pred == y).mean()),
        mask_seconds=seconds,
        mask_epochs_run=epochs_run,
        deletion=deletion["areas"].assign(label=label, subject=subject, model=model_name),
        deletion_curve=deletion["curves"].assign(label=label, subject=subject, model=model_name),
        n_explained=len(idx),
        maps={k: v[:2] for k, v in maps.items()},
        X=X[:2],
        truth=None if getattr(sd, "truth", None) is None else sd.truth[idx][:2],
    )


@dataclass
class Results:
    """Outputs of :func:`run`.

    acc: long DataFrame ``label, subject, model, experiment, method, axis, level, order, k, acc``
    (``method="none"``, ``k=0``: accuracy before removal on the explained segments).
    auc: ``label, subject, model, method, auc, channel_auc`` (means over samples; simulated data).
    models: ``label, subject, model, test_acc, explained_acc, n_explained`` and seconds/sample
    of each mask variant. deletion: per-sample deletion areas ``label, subject, model, method,
    axis, sample, area_most, degenerate``; deletion_curve: mean curve per unit
    ``label, subject, model, method, axis, fraction, score``. examples: ``{(label, model, subject): unit maps}`` for figures.
    """

    acc: pd.DataFrame
    auc: pd.DataFrame
    models: pd.DataFrame
    examples: dict
    config: Config
    seconds: float
    deletion: pd.DataFrame = field(default_factory=pd.DataFrame)
    deletion_curve: pd.DataFrame = field(default_factory=pd.DataFrame)


def _unit_key(cfg: Config, data, label: str, subject, model_name: str) -> dict:
    return dict(cfg=cfg.key(), data=data.fingerprint(), label=label, subject=int(subject), model=model_name, v=2)


def run(cfg: Config, *, device=None, cache_dir=None, progress: bool = True, client=None) -> Results:
    """All (label, subject, model) units of ``cfg`` (each cached); see :class:`Results`.

    ``client``: run the units through Dask first (:func:`eegnb.experiments.dispatch.run_jobs`:
    ``"local"`` for a LocalCluster on this machine, a scheduler address, ``"slurm"``, a
    ``distributed.Client``, or ``"serial"``); they land in the same cache entries as the serial
    loop, which then only reads them back. ``None`` (default) computes them here in turn.
    """
    t0 = time.perf_counter()
    units, rows = [], []
    accs, aucs, examples, dels, dcurves = [], [], {}, [], []
    for label in cfg.labels:
        data = load_data(cfg, label)
        subjects = list(data.subjects)[: cfg.subjects]
        units += [(label, data, s, m) for s in subjects for m in cfg.models]
    if client is not None:
        if cache_dir is None:
            raise ValueError("client= needs cache_dir: the cache is where the workers' results are kept")
        from eegnb.experiments.dispatch import run_jobs

        run_jobs(run_unit, [dict(cfg=cfg, data=d, label=lb, subject=s, model_name=m, device=device,
                                 cache_dir=cache_dir) for lb, d, s, m in units],
                 cache_dir=cache_dir, kind="context_mask_unit", client=client,
                 key=lambda j: _unit_key(j["cfg"], j["data"], j["label"], j["subject"], j["model_name"]),
                 progress=progress)
    for label, data, s, m in tqdm(units, desc="subject models", disable=not progress):
        key = _unit_key(cfg, data, label, s, m)
        u = cached(
            cache_dir,
            "context_mask_unit",
            key,
            partial(run_unit, cfg, data, label, s, m, device=device, cache_dir=cache_dir),
        )
        accs.append(u["acc"])
        aucs.append(u["auc"])
        dels.append(u["deletion"])
        dcurves.append(u["deletion_curve"])
        rows.append(
            dict(
                label=label,
                subject=s,
                model=m,
                test_acc=u["test_acc"],
                explained_acc=u["explained_acc"],
                n_explained=u["n_explained"],
                **{f"sec_{k}": v for k, v in u["mask_seconds"].items()},
                **{f"epochs_{k}": v for k, v in u["mask_epochs_run"].items()},
            )
        )
        examples[(label, m, s)] = {k: u[k] for k in ("maps", "X", "truth")}
    return Results(
        acc=pd.concat(accs, ignore_index=True),
        auc=pd.concat(aucs, ignore_index=True) if aucs else pd.DataFrame(),
        models=pd.DataFrame(rows),
        examples=examples,
        config=cfg,
        seconds=time.perf_counter() - t0,
        deletion=pd.concat(dels, ignore_index=True),
        deletion_curve=pd.concat(dcurves, ignore_index=True),
    )


# --------------------------------------------------------------------------- summaries
def sem(x) -> float:
    """Standard error of the mean (NaN-aware; 0 for a single value)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def summarise(df: pd.DataFrame, by: list[str], value: str = "acc") -> pd.DataFrame:
    """Mean, SEM and number of subjects of ``value`` grouped by ``by`` (over subjects)."""
    g = df.groupby(by, sort=False)[value]
    return g.agg(mean="mean", sem=sem, n="count").reset_index()


def removal_table(res: Results, experiment: str, k: int | None = None) -> pd.DataFrame:
    """Per label x model x method x order: mean and SEM over subjects of one experiment.

    Includes ``method="none"`` (accuracy before removal) so drops can be read off directly.
    """
    d = res.acc[res.acc.experiment == experiment]
    if k is not None:
        d = d[(d.k == k) | (d.method == "none")]
    return summarise(d, ["label", "model", "method", "order", "k"])


def drops(res: Results, experiment: str, k: int) -> pd.DataFrame:
    """Accuracy drop (before - after) per subject, label, model, method and order."""
    d = res.acc[res.acc.experiment == experiment]
    base = d[d.method == "none"].set_index(["label", "subject", "model"]).acc.rename("before")
    after = d[(d.method != "none") & (d.k == k)].join(base, on=["label", "subject", "model"])
    return after.assign(drop=after.before - after.acc)


def record_dict(table: pd.DataFrame, keys: list[str], value: str = "mean") -> dict:
    """Nested ``{k1: {k2: ... value}}`` of a summary table, for ``nb.record``."""
    out: dict = {}
    for _, row in table.iterrows():
        d = out
        for k in keys[:-1]:
            d = d.setdefault(str(row[k]), {})
        d[str(row[keys[-1]])] = round(float(row[value]), 4)
    return out


def speed(model, X: np.ndarray, *, epochs: int = 30, device=None, **kw) -> dict:
    """Seconds per sample of the mask optimiser: the whole batch at once vs one sample at a time.

    Also returns the largest absolute difference between the two sets of masks.
    """
    cm = ContextMask(epochs=epochs, progress=False, **{"early_stopping": False, **kw})  # fixed budget: equal work
    batched = cm.attribute(model, X, device=device)
    singles = [cm.attribute(model, X[i : i + 1], device=device) for i in range(len(X))]
    single_masks = np.concatenate([s.mask for s in singles])
    return dict(
        n=len(X),
        epochs=epochs,
        batched_s_per_sample=batched.seconds / len(X),
        single_s_per_sample=sum(s.seconds for s in singles) / len(X),
        speedup=sum(s.seconds for s in singles) / batched.seconds,
        max_abs_diff=float(np.abs(batched.mask - single_masks).max()),
    )


def with_(cfg: Config, **changes) -> Config:
    """A copy of ``cfg`` with ``changes`` (keeps notebooks to one line per size choice)."""
    return replace(cfg, **changes)


def pairwise_correlation(maps: np.ndarray) -> float:
    """Mean Pearson correlation between the maps ``(n, ch, t)`` of different samples.

    Near 1: the maps look alike whatever the input (the paper's criticism of gradients, Fig. 1).
    """
    flat = np.asarray(maps, float).reshape(len(maps), -1)
    if len(flat) < 2:
        return float("nan")
    c = np.corrcoef(flat)
    return float(np.nanmean(c[np.triu_indices(len(flat), 1)]))


def wide(table: pd.DataFrame, value: str = "mean") -> pd.DataFrame:
    """A summary table as ``mean ± sem`` strings, one column per method (and order)."""
    t = table.copy()
    t["cell"] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(t["mean"], t["sem"])]
    cols = [c for c in ("method", "order") if c in t]
    idx = [c for c in ("label", "model") if c in t]
    t["col"] = t[cols].astype(str).agg(" ".join, axis=1).str.replace(" none", "", regex=False)
    return t.pivot_table(index=idx, columns="col", values="cell", aggfunc="first", sort=False)


def headline(res: Results) -> dict:
    """The numbers a reader (and the tests) look at first, averaged over labels, models, subjects.

    ``before``: accuracy before removal; ``context_top`` / ``context_bottom``: after removing
    the context mask's most / least salient ``k_channel`` channels (instance level);
    ``gradient_top``, ``random_top``; the same ``*_time_*`` for time steps; and the mean
    localisation AUC per map where the truth is known.
    """
    a = res.acc
    out = {}
    for exp, tag in (
        ("channel-instance", ""),
        ("channel-group", "group_"),
        ("time-instance", "time_"),
    ):
        d = a[a.experiment == exp]
        out[f"{tag}before"] = float(d[d.method == "none"].acc.mean())
        for m in ("context", "gradient", "random"):
            for order in ("top", "bottom"):
                sel = d[(d.method == m) & (d.order == order)]
                if len(sel):
                    out[f"{tag}{m}_{order}"] = float(sel.acc.mean())
    if len(res.auc):
        for m, v in res.auc.groupby("method").auc.mean().items():
            out[f"auc_{m}"] = float(v)
    return {k: round(v, 4) for k, v in out.items()}


def config(
    quick: bool,
    *,
    dataset: str = "sim",
    data_dir: str = "",
    seed: int = 0,
    paper_scale: bool = False,
) -> Config:
    """The sizes notebooks 10 and 11 use (shared, so their trained models share the cache).

    Every size runs the paper's mask schedule on a fixed budget (``early_stopping=False``):
    default and paper scale 200 epochs with the area term from epoch 100; quick 60 / 30.
    Each model is trained 20 epochs (Adam, lr 3e-3, batch 16) on the first within-subject fold
    of simulated DEAP at difficulty 0 (6 non-overlapping 4 s segments per trial).
    quick: 2 subjects x 30 trials, EEGNet, arousal, 8 explained segments.
    default: 8 subjects x 10 trials (60 segments, 12 held out, every one explained), the three
    models, arousal (the label of the paper's Figs. 8, 10, 11; valence at paper scale), to fit
    the 15-minute single-thread budget. ``paper_scale=True`` (real DEAP, meant for a GPU): 32
    subjects, both labels, every test segment, the area-limited map on every model and label.
    """
    mask = dict(epochs=200, lr=0.1, init=0.9, early_stopping=False)
    if quick:
        return Config(
            dataset=dataset,
            data_dir=data_dir,
            seed=seed,
            subjects=2,
            labels=("arousal",),
            models=("eegnet",),
            n_explain=8,
            mask=dict(mask, epochs=60),
            area_warmup=30,
            no_context_on=(("eegnet", "arousal"),),
            area_on=(("*", "arousal"),),
        )
    default = Config(
        dataset=dataset,
        data_dir=data_dir,
        seed=seed,
        subjects=8,
        labels=("arousal",),
        models=("eegnet", "tsception", "deepconvnet"),
        n_trials=10,
        n_explain=10_000,
        mask=mask,
        area_warmup=100,
        no_context_on=(("tsception", "arousal"),),
        area_on=(("*", "arousal"),),
    )
    if paper_scale:
        return replace(
            default,
            subjects=32,
            n_trials=None,
            labels=("arousal", "valence"),
            area_on=(("*", "*"),),
        )
    return default


# --------------------------------------------------------------------------- mechanism and sensitivity
def mechanism(model, X: np.ndarray, truth: np.ndarray | None = None, *, device=None, **mask_kw) -> dict:
    """What the mask optimiser actually does, per sample (the diagnostic of notebook 10).

    ``a = dd/dx_hat * (x - p)`` at the initial mask (eq. 10,
    :func:`eegnb.explain.context_mask.initial_attribution`) is the gradient of the error with
    respect to the mask; Adam's per-element normalisation turns every step into about
    ``-lr * sign(dL/dM)``, so the learned mask follows the *sign* of ``a`` and discards its
    magnitude. Returns per-sample ``(n,)`` arrays: ``moved`` (share of elements that moved by
    more than 1e-3), ``sign_agreement`` (share of moved elements with
    ``sign(M - init) == -sign(a)``, the first-step direction; 0.5 = unrelated, near 0 = the
    opposite polarity), ``polarity`` (``max(agreement, 1 - agreement)``), ``spearman`` (rank
    correlation of ``|M - init|`` with ``|a|``), and with ``truth`` the localisation AUCs
    ``auc_abs_a`` (``|a|`` as a map) and ``auc_mask`` (the learned mask); plus ``a`` and
    ``mask`` ``(n, ch, t)`` and the ContextMask ``result``.
    """
    from scipy.stats import spearmanr

    from eegnb.explain.context_mask import initial_attribution

    kw = dict(mask_kw, progress=False)
    cm = ContextMask(**kw)
    a = initial_attribution(model, X, cm, device=device)
    res = cm.attribute(model, X, device=device)
    move = res.mask - cm.init
    out = dict(moved=[], sign_agreement=[], polarity=[], spearman=[])
    for m, g in zip(move.reshape(len(X), -1), a.reshape(len(X), -1)):
        mv = np.abs(m) > 1e-3
        sel = mv & (g != 0)
        agr = float((np.sign(m[sel]) == -np.sign(g[sel])).mean()) if sel.any() else np.nan
        out["moved"].append(float(mv.mean()))
        out["sign_agreement"].append(agr)
        out["polarity"].append(max(agr, 1 - agr) if np.isfinite(agr) else np.nan)
        ok = np.ptp(m) > 0 and np.ptp(g) > 0
        out["spearman"].append(float(spearmanr(np.abs(m), np.abs(g)).statistic) if ok else np.nan)
    out = {k: np.asarray(v, float) for k, v in out.items()}
    if truth is not None:
        out["auc_abs_a"] = localisation_auc(np.abs(a), truth)
        out["auc_mask"] = localisation_auc(res.mask, truth)
    out.update(a=a, mask=res.mask, result=res)
    return out


#: The sensitivity variants of notebook 10: parametrisation x reference of eq. 11 (x area limit).
SENSITIVITY = {
    "clamp, soft": dict(parametrization="clamp", target="soft"),
    "sigmoid, soft": dict(parametrization="sigmoid", target="soft"),
    "clamp, one-hot": dict(parametrization="clamp", target="onehot"),
    "sigmoid, one-hot": dict(parametrization="sigmoid", target="onehot"),
}


def score_maps(model, X: np.ndarray, maps: dict, truth: np.ndarray | None = None, *, device=None) -> pd.DataFrame:
    """Evaluation-layer scores of every map, one row per (method, sample): localisation AUC
    (``truth`` given) and the channel deletion area (``channel_area_most``, most salient channels
    zeroed first, k = 1..all, probability of the predicted class; lower = more faithful) with
    its degenerate flag (:func:`deletion_curves`)."""
    d = deletion_curves(model, X, maps, axes=("channel",), device=device)["areas"]
    d = d.rename(columns=dict(area_most="channel_area_most", degenerate="channel_degenerate")).drop(columns="axis")
    if truth is not None:
        d["auc"] = np.concatenate([localisation_auc(maps[m], truth) for m in dict.fromkeys(d.method)])
    return d


def sensitivity(model, X: np.ndarray, truth: np.ndarray | None, *, epochs: int = 200, warmup: int = 100,
                variants: dict | None = None, area: bool = True, seed: int = 0, device=None, cache_dir=None) -> pd.DataFrame:
    """Sensitivity table: each parametrisation x eq.-11 reading (:data:`SENSITIVITY`), without
    and (``area``) with the two-stage area limitation (a = 0.5, lambda = 0.05 from ``warmup``),
    all on the paper's fixed budget (``early_stopping=False``), beside gradient, random and
    oracle (truth) controls, scored per sample by :func:`score_maps`. Masks are cached."""
    from eegnb.metrics.controls import oracle_map, random_map

    maps = {}
    for name, kw in (variants or SENSITIVITY).items():
        base = dict(epochs=epochs, early_stopping=False, seed=seed, progress=False, **kw)
        runs = {name: base}
        if area:
            runs[name + ", area"] = dict(base, area=0.5, area_weight=0.05, warmup_epochs=warmup)
        for n_, k_ in runs.items():
            key = mask_key(model, X, k_)
            maps[n_] = cached(cache_dir, "context_mask", key, lambda k_=k_: ContextMask(**k_).attribute(model, X, device=device)).mask
    maps["gradient"] = explain("gradient", model, X, device=device)
    maps["random"] = random_map(X.shape, seed=seed)
    if truth is not None:
        maps["oracle"] = oracle_map(truth)
    return score_maps(model, X, maps, truth, device=device)


def ci_table(scores: pd.DataFrame, values=("auc", "channel_area_most"), unit: str = "sample",
             unit_name: str = "segment") -> pd.DataFrame:
    """Mean [95% CI] per method of each score column, intervals over ``unit`` (named)."""
    from eegnb.stats import format_ci, mean_ci

    rows = []
    for m, g in scores.groupby("method", sort=False):
        row = dict(method=m)
        for v in values:
            if v in g:
                row[v] = format_ci(mean_ci(g[v], g[unit], unit_name=unit_name), ".3f")
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def early_stopping_check(model, X: np.ndarray, truth: np.ndarray | None, *, epochs: int = 200, device=None, **kw) -> dict:
    """Mean epochs run with per-sample early stopping vs the fixed budget, seconds, and the
    change of the mean localisation AUC it costs (issue 17 target: half the epochs, |dAUC| <= 0.01)."""
    out = {}
    for es in (False, True):
        r = ContextMask(epochs=epochs, early_stopping=es, progress=False, **kw).attribute(model, X, device=device)
        tag = "early" if es else "fixed"
        out[f"{tag}_epochs"] = float(r.epochs_run.mean())
        out[f"{tag}_seconds"] = float(r.seconds)
        if truth is not None:
            out[f"{tag}_auc"] = float(np.nanmean(localisation_auc(r.mask, truth)))
    out["epoch_ratio"] = out["early_epochs"] / out["fixed_epochs"]
    if truth is not None:
        out["auc_change"] = out["early_auc"] - out["fixed_auc"]
    return out
