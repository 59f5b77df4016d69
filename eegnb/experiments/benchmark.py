"""The explainer benchmark (notebook 50): every registered method scored against planted truth.

For each *run* (a simulated layout, a model architecture and a seed that fixes both the
simulation and the training) :func:`run_one` trains the model, explains ``n_explain`` held-out
samples with every method through :func:`eegnb.explain.explain` (target: the true class), and
scores each map with the evaluation layer of :mod:`eegnb.metrics`:

- localisation against the truth (:func:`~eegnb.metrics.localisation.localisation_auc`,
  :func:`~eegnb.metrics.localisation.relevance_mass`,
  :func:`~eegnb.metrics.localisation.topk_precision`); time-domain maps against
  ``EEGData.truth``, band maps against :func:`eegnb.explain.bands.band_truth` over the band
  edges the method was asked for (``n_bands`` equal bands, the same for every frequency method);
  a method is never scored on a domain it does not produce;
- faithfulness (:func:`~eegnb.metrics.faithfulness.faithfulness_area`): the area between the
  least-relevant-first and the most-relevant-first deletion curves of the true-class probability,
  over channels and over time steps (time maps) or channel x band components (band maps);
- degenerate maps (constant on a sample) counted per method, never re-drawn;
- cost: seconds per sample and peak memory (:func:`~eegnb.metrics.cost.measure_cost`).

Controls run through the same metrics: ``random`` (a seeded uniform map), ``oracle`` (the truth
as a map) and ``shuffled`` (the gradient map with its elements permuted within each sample,
which keeps its values and destroys its placement), in both domains.

:func:`run_sanity` adds cascading model-parameter randomisation per method (Adebayo et al.
2018) on one layout and model per seed; :func:`run_sweep` scores localisation as the planted
effect weakens. :func:`leaderboard` aggregates everything into one table with 95 % intervals
over runs (over samples when there is only one run; the ``unit`` column says which), and
:func:`reading` turns the table into sentences whose every verdict comes from
:func:`eegnb.stats.compare`.

Hand-written: the orchestration only; every score is a function of :mod:`eegnb.metrics`.
Walked through in ``notebooks/50_explainer_benchmark.ipynb``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from eegnb.explain import METHODS, band_edges, band_truth, explain
from eegnb.progress import tqdm
from eegnb.utils import cached, fingerprint

#: Methods explained in each run, in display order. Controls are added by the benchmark.
TIME_METHODS = (
    "gradient",
    "input_x_gradient",
    "integrated_gradients",
    "smoothgrad",
    "occlusion",
    "lrp_epsilon",
    "lrp_epsilon_plus",
    "lrp_alphabeta",
    "lrp_epsilon_alpha2_beta1",
    "context_mask",
)
FREQ_METHODS = ("frequency_mask", "easypeasi", "dft_lrp")
CONTROLS = ("random", "shuffled", "oracle")


def budgets(ig_steps: int = 16, smoothgrad_samples: int = 16, mask_epochs: int = 60,
            frequency_epochs: int = 60, occlusion_window: int = 128) -> dict:
    """Per-method keywords of the benchmark: the budgets of the iterative methods (the papers use
    200 mask epochs; notebooks 10-21 run those), LRP epsilon 0.01 (paper 4's small epsilon)."""
    return dict(
        integrated_gradients=dict(n_steps=ig_steps),
        smoothgrad=dict(nt_samples=smoothgrad_samples),
        occlusion=dict(window=occlusion_window),
        lrp_epsilon=dict(epsilon=0.01),
        context_mask=dict(epochs=mask_epochs, lr=0.1, init=0.9, progress=False),
        # no reference set is passed, so target alignment (lambda_dist) is off, as it warns
        frequency_mask=dict(epochs=frequency_epochs, progress=False),
        easypeasi=dict(n_repeats=1),
    )


@dataclass(frozen=True)
class Config:
    """Everything that changes the benchmark's numbers (part of every cache key).

    layouts / models / seeds: the runs (one simulated data set and one trained model per
    seed). n_subjects, difficulty, sim_kw: simulation (pooled subjects, subject-independent
    split). fit: :func:`eegnb.train.train_model` keywords. n_explain: held-out samples
    explained per run. method_kw: per-method keywords (small budgets for the perturbation
    methods, stated in the notebook). n_bands: equal-width bands of every frequency method.
    sanity_*: cascading randomisation on one (layout, model) per seed with ``sanity_n`` samples.
    sweep_*: localisation against difficulty.
    """

    layouts: tuple[str, ...] = ("deap", "seed", "eegbci")
    models: tuple[str, ...] = ("eegnet", "tsception", "deepconvnet")
    seeds: tuple[int, ...] = (0, 1, 2)
    n_subjects: int = 3
    difficulty: float = 0.1
    sim_kw: dict = field(default_factory=dict)  # layout -> simulate() keywords
    # a fixed number of epochs: early stopping on a few validation samples stopped some seeds at
    # a chance-level plateau
    fit: dict = field(default_factory=lambda: dict(epochs=12, lr=1e-2, patience=12, batch_size=32))
    # DeepConvNet's temporal kernel 10 needs 2.2 s at 200 Hz; SEED segments are 2 s (as notebook 20).
    model_kw: dict = field(default_factory=lambda: {"deepconvnet": {"kernel_length": 5}})
    n_explain: int = 6
    time_methods: tuple[str, ...] = TIME_METHODS
    freq_methods: tuple[str, ...] = FREQ_METHODS
    method_kw: dict = field(default_factory=lambda: budgets())
    n_bands: int = 10
    faith_steps_time: int = 10
    faith_steps_channel: int = 16  # evenly spaced fractions of the channels (tie groups stay whole)
    extra_runs: tuple[tuple[str, str], ...] = ()  # (layout, model) pairs run for every seed besides the grid
    sanity_layout: str = "deap"
    sanity_model: str = "eegnet"
    sanity_n: int = 4
    sanity_methods: tuple[str, ...] | None = None  # None: every method of the run
    sweep_layout: str = "deap"
    sweep_model: str = "eegnet"
    sweep_difficulties: tuple[float, ...] = (0.0, 0.4, 0.8)
    sweep_methods: tuple[str, ...] = ("gradient", "integrated_gradients", "lrp_epsilon", "context_mask")


#: The gradient and LRP families only on the semi-synthetic layout (64 channels x 640 samples make
#: occlusion and the perturbation methods the costliest part of the notebook).
SEMI_METHODS = ("gradient", "input_x_gradient", "integrated_gradients", "lrp_epsilon", "lrp_alphabeta")


def semi_config(cfg: Config, data_dir, **kw) -> Config:
    """``cfg`` on the semi-synthetic layout: real EEGBCI background (every imagery run's task and
    rest epochs, ``data_dir``), the planted mu burst at the layout's strongest setting, EEGNet."""
    base = replace(cfg, layouts=("semi-eegbci",), models=("eegnet",), extra_runs=(), n_subjects=1, difficulty=0.0,
                   sim_kw={"semi-eegbci": dict(data_dir=str(data_dir), runs=(4, 6, 8, 10, 12, 14), include_rest=True)},
                   time_methods=SEMI_METHODS, freq_methods=("dft_lrp",))
    return replace(base, **kw)


def band_power_baseline(data, *, seed: int = 0) -> float:
    """5-fold accuracy of a logistic regression on the log power of the planted band at the planted
    channels (scikit-learn): what a simple model reads from the planted evidence, for comparison
    with the deep model's accuracy on the same data."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    planted = data.info["planted"]
    chans = sorted({c for cs in planted.get("channels_by_class", {"": planted["channels"]}).values() for c in cs})
    lo, hi = next(iter(planted["bands_hz"].values()))
    f = np.fft.rfftfreq(data.n_times, 1 / data.sfreq)
    sel = (f >= lo) & (f <= hi)
    idx = [data.ch_names.index(c) for c in chans]
    P = np.log((np.abs(np.fft.rfft(data.X[:, idx], axis=-1)) ** 2)[..., sel].mean(-1))
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(LogisticRegression(), P, data.y, cv=cv).mean())


def quick_config(**kw) -> Config:
    """The CI size: one layout, one model, one seed, few samples, small budgets."""
    base = Config(
        layouts=("deap",),
        models=("eegnet",),
        seeds=(0,),
        n_subjects=3,
        fit=dict(epochs=15, lr=1e-2, patience=15, batch_size=32),
        n_explain=12,
        method_kw=budgets(ig_steps=8, smoothgrad_samples=8, mask_epochs=30, frequency_epochs=20),
        faith_steps_time=8,
        sanity_n=6,
        sanity_methods=("gradient", "input_x_gradient", "lrp_epsilon", "random"),
        sweep_difficulties=(0.0, 0.6),
        sweep_methods=("gradient", "lrp_epsilon"),
    )
    return replace(base, **kw)


# ---------------------------------------------------------------------------------------------
# one run
# ---------------------------------------------------------------------------------------------


def _data(layout: str, cfg: Config, seed: int, difficulty: float | None = None):
    from eegnb.data import simulate

    return simulate(
        layout,
        n_subjects=cfg.n_subjects,
        seed=seed,
        difficulty=cfg.difficulty if difficulty is None else difficulty,
        **cfg.sim_kw.get(layout, {}),
    )


def _model(name: str, data, cfg: Config, seed: int, device, cache_dir):
    from eegnb import train

    split = train.subject_independent(data, seed=seed)[0]
    model = train.train_model(
        name, data, split, seed=seed, device=device, cache_dir=cache_dir, progress=False,
        model_kw=cfg.model_kw.get(name, {}), **cfg.fit
    )
    acc = train.evaluate(model, data.X[split.test], data.y[split.test], device=device)["acc"]
    return model, split, float(acc)


def _explain_set(data, split, n: int, seed: int) -> np.ndarray:
    """``n`` test indices, taken round-robin over the classes (seeded), sorted."""
    rng = np.random.default_rng(seed)
    test = np.asarray(split.test)
    per = [list(rng.permutation(test[data.y[test] == c])) for c in range(data.n_classes)]
    out: list[int] = []
    while len(out) < n and any(per):
        for p in per:
            if p and len(out) < n:
                out.append(int(p.pop(0)))
    return np.sort(np.asarray(out, dtype=int))


def _kw(cfg: Config, method: str, sfreq: float) -> dict:
    kw = dict(cfg.method_kw.get(method, {}))
    if METHODS[method].domain == "frequency":
        kw.setdefault("n_bands", cfg.n_bands)
    if METHODS[method].needs_sfreq:
        kw["sfreq"] = sfreq
    return kw


def _uses_target(method: str) -> bool:
    return bool(getattr(METHODS[method], "uses_target", True))


def _scores(maps, truth, model, X, y, *, domain, sfreq, edges, cfg, device) -> pd.DataFrame:
    """Per-sample localisation, faithfulness and degeneracy of ``maps``."""
    from eegnb.metrics.controls import degenerate
    from eegnb.metrics.faithfulness import faithfulness_area
    from eegnb.metrics.localisation import localisation_auc, relevance_mass, topk_precision

    out = dict(
        auc=localisation_auc(maps, truth),
        mass=relevance_mass(maps, truth),
        topk=topk_precision(maps, truth),
        degenerate=degenerate(maps),
    )
    if domain == "time":
        ch = faithfulness_area(model, X, y, maps, axis="channel", n_steps=cfg.faith_steps_channel, device=device)
        tm = faithfulness_area(model, X, y, maps, axis="time", n_steps=cfg.faith_steps_time, device=device)
        out.update(faith_gap=ch["gap"], faith_most=ch["area_most"], faith_least=ch["area_least"],
                   faith_gap_time=tm["gap"])
    else:
        fb = faithfulness_area(model, X, y, maps, axis="band", sfreq=sfreq, edges=edges, device=device)
        out.update(faith_gap=fb["gap"], faith_most=fb["area_most"], faith_least=fb["area_least"])
    return pd.DataFrame(out)


def run_one(layout: str, model_name: str, seed: int, cfg: Config, *, device=None, cache_dir=None,
            progress: bool = True) -> dict:
    """Train one model and score every method and control on its held-out samples.

    Returns ``{"scores": DataFrame (one row per method and sample), "cost": DataFrame (one
    row per method), "acc": test accuracy, "n_train": ...}``; cached by layout, model, seed,
    the whole ``cfg`` and (by :func:`eegnb.utils.cached`) the version of the code it runs.
    """
    from eegnb.metrics.controls import oracle_map, random_map, shuffled_map
    from eegnb.metrics.cost import measure_cost

    def compute():
        data = _data(layout, cfg, seed)
        model, split, acc = _model(model_name, data, cfg, seed, device, cache_dir)
        idx = _explain_set(data, split, cfg.n_explain, seed)
        X, y, truth = data.X[idx], data.y[idx], data.truth[idx]
        edges = band_edges(data.sfreq, cfg.n_bands)
        btruth = np.broadcast_to(band_truth(data.truth_freq, data.sfreq, data.n_times, edges),
                                 (len(idx), data.n_chans, len(edges))).copy()
        rows, costs, maps_time = [], [], {}
        methods = list(cfg.time_methods) + list(cfg.freq_methods)
        for m in tqdm(methods, desc=f"{layout}/{model_name}/seed {seed}", disable=not progress, leave=False):
            kw = _kw(cfg, m, data.sfreq)
            tgt = y if _uses_target(m) else None
            box = {}

            def call(m=m, kw=kw, tgt=tgt, box=box):
                box["maps"] = explain(m, model, X, tgt, device=device, **kw)

            c = measure_cost(call, len(X), device=device)
            maps = box["maps"]
            dom = METHODS[m].domain
            if dom == "time":
                maps_time[m] = maps
            sc = _scores(maps, truth if dom == "time" else btruth, model, X, y, domain=dom,
                         sfreq=data.sfreq, edges=edges, cfg=cfg, device=device)
            rows.append(sc.assign(method=m, domain=dom, sample=np.arange(len(X)), control=False))
            costs.append(dict(method=m, domain=dom, **c))
        rng_seed = 10_000 + seed
        controls = {
            ("random", "time"): random_map(X.shape, seed=rng_seed),
            ("oracle", "time"): oracle_map(truth),
            ("random", "frequency"): random_map(btruth.shape, seed=rng_seed),
            ("oracle", "frequency"): oracle_map(btruth),
        }
        if "gradient" in maps_time:
            controls[("shuffled", "time")] = shuffled_map(maps_time["gradient"], seed=rng_seed)
        for (name, dom), maps in controls.items():
            sc = _scores(maps, truth if dom == "time" else btruth, model, X, y, domain=dom,
                         sfreq=data.sfreq, edges=edges, cfg=cfg, device=device)
            rows.append(sc.assign(method=name, domain=dom, sample=np.arange(len(X)), control=True))
        scores = pd.concat(rows, ignore_index=True).assign(layout=layout, model=model_name, seed=seed)
        cost = pd.DataFrame(costs).assign(layout=layout, model=model_name, seed=seed)
        return dict(scores=scores, cost=cost, acc=acc, n_train=len(split.train), n_test=len(split.test))

    key = ("benchmark-run", layout, model_name, int(seed), asdict(cfg), str(device))
    return cached(cache_dir, "benchmark", key, compute)


def run(cfg: Config, *, device=None, cache_dir=None, progress: bool = True) -> dict:
    """Every run of ``cfg``: ``{"scores", "cost", "runs"}`` DataFrames (runs: accuracy per run)."""
    pairs = [(lay, mod) for lay in cfg.layouts for mod in cfg.models] + list(cfg.extra_runs)
    grid = [(lay, mod, s) for lay, mod in pairs for s in cfg.seeds]
    res = [run_one(*g, cfg, device=device, cache_dir=cache_dir, progress=progress)
           for g in tqdm(grid, desc="benchmark runs", disable=not progress)]
    runs = pd.DataFrame([dict(layout=g[0], model=g[1], seed=g[2], acc=r["acc"], n_train=r["n_train"],
                              n_test=r["n_test"]) for g, r in zip(grid, res)])
    return dict(scores=pd.concat([r["scores"] for r in res], ignore_index=True),
                cost=pd.concat([r["cost"] for r in res], ignore_index=True), runs=runs)


# ---------------------------------------------------------------------------------------------
# sanity and difficulty sweep
# ---------------------------------------------------------------------------------------------


def _weight_layers(model) -> list[str]:
    """Convolution and linear layers (the cascade randomises these; BatchNorm layers ride along
    untouched, which keeps the number of explanation passes per method small)."""
    from torch import nn

    from eegnb.metrics.sanity import parameterised_layers

    names = set(parameterised_layers(model))
    kinds = (nn.Conv1d, nn.Conv2d, nn.Linear)
    return [n for n, mod in model.named_modules() if n in names and isinstance(mod, kinds)]


def run_sanity(cfg: Config, *, device=None, cache_dir=None, progress: bool = True) -> pd.DataFrame:
    """Cascading randomisation of ``cfg.sanity_model`` on ``cfg.sanity_layout``, every seed.

    One row per (seed, method, step) with the mean Spearman correlation between the trained and
    the progressively randomised model's maps (:func:`eegnb.metrics.sanity.cascading_randomisation`).
    """
    from eegnb.metrics.sanity import cascading_randomisation

    methods = cfg.sanity_methods or (tuple(cfg.time_methods) + tuple(cfg.freq_methods) + ("random",))
    out = []
    for seed in tqdm(cfg.seeds, desc="sanity", disable=not progress):

        def compute(seed=seed):
            data = _data(cfg.sanity_layout, cfg, seed)
            model, split, _ = _model(cfg.sanity_model, data, cfg, seed, device, cache_dir)
            idx = _explain_set(data, split, cfg.sanity_n, seed)
            rows = []
            for m in methods:
                kw = _kw(cfg, m, data.sfreq)
                if m == "random":
                    kw["seed"] = 10_000 + seed
                df = cascading_randomisation(model, data.X[idx], m, seed=seed, layers=_weight_layers(model),
                                             explain_kw=kw, device=device)
                rows.append(df.assign(method=m, seed=seed, domain=METHODS[m].domain))
            return pd.concat(rows, ignore_index=True)

        key = ("benchmark-sanity", int(seed), asdict(cfg), str(device))
        out.append(cached(cache_dir, "benchmark", key, compute))
    return pd.concat(out, ignore_index=True)


def run_sweep(cfg: Config, *, device=None, cache_dir=None, progress: bool = True) -> pd.DataFrame:
    """Localisation AUC per sample as the planted effect weakens (``cfg.sweep_difficulties``).

    One row per (difficulty, seed, method, sample) with ``auc`` and the model's test ``acc``;
    the random and oracle controls are included.
    """
    from eegnb.metrics.controls import oracle_map, random_map
    from eegnb.metrics.localisation import localisation_auc

    out = []
    grid = [(d, s) for d in cfg.sweep_difficulties for s in cfg.seeds]
    for d, seed in tqdm(grid, desc="difficulty sweep", disable=not progress):

        def compute(d=d, seed=seed):
            data = _data(cfg.sweep_layout, cfg, seed, difficulty=d)
            model, split, acc = _model(cfg.sweep_model, data, cfg, seed, device, cache_dir)
            idx = _explain_set(data, split, cfg.n_explain, seed)
            X, y, truth = data.X[idx], data.y[idx], data.truth[idx]
            maps = {m: explain(m, model, X, y if _uses_target(m) else None, device=device,
                               **_kw(cfg, m, data.sfreq)) for m in cfg.sweep_methods}
            maps["random"] = random_map(X.shape, seed=10_000 + seed)
            maps["oracle"] = oracle_map(truth)
            rows = [pd.DataFrame(dict(auc=localisation_auc(v, truth), method=m, sample=np.arange(len(X))))
                    for m, v in maps.items()]
            return pd.concat(rows, ignore_index=True).assign(difficulty=d, seed=seed, acc=acc)

        key = ("benchmark-sweep", float(d), int(seed), asdict(cfg), str(device))
        out.append(cached(cache_dir, "benchmark", key, compute))
    return pd.concat(out, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# aggregation
# ---------------------------------------------------------------------------------------------

#: Leaderboard metrics: column in the scores -> (label, higher is better).
METRICS = {
    "auc": ("localisation ROC-AUC", True),
    "mass": ("relevance mass in truth", True),
    "topk": ("top-k precision", True),
    "faith_gap": ("faithfulness area (LeRF - MoRF)", True),
}


def _unit_ids(df: pd.DataFrame, by_run: bool) -> np.ndarray:
    if by_run:
        return (df["layout"].astype(str) + "/" + df["model"].astype(str) + "/" + df["seed"].astype(str)).to_numpy()
    return (df["layout"].astype(str) + "/" + df["model"].astype(str) + "/" + df["seed"].astype(str)
            + "/" + df["sample"].astype(str)).to_numpy()


def leaderboard(res: dict, sanity: pd.DataFrame | None = None, *, ci: float = 0.95) -> pd.DataFrame:
    """Method x metric table: mean and ``ci`` interval of every metric, degenerate counts, cost.

    The interval's unit is the run (layout x model x seed) when there are at least two runs,
    else the sample (``unit`` column). Sanity: the Spearman correlation after the whole model is
    randomised, with its interval over seeds (samples when one seed), and ``sanity_pass``
    (upper end of the interval below 0.5). Cost: median seconds per sample and peak MB over runs.
    """
    from eegnb.stats import mean_ci

    scores = res["scores"]
    n_runs = scores.groupby(["layout", "model", "seed"]).ngroups
    by_run = n_runs >= 2
    unit = "run (layout x model x seed)" if by_run else "sample"
    rows = []
    for (method, domain), g in scores.groupby(["method", "domain"], sort=False):
        r = dict(method=method, domain=domain, control=bool(g["control"].iloc[0]), unit=unit,
                 n_runs=int(g.groupby(["layout", "model", "seed"]).ngroups), n_samples=len(g),
                 n_degenerate=int(g["degenerate"].sum()), degenerate_share=float(g["degenerate"].mean()))
        units = _unit_ids(g, by_run)
        cols = list(METRICS) + (["faith_gap_time"] if "faith_gap_time" in g and g["faith_gap_time"].notna().any() else [])
        for col in cols:
            s = mean_ci(g[col].to_numpy(float), units, ci=ci, unit_name=unit)
            r.update({col: s["mean"], f"{col}_lo": s["lo"], f"{col}_hi": s["hi"]})
        rows.append(r)
    tab = pd.DataFrame(rows)
    cost = res["cost"].groupby("method")[["seconds_per_sample", "peak_mb"]].median()
    tab = tab.merge(cost, left_on="method", right_index=True, how="left")
    if sanity is not None and len(sanity):
        full = sanity.loc[sanity.groupby(["method", "seed"])["step"].transform("max") == sanity["step"]]
        n_seeds = full["seed"].nunique()
        srows = []
        for (m, dom), g in full.groupby(["method", "domain"]):
            s = mean_ci(g["spearman"].to_numpy(float), g["seed"].to_numpy() if n_seeds >= 2 else None,
                        ci=ci, unit_name="seed" if n_seeds >= 2 else "step")
            if n_seeds < 2 and "spearman_lo" in g:
                s.update(lo=float(g["spearman_lo"].iloc[0]), hi=float(g["spearman_hi"].iloc[0]), unit="sample")
            srows.append(dict(method=m, domain=dom, sanity_rho=s["mean"], sanity_rho_lo=s["lo"], sanity_rho_hi=s["hi"],
                              sanity_unit=s["unit"]))
        sdf = pd.DataFrame(srows)
        sdf["sanity_pass"] = sdf["sanity_rho_hi"] < 0.5
        tab = tab.merge(sdf, on=["method", "domain"], how="left")
    order = {m: i for i, m in enumerate(list(TIME_METHODS) + list(FREQ_METHODS) + list(CONTROLS))}
    tab["_o"] = [(d != "time", m in CONTROLS, order.get(m, 99)) for m, d in zip(tab["method"], tab["domain"])]
    return tab.sort_values("_o").drop(columns="_o").reset_index(drop=True)


def ci_of(tab: pd.DataFrame, method: str, col: str, domain: str = "time") -> dict:
    """The ``{"mean", "lo", "hi"}`` of one leaderboard cell (for :func:`eegnb.stats.compare`)."""
    r = tab[(tab["method"] == method) & (tab["domain"] == domain)]
    if r.empty:
        raise KeyError(f"{method!r} ({domain}) is not in the leaderboard")
    r = r.iloc[0]
    return dict(mean=float(r[col]), lo=float(r[f"{col}_lo"]), hi=float(r[f"{col}_hi"]))


def reading(tab: pd.DataFrame, col: str = "auc") -> list[str]:
    """Sentences read off the leaderboard; every verdict from :func:`eegnb.stats.compare`.

    Per domain: which methods beat the random control on ``col``, which are not separated from
    it, which is best and which are not separated from the best; which methods fail the sanity
    check; degenerate maps; the cost range.
    """
    from eegnb.stats import compare, format_ci

    label = METRICS.get(col, (col, True))[0]
    lines = []
    for dom in ("time", "frequency"):
        t = tab[tab["domain"] == dom]
        meth = t[~t["control"]]
        if meth.empty:
            continue
        rnd = ci_of(tab, "random", col, dom)
        beat = [m for m in meth["method"] if compare(ci_of(tab, m, col, dom), rnd) == "A beats B"]
        tied = [m for m in meth["method"] if m not in beat]
        best = meth.loc[meth[col].idxmax(), "method"]
        near = [m for m in meth["method"] if m != best
                and compare(ci_of(tab, best, col, dom), ci_of(tab, m, col, dom)) == "not separated"]
        orc = ci_of(tab, "oracle", col, dom)
        lines.append(
            f"**{dom.capitalize()} domain, {label}** (interval unit: {t['unit'].iloc[0]}): random control "
            f"{format_ci(rnd)}, oracle {format_ci(orc)}. Above the random control: "
            f"{', '.join(beat) if beat else 'none'}; not separated from it: {', '.join(tied) if tied else 'none'}. "
            f"Highest: {best} {format_ci(ci_of(tab, best, col, dom))}"
            + (f"; not separated from it: {', '.join(near)}." if near else "; every other method is separated from it.")
        )
    if "sanity_pass" in tab:
        s = tab.dropna(subset=["sanity_rho"]).drop_duplicates("method")
        fail = [f"{m} (rho {r:.2f})" for m, r, p in zip(s["method"], s["sanity_rho"], s["sanity_pass"]) if not p]
        lines.append(
            f"**Sanity (cascading randomisation):** {int(s['sanity_pass'].sum())} of {len(s)} methods change "
            f"their maps when the model is randomised (upper end of the rank-correlation interval below 0.5); "
            f"not shown to change: {', '.join(fail) if fail else 'none'}."
        )
    deg = tab[tab["n_degenerate"] > 0]
    lines.append(
        "**Degenerate maps:** "
        + (", ".join(f"{m} ({d}) {n} of {k}" for m, d, n, k in zip(deg["method"], deg["domain"], deg["n_degenerate"], deg["n_samples"]))
           if len(deg) else "none")
        + " (counted, never re-drawn)."
    )
    c = tab.dropna(subset=["seconds_per_sample"])
    if len(c):
        lo, hi = c.loc[c["seconds_per_sample"].idxmin()], c.loc[c["seconds_per_sample"].idxmax()]
        lines.append(
            f"**Cost:** from {lo['seconds_per_sample'] * 1e3:.1f} ms per sample ({lo['method']}) to "
            f"{hi['seconds_per_sample']:.2f} s ({hi['method']}), a factor {hi['seconds_per_sample'] / lo['seconds_per_sample']:.0f}."
        )
    return lines


def sweep_table(sweep: pd.DataFrame, *, ci: float = 0.95) -> pd.DataFrame:
    """Mean localisation AUC with its interval per (method, difficulty); unit: seed (sample if one)."""
    from eegnb.stats import mean_ci

    n_seeds = sweep["seed"].nunique()
    rows = []
    for (m, d), g in sweep.groupby(["method", "difficulty"]):
        units = g["seed"].to_numpy() if n_seeds >= 2 else None
        s = mean_ci(g["auc"].to_numpy(float), units, ci=ci, unit_name="seed" if n_seeds >= 2 else "sample")
        rows.append(dict(method=m, difficulty=d, auc=s["mean"], lo=s["lo"], hi=s["hi"], unit=s["unit"],
                         acc=float(g["acc"].mean())))
    return pd.DataFrame(rows)


def fingerprint_config(cfg: Config) -> str:
    """Short hash of ``cfg`` (printed by the notebook so a reader can match runs)."""
    return fingerprint(asdict(cfg))
