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
    key = ("easypeasi", model_key(model), fingerprint(X, y), sorted(settings.items(), key=str))

    def compute():
        t0 = time.perf_counter()
        res = easypeasi_scores(model, X, sfreq=sfreq, y=y, **kw)
        res.seconds = time.perf_counter() - t0
        return res

    return cached(cache_dir, "easypeasi", key, compute)


def explain_indices(split, n: int, seed: int = 0) -> np.ndarray:
    """The test samples every experiment explains: ``n`` of ``split.test`` drawn with ``seed``, sorted.

    Shared by :func:`run_model`, :func:`lambda_sweep` and :func:`ablation` so that their
    common configurations hit the same cache entries."""
    te = np.asarray(split.test)
    return np.sort(np.random.default_rng(seed).permutation(te)[: min(int(n), len(te))])


def random_maps(shape, seed: int = 0) -> np.ndarray:
    """Uniform random maps (the chance control for band AUC)."""
    return np.random.default_rng(seed).random(shape)


def band_auc_by_subject(maps: np.ndarray, truth_bands: np.ndarray, subject: np.ndarray, *,
                        absolute: bool = True) -> dict:
    """Band ROC-AUC of maps ``(n, ch, n_bands)`` against ``truth_bands (ch, n_bands)``, by subject.

    ``per_subject``: AUC of each subject's mean map (its group-level map; averaging first
    also breaks the many ties of sparse masks); ``instance``: mean over the subject's samples
    of the per-sample AUC. ``mean``/``sem`` (and ``instance_mean``/``instance_sem``) summarise
    over subjects (standard error of the mean).
    """
    subs = [s for s in np.unique(subject)]
    per, inst = {}, {}
    for s in subs:
        sel = subject == s
        m = maps[sel].mean(0, keepdims=True)
        per[int(s)] = float(localisation_auc(m, truth_bands, absolute=absolute)[0])
        inst[int(s)] = float(np.nanmean(localisation_auc(maps[sel], truth_bands, absolute=absolute)))

    def summary(d):
        v = np.array([x for x in d.values() if np.isfinite(x)])
        sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        return float(v.mean()) if len(v) else float("nan"), sem

    mean, sem = summary(per)
    imean, isem = summary(inst)
    return {"per_subject": per, "mean": mean, "sem": sem, "instance": inst, "instance_mean": imean, "instance_sem": isem}


@dataclass
class ModelResults:
    """Everything notebook 20 shows for one model. ``ours``/``easy``: explanations of ``idx``
    (test samples) and ``idx[:len(easy.instance)]``; ``accuracy[method][level]``: RN/RS games;
    ``band_auc[method]``: band AUC by subject; ``n_forward``: forward passes per method."""

    name: str
    test_acc: float
    ours: FrequencyMaskResult
    easy: EasyPEASIResult
    idx: np.ndarray
    accuracy: dict = field(default_factory=dict)
    band_auc: dict = field(default_factory=dict)
    n_forward: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


def run_model(name: str, model, data, split, *, n_explain: int, n_easypeasi: int, mask_kw=None,
              easy_kw=None, n_bands: int = 10, seed: int = 0, cache_dir=None, device=None) -> ModelResults:
    """Group- and instance-level experiment for one trained model (paper 2, Figs. 5-8).

    Explains the first ``n_explain`` test samples (ours) and the first ``n_easypeasi`` of them
    (easyPEASI, which costs ``ch x n_bands`` forward passes per sample). Group-level games
    average each method's maps and remove components from every test sample; instance-level
    games use each sample's own map on the samples both methods explained.
    """
    from eegnb.explain import predict

    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    mask_kw = dict(mask_kw or {})
    easy_kw = dict(easy_kw or {})
    te = np.asarray(split.test)
    idx = explain_indices(split, n_explain, seed)
    X, y = data.X[idx], data.y[idx]
    Xte, yte = data.X[te], data.y[te]
    ref = (data.X[split.train], data.subject[split.train])
    test_acc = float((predict(model, Xte, device=device).argmax(1) == yte).mean())
    ours = explain_mask(model, X, sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed, device=device, **mask_kw)
    k = min(n_easypeasi, len(idx))
    easy = explain_easypeasi(model, X[:k], y[:k], sfreq=sf, cache_dir=cache_dir, n_bands=n_bands, seed=seed, device=device, **easy_kw)
    res = ModelResults(name, test_acc, ours, easy, idx)
    game = dict(sfreq=sf, edges=edges, device=device, seed=seed)
    res.accuracy = {
        "ours": {
            "group": removal_game(model, Xte, yte, ours.saliency, level="group", **game),
            "instance": removal_game(model, X, y, ours.saliency, level="instance", **game),
            "instance_common": removal_game(model, X[:k], y[:k], ours.saliency[:k], level="instance", **game),
        },
        "easypeasi": {
            "group": removal_game(model, Xte, yte, easy.group, level="group", **game),
            "instance_common": removal_game(model, X[:k], y[:k], easy.instance, level="instance", **game),
        },
    }
    if data.truth_freq is not None:
        bt = band_truth(data.truth_freq, sf, data.n_times, edges)
        subj = data.subject[idx]
        res.band_auc = {
            "ours": band_auc_by_subject(ours.saliency, bt, subj),
            "easypeasi": band_auc_by_subject(easy.instance, bt, subj[:k], absolute=False),
            "random": band_auc_by_subject(random_maps(ours.saliency.shape, seed), bt, subj),
        }
    res.n_forward = {
        "ours": int(ours.n_forward),
        "ours_per_epoch": len(idx),
        "ours_epochs": int(np.sum(ours.epochs)),
        "easypeasi_instance": int(easy.n_forward),
        "easypeasi_per_sample": int(easy.n_forward // max(k, 1)),
    }
    res.seconds = {"ours": float(getattr(ours, "seconds", np.nan)), "easypeasi": float(getattr(easy, "seconds", np.nan))}
    return res


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
    from tqdm.auto import tqdm

    from eegnb.explain import predict
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
def lambda_sweep(model, data, split, *, lambdas=LAMBDAS, n_explain: int, mask_kw=None, n_bands: int = 10,
                 seed: int = 0, cache_dir=None, device=None, progress: bool = False) -> dict:
    """Target-alignment sensitivity (paper 2, Table 2): for each ``lambda_dist``, the KDE
    log-likelihood of the perturbed test samples (``x_hat``; log-band-power features, and
    ``kde_time`` on the raw samples) and of the perturbations alone (``irfft(x^{f,r})``) under
    a KDE of the training samples, and the group-level accuracy
    drops (``rs_drop``: the paper's "performance drop"; ``rn_drop``). The KDE of held-out
    original test samples is the ceiling (``"original"``)."""
    from tqdm.auto import tqdm

    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    te = np.asarray(split.test)
    idx = explain_indices(split, n_explain, seed)
    X = data.X[idx]
    Xtr = data.X[split.train]
    ref = (Xtr, data.subject[split.train])
    out = {"original": {"kde": kde_score(Xtr, X, sfreq=sf), "kde_time": kde_score(Xtr, X, sfreq=sf, features="time")}}
    for lam in tqdm(list(lambdas), desc="lambda", disable=not progress):
        kw = dict(mask_kw or {}, lambda_dist=float(lam), keep_signals=True)
        r = explain_mask(model, X, sfreq=sf, reference=ref, cache_dir=cache_dir, n_bands=n_bands, seed=seed, device=device, **kw)
        g = removal_game(model, data.X[te], data.y[te], r.saliency, level="group", sfreq=sf, edges=edges, device=device, seed=seed)
        out[f"{lam:g}"] = {
            "kde": kde_score(Xtr, r.perturbed, sfreq=sf),
            "kde_perturbation": kde_score(Xtr, r.perturbation, sfreq=sf),
            "kde_time": kde_score(Xtr, r.perturbed, sfreq=sf, features="time"),
            "rs_drop": g["rs_drop"],
            "rn_drop": g["rn_drop"],
            "mask_mean": float(r.saliency.mean()),
        }
    return out


# --------------------------------------------------------------------------- Table 3
def ablation(model, data, split, *, variants=None, n_explain: int, mask_kw=None, n_bands: int = 10, seed: int = 0,
             cache_dir=None, device=None, progress: bool = False) -> dict:
    """Ablation (paper 2, Table 3): RN/RS accuracies at group and instance level for the full
    method, no L1 terms, a one-branch generator and a GRU generator, plus seconds per fit."""
    from tqdm.auto import tqdm

    variants = ABLATIONS if variants is None else variants
    sf = float(data.sfreq)
    edges = band_edges(sf, n_bands)
    te = np.asarray(split.test)
    idx = explain_indices(split, n_explain, seed)
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
