"""Experiments of paper 2 (Wang et al., frequency-domain mask perturbation), kept out of the
notebook cells: ``notebooks/20_frequency_mask_method.ipynb`` (group and instance level, Figs.
5-8, band AUC against the planted truth) and ``21_frequency_mask_experiments.ipynb``
(leave-one-subject-out, Figs. 9-10; target-alignment sweep, Table 2; ablation and FLOPs,
Table 3).

Protocol (paper section 4): SEED-shaped data (62 channels, 200 Hz, 2 s segments), positive vs
negative; EEGNet, TSception and DeepConvNet trained subject-independently (all subjects pooled,
samples split at random) with :func:`eegnb.train.train_model`; masks learned on held-out test
samples with the training subjects as target-alignment reference. Every expensive step is
cached with :func:`eegnb.utils.cached` (keys: model weights, data, keywords).

Model adaptations, stated in the notebooks: DeepConvNet's temporal kernel is 5 samples
(``kernel_length=10`` needs at least 2.21 s at 200 Hz); TSception gets its channels in
hemisphere order (left, then mirrored right; midline channels dropped) through
:class:`ChannelSelect`, so all three models take the same 62-channel input and every map has
62 rows (midline rows of TSception's maps are uninformative by construction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from eegnb.explain.bands import band_edges, band_truth
from eegnb.explain.easypeasi import EasyPEASIResult, easypeasi_scores
from eegnb.explain.frequency_mask import FrequencyMask, FrequencyMaskResult
from eegnb.metrics.frequency_removal import generator_flops, kde_score, removal_game
from eegnb.metrics.localisation import localisation_auc
from eegnb.utils import cached, fingerprint

MODELS = ("eegnet", "tsception", "deepconvnet")
MODEL_KW = {"eegnet": {}, "tsception": {}, "deepconvnet": {"kernel_length": 5}}
LAMBDAS = (0.5, 0.05, 0.005, 0.0005, 0.0)
ABLATIONS = {
    "full": {},
    "no_l1": {"use_l1": False},
    "one_branch": {"generator": "one_branch"},
    "gru": {"generator": "gru"},
}


# --------------------------------------------------------------------------- data and models
def load_data(dataset: str = "sim", data_dir: str = "", *, n_subjects: int = 6, n_segments: int = 4,
              difficulty: float = 0.0, seed: int = 0, subjects=None):
    """SEED-shaped positive/negative data: simulated (``"sim"``, layout ``"seed"``) or real SEED.

    Simulated: ``n_subjects`` subjects x 10 trials x ``n_segments`` 2-s segments, evidence in
    16-45 Hz power over lateral temporal channels (``truth_freq`` marks it). Real: ``data_dir``
    with SEED's ``Preprocessed_EEG`` (``subjects`` picks who; every segment of every trial).
    """
    from eegnb.data import load, simulate

    if dataset == "sim":
        return simulate("seed", n_subjects=n_subjects, seed=seed, n_segments=n_segments, difficulty=difficulty)
    if dataset != "seed":
        raise ValueError(f"dataset must be 'sim' or 'seed', got {dataset!r}")
    return load("seed", data_dir, subjects=subjects, n_classes=2)


class ChannelSelect(nn.Module):
    """``model(x[:, index])``: lets a model trained on a channel subset/order take all channels."""

    def __init__(self, model: nn.Module, index, n_chans: int):
        super().__init__()
        self.model = model
        self.register_buffer("index", torch.as_tensor(list(index), dtype=torch.long))
        self.n_chans, self.n_times = n_chans, getattr(model, "n_times", None)
        self.n_classes, self.sfreq = getattr(model, "n_classes", None), getattr(model, "sfreq", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.index_select(1, self.index))


def train(name: str, data, split, *, seed: int = 0, device=None, cache_dir=None, progress: bool = False,
          **fit_kw) -> nn.Module:
    """Train model ``name`` on ``split`` (cached by :func:`eegnb.train.train_model`); TSception is
    trained on its hemisphere-ordered channels and returned wrapped in :class:`ChannelSelect`."""
    from eegnb.models import hemisphere_order
    from eegnb.train import train_model

    if name == "tsception":
        index, names = hemisphere_order(data.ch_names)
        sub = data.pick_channels(names)
        model = train_model(name, sub, split, seed=seed, device=device, cache_dir=cache_dir,
                            model_kw=MODEL_KW[name], progress=progress, **fit_kw)
        hist = model.history
        model = ChannelSelect(model, index, data.n_chans).to(next(model.parameters()).device).eval()
        model.history = hist
        return model
    return train_model(name, data, split, seed=seed, device=device, cache_dir=cache_dir,
                       model_kw=MODEL_KW.get(name, {}), progress=progress, **fit_kw)


def model_key(model: nn.Module) -> str:
    """Fingerprint of a model's class and weights (cache key part)."""
    return fingerprint(type(model).__name__, *[v.detach().cpu() for v in model.state_dict().values()])


# --------------------------------------------------------------------------- explanations
def explain_mask(model, X, *, sfreq: float, reference=None, cache_dir=None, **kw) -> FrequencyMaskResult:
    """:class:`FrequencyMask` on ``X (n, ch, t)``, cached by model weights, data and keywords.

    ``reference`` is ``(X_train, subject_train)``; ``kw`` go to :class:`FrequencyMask`.
    Adds ``seconds`` (wall time of the fit) to the result.
    """
    ref_key = None if reference is None else fingerprint(*reference)
    kw["keep_signals"] = True  # one cache entry serves the KDE sweep too
    explainer = FrequencyMask(model, sfreq, reference=reference, **kw)
    key = ("frequency_mask", model_key(model), fingerprint(X), ref_key, explainer.config())

    def compute():
        t0 = time.perf_counter()
        res = explainer.fit(X)
        res.seconds = time.perf_counter() - t0
        return res

    return cached(cache_dir, "frequency_mask", key, compute)


def explain_easypeasi(model, X, y, *, sfreq: float, cache_dir=None, **kw) -> EasyPEASIResult:
    """:func:`easypeasi_scores` with labels ``y`` (group level) cached like :func:`explain_mask`."""
    import inspect

    bound = inspect.signature(easypeasi_scores).bind(model, X, sfreq=sfreq, y=y, **kw)
    bound.apply_defaults()
    settings = {k: v for k, v in bound.arguments.items() if k not in ("model", "X", "y", "target", "device", "progress")}
    key = ("easypeasi", 2, model_key(model), fingerprint(X, y), sorted(settings.items(), key=str))

    def compute():
        t0 = time.perf_counter()
        res = easypeasi_scores(model, X, sfreq=sfreq, y=y, **kw)
        res.seconds = time.perf_counter() - t0
        return res

    return cached(cache_dir, "easypeasi", key, compute)


def explain_indices(split, n: int, seed: int = 0, subject=None) -> np.ndarray:
    """The test samples every experiment explains: ``n`` of ``split.test`` drawn with ``seed``, sorted.

    With ``subject`` (``(N,)`` ids of all samples) the draw takes the subjects in turn (each
    subject's test samples in a seeded random order), so every subject gets ``n / n_subjects``
    samples where it has them: per-subject means then rest on as many samples as possible.
    Shared by :func:`run_model`, :func:`lambda_sweep`, :func:`ablation` and
    :func:`early_stopping_effect` so that their common configurations hit the same cache entries."""
    te = np.asarray(split.test)
    rng = np.random.default_rng(seed)
    if subject is None:
        return np.sort(rng.permutation(te)[: min(int(n), len(te))])
    sub = np.asarray(subject)[te]
    queues = [list(rng.permutation(te[sub == s])) for s in np.unique(sub)]
    out = []
    while len(out) < min(int(n), len(te)):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return np.sort(np.asarray(out, dtype=te.dtype))


def random_maps(shape, seed: int = 0) -> np.ndarray:
    """Uniform random maps (the chance control for band AUC)."""
    return np.random.default_rng(seed).random(shape)


def band_auc_by_subject(maps: np.ndarray, truth_bands: np.ndarray, subject: np.ndarray, *,
                        absolute: bool = True, min_samples: int = 3) -> dict:
    """Band ROC-AUC of maps ``(n, ch, n_bands)`` against ``truth_bands (ch, n_bands)``, by subject.

    ``per_subject``: AUC of each subject's mean map (its group-level map; averaging first
    also breaks the many ties of sparse masks); ``instance``: mean over the subject's samples
    of the per-sample AUC. Subjects with fewer than ``min_samples`` explained samples are left
    out of both (one sample's map, e.g. all zero, would count as a whole subject) and listed in
    ``excluded`` ``{subject: n_samples}``. ``n_degenerate`` counts constant (e.g. all-zero) or
    non-finite maps among all samples (they score 0.5 and are kept, not replaced).
    ``mean``/``sem`` (and ``instance_mean``/``instance_sem``) summarise over the kept subjects
    (standard error of the mean).
    """
    from eegnb.metrics.controls import degenerate

    maps = np.asarray(maps, float)
    per, inst, excluded = {}, {}, {}
    for s in np.unique(subject):
        sel = subject == s
        if sel.sum() < min_samples:
            excluded[int(s)] = int(sel.sum())
            continue
        m = maps[sel].mean(0, keepdims=True)
        per[int(s)] = float(localisation_auc(m, truth_bands, absolute=absolute)[0])
        inst[int(s)] = float(np.nanmean(localisation_auc(maps[sel], truth_bands, absolute=absolute)))

    def summary(d):
        v = np.array([x for x in d.values() if np.isfinite(x)])
        sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        return float(v.mean()) if len(v) else float("nan"), sem

    mean, sem = summary(per)
    imean, isem = summary(inst)
    return {"per_subject": per, "mean": mean, "sem": sem, "instance": inst, "instance_mean": imean,
            "instance_sem": isem, "excluded": excluded, "n_degenerate": int(degenerate(maps).sum()), "n": int(len(maps))}


#: easyPEASI variants: noise statistics x score (module :mod:`eegnb.explain.easypeasi`).
EASY_NOISE = ("sample", "dataset")
EASY_SCORES = ("prob", "abs", "logit")


def easy_key(noise: str, score: str) -> str:
    """Method name of an easyPEASI variant, e.g. ``"easypeasi_sample_prob"``."""
    return f"easypeasi_{noise}_{score}"


@dataclass
class ModelResults:
    """Everything notebook 20 shows for one model. ``ours``: the mask on the test samples
    ``idx``; ``easy[noise]``: easyPEASI on the same samples with ``noise`` statistics;
    ``accuracy[method][level]``: RN/RS games (``ours``, every easyPEASI variant, ``random``,
    ``oracle``); ``per_class[method][class]``: the group-level game on each class's test
    samples; ``band_auc[method]``: band AUC by subject; ``n_forward``: forward passes per
    method; ``degenerate[method]``: constant (all-zero) maps among the explained samples."""

    name: str
    test_acc: float
    ours: FrequencyMaskResult
    easy: dict
    idx: np.ndarray
    accuracy: dict = field(default_factory=dict)
    per_class: dict = field(default_factory=dict)
    band_auc: dict = field(default_factory=dict)
    n_forward: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    degenerate: dict = field(default_factory=dict)

    def maps(self) -> dict:
        """Instance maps ``(n, ch, n_bands)`` of ours and every easyPEASI variant, by method name."""
        out = {"ours": self.ours.saliency}
        for noise, r in self.easy.items():
            for sc in EASY_SCORES:
                out[easy_key(noise, sc)] = r.score(sc)
        return out


def run_model(name: str, model, data, split, *, n_explain: int, mask_kw=None, easy_kw=None, n_bands: int = 10,
              easy_noise=EASY_NOISE, min_samples: int = 3, seed: int = 0, cache_dir=None, device=None,
              n_easypeasi: int | None = None) -> ModelResults:
    """Group- and instance-level experiment for one trained model (paper 2, Figs. 5-8).

    Explains ``n_explain`` test samples with the mask and with easyPEASI (both noise
    variants, three scores each), on the same samples. Group-level games average each map over
    the explained samples and remove components from every test sample; instance-level games
    use each sample's own map. Controls through the same games and band AUC: ``random``
    (uniform maps) and ``oracle`` (the planted band truth, simulated data only).
    ``n_easypeasi`` is accepted for old callers and must not be smaller than ``n_explain``.
    """
    from eegnb.explain import predict
    from eegnb.metrics.controls import degenerate, oracle_map, random_map

    if n_easypeasi is not None and n_easypeasi < min(n_explain, len(split.test)):
        raise ValueError("easyPEASI is scored on the mask's samples: n_easypeasi must be >= n_explain (or None)")
    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    mask_kw = dict(mask_kw or {})
    easy_kw = dict(easy_kw or {})
    te = np.asarray(split.test)
    idx = explain_indices(split, n_explain, seed, data.subject)
    X, y = data.X[idx], data.y[idx]
    Xte, yte = data.X[te], data.y[te]
    ref = (data.X[split.train], data.subject[split.train])
    test_acc = float((predict(model, Xte, device=device).argmax(1) == yte).mean())
    ours = explain_mask(model, X, sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed, device=device, **mask_kw)
    easy = {noise: explain_easypeasi(model, X, y, sfreq=sf, cache_dir=cache_dir, n_bands=n_bands, seed=seed, device=device,
                                     noise_stats=noise, **easy_kw) for noise in easy_noise}
    res = ModelResults(name, test_acc, ours, easy, idx)
    maps = res.maps()
    maps["random"] = random_map(ours.saliency.shape, seed)
    bt = band_truth(data.truth_freq, sf, data.n_times, edges) if data.truth_freq is not None else None
    if bt is not None:
        maps["oracle"] = np.broadcast_to(oracle_map(bt), ours.saliency.shape).copy()
    game = dict(sfreq=sf, edges=edges, device=device, seed=seed)
    group_maps = {m: v.mean(0) for m, v in maps.items()}
    for noise, r in easy.items():  # easyPEASI's own group-level score: the accuracy drop
        group_maps[f"easypeasi_{noise}_accuracy"] = r.group
    for m, v in maps.items():
        res.accuracy[m] = {"group": removal_game(model, Xte, yte, group_maps[m], level="group", **game),
                           "instance": removal_game(model, X, y, v, level="instance", **game)}
        res.degenerate[m] = int(degenerate(v).sum())
    for noise in easy:
        k = f"easypeasi_{noise}_accuracy"
        res.accuracy[k] = {"group": removal_game(model, Xte, yte, group_maps[k], level="group", **game)}
    for m in ("ours", "random", "oracle", easy_key("dataset", "logit")):
        if m in group_maps:
            res.per_class[m] = {int(c): removal_game(model, Xte[yte == c], yte[yte == c], group_maps[m], level="group", **game)
                                for c in np.unique(yte)}
    if bt is not None:
        subj = data.subject[idx]
        res.band_auc = {m: band_auc_by_subject(v, bt, subj, absolute=m == "ours", min_samples=min_samples)
                        for m, v in maps.items()}
    k = len(idx)
    first = next(iter(easy.values()))
    res.n_forward = {
        "ours": int(ours.n_forward),
        "ours_per_epoch": k,
        "ours_epochs": int(np.sum(ours.epochs)),
        "ours_epochs_mean": float(np.mean(ours.epochs)),
        "ours_budget": int(mask_kw.get("epochs", 300)),
        "easypeasi_instance": int(first.n_forward),
        "easypeasi_per_sample": int(first.n_forward // max(k, 1)),
    }
    res.seconds = {"ours": float(getattr(ours, "seconds", np.nan)),
                   **{f"easypeasi_{n}": float(getattr(r, "seconds", np.nan)) for n, r in easy.items()}}
    return res


def easypeasi_throughput(model, X, *, sfreq: float, n_bands: int = 10, forward_batch: int = 512, device=None,
                         repeats: int = 3) -> dict:
    """Batched easyPEASI against the model's own inference on ``X (n, ch, t)``, timed here.

    ``easypeasi_per_s``: perturbed forward passes per second (noise, irfft and stacking
    included); ``inference_per_s``: plain batched forward passes per second on the same number
    of inputs in batches of ``forward_batch``; ``ratio`` = inference / easyPEASI time per pass
    (1.0 = at the model's limit; issue target <= 1.2). Best of ``repeats`` runs each."""
    from eegnb.utils import get_device

    dev = get_device(device) if device is not None else next(model.parameters()).device
    X = np.asarray(X, np.float32)
    n, n_ch, n_t = X.shape
    t_easy = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = easypeasi_scores(model, X, sfreq=sfreq, n_bands=n_bands, forward_batch=forward_batch, device=dev)
        t_easy.append(time.perf_counter() - t0)
    n_pass = int(r.n_forward)
    rows = max(1, forward_batch // n_ch) * n_ch
    Xt = torch.as_tensor(X)
    batch = Xt[np.arange(rows) % n].to(dev)
    n_calls = int(np.ceil(n_pass / rows))
    t_inf = []
    with torch.no_grad():
        model.eval()
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _c in range(n_calls):
                model(batch).cpu()
            t_inf.append((time.perf_counter() - t0) * n_pass / (n_calls * rows))
    te, ti = min(t_easy), min(t_inf)
    return dict(n_passes=n_pass, easypeasi_s=te, inference_s=ti, easypeasi_per_s=n_pass / te, inference_per_s=n_pass / ti,
                ratio=te / ti, device=str(dev))


# --------------------------------------------------------------------------- LOSO (Figs. 9-10)
@dataclass
class LosoResult:
    """Per held-out subject: accuracies ``{"ori", "rn", "rs"}`` at group and instance level,
    its maps ``(n, ch, n_bands)`` and the model's test accuracy."""

    subject: int
    maps: np.ndarray
    group: dict
    instance: dict
    acc: float


def run_loso(name: str, data, subjects, *, n_explain: int, fit_kw: dict, mask_kw=None, n_bands: int = 10,
             seed: int = 0, cache_dir=None, device=None, progress: bool = False) -> list[LosoResult]:
    """Leave-one-subject-out (paper 2, section 4.5): for each held-out subject in ``subjects``,
    train ``name`` on the others (one validation subject), explain ``n_explain`` of the held-out
    subject's samples and play the RN/RS game on all of them (group) and on the explained ones
    (instance)."""
    from eegnb.explain import predict
    from eegnb.progress import tqdm
    from eegnb.train import loso

    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    splits = {int(s.test_subjects[0]): s for s in loso(data, n_val_subjects=1, seed=seed)}
    out = []
    for s in tqdm(list(subjects), desc="LOSO folds", disable=not progress):
        sp = splits[int(s)]
        model = train(name, data, sp, seed=seed, device=device, cache_dir=cache_dir, **fit_kw)
        te = np.asarray(sp.test)
        idx = explain_indices(sp, n_explain, seed)
        ref = (data.X[sp.train], data.subject[sp.train])
        r = explain_mask(model, data.X[idx], sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed,
                         device=device, **dict(mask_kw or {}))
        game = dict(sfreq=sf, edges=edges, device=device, seed=seed)
        acc = float((predict(model, data.X[te], device=device).argmax(1) == data.y[te]).mean())
        out.append(LosoResult(int(s), r.saliency,
                              removal_game(model, data.X[te], data.y[te], r.saliency, level="group", **game),
                              removal_game(model, data.X[idx], data.y[idx], r.saliency, level="instance", **game), acc))
    return out


def loso_band_auc(folds: list[LosoResult], truth_bands: np.ndarray, *, seed: int = 0) -> dict:
    """Band ROC-AUC of each held-out subject's mean map against ``truth_bands (ch, n_bands)``,
    for our maps and for random maps: ``{method: {"per_subject", "mean", "sem"}}`` (SEM over folds)."""
    out = {}
    for method in ("ours", "random"):
        per = {}
        for f in folds:
            m = f.maps.mean(0) if method == "ours" else random_maps(f.maps.shape[1:], seed + f.subject)
            per[f.subject] = float(localisation_auc(m[None], truth_bands)[0])
        v = np.array(list(per.values()))
        sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        out[method] = {"per_subject": per, "mean": float(v.mean()), "sem": sem}
    return out


# --------------------------------------------------------------------------- Table 2
def lambda_sweep(model, data, split, *, lambdas=LAMBDAS, alignments=("complex",), n_explain: int, mask_kw=None,
                 n_bands: int = 10, seed: int = 0, cache_dir=None, device=None, progress: bool = False) -> dict:
    """Target-alignment sensitivity (paper 2, Table 2): for each alignment (``"complex"``: the
    paper's; ``"magnitude"``/``"logpower"``: phase-blind variants) and ``lambda_dist``, the KDE
    log-likelihood of the perturbed test samples (``x_hat``; log-band-power features, and
    ``kde_time`` on the raw samples) and of the perturbations alone (``irfft(x^{f,r})``) under
    a KDE of the training samples, ``kde_nearest_sq`` (mean squared whitened distance to the
    nearest training sample, what drives the score), ``logpower_gap`` (mean log band power of
    ``x_hat`` minus that of ``x``, nats), the group-level accuracy drops (``rs_drop``: the
    paper's "performance drop"; ``rn_drop``), the mean mask and the mean epochs run.

    Returns ``{"original": {...}, alignment: {f"{lam:g}": {...}}}``; the held-out original test
    samples are the ceiling (``"original"``). lambda = 0 has no alignment term and is computed once.
    """
    from eegnb.metrics.frequency_removal import kde_details, log_band_power
    from eegnb.progress import tqdm

    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    te = np.asarray(split.test)
    idx = explain_indices(split, n_explain, seed, data.subject)
    X = data.X[idx]
    Xtr = data.X[split.train]
    ref = (Xtr, data.subject[split.train])
    from eegnb.metrics.frequency_removal import salient_split

    bt = band_truth(data.truth_freq, sf, data.n_times, edges) >= 0.5 if data.truth_freq is not None else None
    lp_x = log_band_power(X, sfreq=sf, n_bands=n_bands)
    d0 = kde_details(Xtr, X, sfreq=sf)
    out = {"original": {"kde": d0["score"], "kde_nearest_sq": d0["nearest_sq"], "kde_dim": d0["dim"],
                        "kde_time": kde_score(Xtr, X, sfreq=sf, features="time")}}
    zero = None
    for al in alignments:
        out[al] = {}
        for lam in tqdm(list(lambdas), desc=f"lambda ({al})", disable=not progress):
            if lam == 0 and zero is not None:
                out[al][f"{lam:g}"] = zero
                continue
            kw = dict(mask_kw or {}, lambda_dist=float(lam), keep_signals=True, alignment="complex" if lam == 0 else al)
            r = explain_mask(model, X, sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed, device=device, **kw)
            g = removal_game(model, data.X[te], data.y[te], r.saliency, level="group", sfreq=sf, edges=edges, device=device, seed=seed)
            d = kde_details(Xtr, r.perturbed, sfreq=sf)
            row = {
                "kde": d["score"],
                "kde_nearest_sq": d["nearest_sq"],
                "kde_perturbation": kde_score(Xtr, r.perturbation, sfreq=sf),
                "kde_time": kde_score(Xtr, r.perturbed, sfreq=sf, features="time"),
                "logpower_gap": float(np.mean(log_band_power(r.perturbed, sfreq=sf, n_bands=n_bands) - lp_x)),
                "rs_drop": g["rs_drop"],
                "rn_drop": g["rn_drop"],
                "mask_mean": float(r.saliency.mean()),
                "epochs_mean": float(np.mean(r.epochs)),
                "rs": g["rs"],
                "ori": g["ori"],
                # share of the planted components in the group map's salient half
                "planted_in_salient": float(salient_split(r.saliency.mean(0))[bt].mean()) if bt is not None else float("nan"),
            }
            out[al][f"{lam:g}"] = row
            if lam == 0:
                zero = row
    return out


def alignment_diagnostic(X, subject) -> dict:
    """Why the paper's complex L_dist acts like L1 shrinkage, measured on reference data
    ``X (N, ch, t)`` with subjects ``(N,)``.

    Per subject cluster (power-normalised, averaged over channels, bins and subjects):
    ``mean_power_ratio`` = |mean complex spectrum|^2 / mean power (about 1 / N_k for random
    phases), and the complex L_dist of three candidate perturbations: ``L_zero`` (x^{f,r} = 0),
    ``L_mean`` (the cluster's mean spectrum, the minimiser) and ``L_sample`` (one of the
    cluster's own samples, i.e. a perturbation that *is* data): a data-like perturbation costs
    about twice as much as zero. The same for the log-power alignment (``logpower_*``), where
    zero is expensive and a sample is cheap. ``n_per_subject`` the mean cluster size."""
    from eegnb.explain.frequency_mask import Reference

    X = np.asarray(X, np.float32)
    subject = np.asarray(subject)
    ref = Reference.from_data(X, subject)
    rat, lz, lm, ls, pz, ps, sizes = [], [], [], [], [], [], []
    for j, s in enumerate(ref.subjects):
        f = torch.fft.rfft(torch.as_tensor(X[subject == s]), dim=-1)
        P = ref.pow_mean[j].clamp_min(1e-20)
        mu, var = ref.spec_mean[j], ref.spec_var[j]
        rat.append(float(((mu.abs() ** 2) / P).mean()))
        lz.append(float(((mu.abs() ** 2 + var) / P).mean()))
        lm.append(float((var / P).mean()))
        ls.append(float((((f - mu).abs() ** 2 + var) / P).mean()))
        eps = 1e-2 * ref.pow_mean[j] + 1e-20
        lmu, lvar = ref.logp_mean[j], ref.logp_var[j]
        pz.append(float(((torch.log(eps) - lmu) ** 2 + lvar).mean()))
        ps.append(float(((torch.log(f.abs() ** 2 + eps) - lmu) ** 2 + lvar).mean()))
        sizes.append(int((subject == s).sum()))
    return dict(mean_power_ratio=float(np.mean(rat)), inverse_cluster_size=float(np.mean(1 / np.asarray(sizes))),
                L_zero=float(np.mean(lz)), L_mean=float(np.mean(lm)), L_sample=float(np.mean(ls)),
                logpower_zero=float(np.mean(pz)), logpower_sample=float(np.mean(ps)), n_per_subject=float(np.mean(sizes)))


def early_stopping_effect(model, data, split, *, n_explain: int, mask_kw=None, n_bands: int = 10, seed: int = 0,
                          cache_dir=None, device=None) -> dict:
    """Per-sample early stopping against the fixed budget (issue 17 target: at least half the
    epochs, band AUC within 0.01): mean epochs run and band AUC (per subject's mean map, over
    subjects) with ``early_stopping`` on and off, on the same samples."""
    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    idx = explain_indices(split, n_explain, seed, data.subject)
    ref = (data.X[split.train], data.subject[split.train])
    bt = band_truth(data.truth_freq, sf, data.n_times, edges) if data.truth_freq is not None else None
    out = {}
    for es in (True, False):
        t0 = time.perf_counter()
        r = explain_mask(model, data.X[idx], sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed,
                         device=device, **dict(mask_kw or {}, early_stopping=es))
        row = {"epochs_mean": float(np.mean(r.epochs)), "epochs_max": int(np.max(r.epochs)),
               "seconds": float(getattr(r, "seconds", time.perf_counter() - t0))}
        if bt is not None:
            a = band_auc_by_subject(r.saliency, bt, data.subject[idx], min_samples=1)
            row["band_auc"] = a["mean"]
            row["band_auc_per_subject"] = a["per_subject"]
        out["on" if es else "off"] = row
    out["epoch_ratio"] = out["on"]["epochs_mean"] / out["off"]["epochs_mean"]
    if bt is not None:
        out["auc_change"] = out["on"]["band_auc"] - out["off"]["band_auc"]
    return out


# --------------------------------------------------------------------------- Table 3
def ablation(model, data, split, *, variants=None, n_explain: int, mask_kw=None, n_bands: int = 10, seed: int = 0,
             cache_dir=None, device=None, progress: bool = False) -> dict:
    """Ablation (paper 2, Table 3): RN/RS accuracies at group and instance level for the full
    method, no L1 terms, a one-branch generator and a GRU generator, plus seconds per fit."""
    from eegnb.progress import tqdm

    variants = ABLATIONS if variants is None else variants
    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    te = np.asarray(split.test)
    idx = explain_indices(split, n_explain, seed, data.subject)
    ref = (data.X[split.train], data.subject[split.train])
    out = {}
    for name, v in tqdm(list(variants.items()), desc="ablation", disable=not progress):
        r = explain_mask(model, data.X[idx], sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed,
                         device=device, **dict(mask_kw or {}, **v))
        game = dict(sfreq=sf, edges=edges, device=device, seed=seed)
        g = removal_game(model, data.X[te], data.y[te], r.saliency, level="group", **game)
        i = removal_game(model, data.X[idx], data.y[idx], r.saliency, level="instance", **game)
        out[name] = {"group_rn": g["rn"], "group_rs": g["rs"], "instance_rn": i["rn"], "instance_rs": i["rs"],
                     "ori": g["ori"], "seconds": float(getattr(r, "seconds", np.nan)), "epochs": int(np.sum(r.epochs))}
    return out


def flops_table(n_chans: int = 62, n_times: int = 400) -> dict:
    """Generator FLOPs per sample and per channel for the three generators (paper 2, 4.7)."""
    n_bins = n_times // 2 + 1
    return {k: generator_flops(k, n_chans, n_bins) for k in ("two_branch", "one_branch", "gru")}
