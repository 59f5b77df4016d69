"""Paper 3: CRP concepts of EEGNet filters, their frequency content, topography and ICA.

Reproduces the pipeline of "Explainable AI insights into EEG classification and its alignment
to neural correlates" on motor imagery (left vs right hand): EEGNet trained leave-one-subject-
out (within-subject k-fold when only one subject is there), CRP relevance of every filter of
the separable-convolution block conditioned on the predicted class, each filter described by
its spatial and spectral relevance pattern (CRP through the DFT virtual inspection layer),
UMAP + density clustering (HDBSCAN) of the filters of all models, cluster recurrence across
subjects, band-wise relevance topographies per cluster and class, and ICA (MNE, Picard solving
extended infomax) of the data with the relevance carried onto the components and the components
labelled by ICLabel (mne-icalabel). Notebooks ``30_crp_concepts`` and
``31_crp_frequency_topography`` walk through it; both call :func:`run` (the second one hits
the caches of the first).

Preprocessing (:func:`prepare`, the same for simulated and real data): per-epoch linear
detrend, common average reference, resampling to 80 Hz (``mne.filter.resample``; keeps the mu
and beta bands, quarters EEGNet's cost), the 0.5-3.5 s window after the cue (where the ERD
lives), and per-subject, per-channel standardisation (label-free; removes the subject-specific
channel gains that otherwise keep EEGNet from transferring across subjects).

Hand-written here: the descriptor construction (normalised spatial + spectral relevance), the
cluster recurrence table, the relevance shares and the ICA relevance projection (LRP-0 through
the ICA mixing, a virtual inspection layer like the DFT one); the rest is eegnb.train,
eegnb.explain.crp (zennit-crp), umap-learn, scikit-learn, MNE and mne-icalabel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from eegnb.explain import crp as crp_explain
from eegnb.explain.bands import EEG_BANDS, aggregate_bins, band_edges, rfft_freqs
from eegnb.progress import tqdm
from eegnb.utils import cached, fingerprint

__all__ = [
    "CRPConfig",
    "TASK_LAYOUTS",
    "MOTOR_EXPECTATION_CHANNELS",
    "MOTOR_EXPECTATION_BANDS",
    "planted_channels",
    "planted_bands",
    "functional_groups",
    "group_shares",
    "functional_group_table",
    "explain_pool",
    "pool_filter_table",
    "neighbour_own_share",
    "recurrence_test",
    "crp_diagnostics",
    "per_sample_planted_shares",
    "band_reading_check",
    "prepare",
    "make_splits",
    "train_folds",
    "explain_fold",
    "filter_table",
    "cluster_filters",
    "cluster_summary",
    "relevance_shares",
    "ica_relevance",
    "run",
    "CRPResult",
    "class_spectra",
    "class_band_topographies",
    "cluster_band_topographies",
    "time_frequency",
    "ica_all_folds",
    "load_data",
    "example_concepts",
    "reference_samples",
    "reference_overlap",
]

#: Task of the paper -> simulated layout (:func:`eegnb.data.simulate`). "motor": left vs right hand
#: motor imagery (ERD over C3/C4); "auditory": auditory attention (attended side); "attention":
#: internal vs external attention.
TASK_LAYOUTS = {"motor": "eegbci", "auditory": "auditory", "attention": "attention"}
#: Real data carry no planted truth: for real EEGBCI motor imagery the textbook expectation (the
#: C3/C4 neighbourhoods, mu and beta) stands in for it and is named as such.
MOTOR_EXPECTATION_CHANNELS = ["C3", "FC3", "CP3", "C5", "C1", "C4", "FC4", "CP4", "C6", "C2"]
MOTOR_EXPECTATION_BANDS = [(8.0, 14.5), (18.0, 26.0)]
#: A channel counts as planted when its planted weight (``info["planted"]["weights"]``, 1 at the
#: peak channel) reaches this: on the "eegbci" layout the ten C3/C4 neighbours.
PLANTED_MIN_WEIGHT = 0.2


@dataclass
class CRPConfig:
    """Sizes and settings of one run (see :func:`run`). ``quick`` shrinks it for CI."""

    n_subjects: int = 5
    n_trials: int = 45
    difficulty: float = 0.2
    max_folds: int | None = None
    sfreq: float = 80.0
    tmin: float = 0.5
    tmax: float = 3.5
    model_kw: dict = field(default_factory=lambda: dict(dropout=0.25, kernel_length=20))
    fit_kw: dict = field(default_factory=lambda: dict(epochs=25, patience=5, lr=3e-3, batch_size=32))
    rule: str = "epsilon"
    n_explain: int = 24
    spectral_max_hz: float = 40.0
    min_cluster_size: int | None = None
    ica_components: int = 15
    n_pool: int = 40
    top_fraction: float = 0.25
    n_neighbours: int = 5
    n_perm: int = 1000

    @classmethod
    def quick(cls) -> CRPConfig:
        return cls(n_subjects=4, n_trials=30, difficulty=0.0, max_folds=2,
                   fit_kw=dict(epochs=15, patience=4, lr=3e-3, batch_size=16), n_explain=10,
                   ica_components=10, n_pool=16, n_perm=200)


# --------------------------------------------------------------------------- data
def prepare(data, *, sfreq: float = 80.0, tmin: float = 0.5, tmax: float = 3.5, car: bool = True,
            standardize: bool = True):
    """Detrended, average-referenced, resampled, cropped, per-subject standardised copy of ``data``.

    ``tmin``/``tmax``: window in s after the cue (``data.info["tmin"]`` is the epoch start).
    ``truth`` and ``truth_freq`` are carried over (nearest samples / bins). The per-subject
    channel means and SDs (in the input unit) are kept in ``info["standardize"]`` so that
    :func:`ica_relevance` can undo the scaling. Returns an ``EEGData`` with ``info["unit"] = "z"``.
    """
    import mne
    from scipy.signal import detrend

    from eegnb.data import EEGData

    if sfreq <= 0 or tmax <= tmin:
        raise ValueError(f"need sfreq > 0 and tmax > tmin, got sfreq={sfreq}, tmin={tmin}, tmax={tmax}")
    X = detrend(np.asarray(data.X, np.float64), axis=-1, type="linear")
    if car:
        eeg = np.array([t == "eeg" for t in data.ch_types])
        X[:, eeg] -= X[:, eeg].mean(1, keepdims=True)
    if sfreq != data.sfreq:
        X = mne.filter.resample(X, up=sfreq, down=data.sfreq, npad="auto", verbose="error")
    t0 = float(data.info.get("tmin", 0.0))
    a = int(round((tmin - t0) * sfreq))
    n_t = int(round((tmax - tmin) * sfreq))
    if a < 0 or a + n_t > X.shape[-1]:
        raise ValueError(f"window {tmin}-{tmax} s lies outside the epochs ({t0}-{t0 + data.n_times / data.sfreq} s)")
    X = X[..., a : a + n_t]
    stats = {}
    if standardize:
        for s in np.unique(data.subject):
            i = data.subject == s
            mu = X[i].mean((0, 2))
            sd = X[i].std((0, 2)) + 1e-12
            X[i] = (X[i] - mu[None, :, None]) / sd[None, :, None]
            stats[int(s)] = (mu.astype(np.float32), sd.astype(np.float32))
    truth = tf = None
    if data.truth is not None:
        idx = np.clip(np.round((a + np.arange(n_t)) / sfreq * data.sfreq).astype(int), 0, data.n_times - 1)
        truth = data.truth[..., idx]
    if data.truth_freq is not None:
        f_old, f_new = rfft_freqs(data.n_times, data.sfreq), rfft_freqs(n_t, sfreq)
        tf = data.truth_freq[:, np.abs(f_old[:, None] - f_new[None]).argmin(0)]
    info = dict(data.info)
    info.update(unit="z" if standardize else info.get("unit", "uV"), unit_before=data.info.get("unit", "uV"),
                standardize=stats, tmin=tmin, preprocessing=dict(sfreq=sfreq, tmin=tmin, tmax=tmax, car=car,
                                                                   detrend="linear", standardize=standardize))
    return EEGData(X=X.astype(np.float32), y=data.y, subject=data.subject, sfreq=sfreq, ch_names=data.ch_names,
                   ch_types=data.ch_types, class_names=data.class_names, meta=data.meta, truth=truth,
                   truth_freq=tf, info=info)


def make_splits(data, *, seed: int = 0, max_folds: int | None = None, k: int = 5):
    """LOSO (one validation subject) with >= 3 subjects, else within-subject ``k``-fold.

    ``max_folds`` keeps the first folds only (quick runs).
    """
    from eegnb import train

    splits = train.loso(data, n_val_subjects=1, seed=seed) if len(data.subjects) >= 3 else \
        train.within_subject_kfold(data, k=k, seed=seed)
    return splits[:max_folds] if max_folds else splits


def train_folds(data, splits, *, seed: int = 0, device=None, cache_dir=None, model_kw=None, fit_kw=None,
                progress: bool = True):
    """One EEGNet per split (cached by eegnb.train). Returns ``(models, table)``.

    ``table`` has one row per fold: ``fold``, ``test_subject``, ``n_train``, ``n_test``,
    ``acc``, ``balanced_acc``, ``epochs``.
    """
    from eegnb import train

    models, rows = [], []
    for i, sp in enumerate(tqdm(splits, desc="EEGNet folds", disable=not progress)):
        m = train.train_model("eegnet", data, sp, seed=seed, device=device, cache_dir=cache_dir,
                              model_kw=dict(model_kw or {}), progress=False, **dict(fit_kw or {}))
        ev = train.evaluate(m, data.X[sp.test], data.y[sp.test], device=device)
        models.append(m)
        subj = sp.test_subjects[0] if sp.test_subjects else int(data.subject[sp.test][0])
        rows.append(dict(fold=i, split=sp.name, test_subject=int(subj), n_train=len(sp.train), n_test=len(sp.test),
                         acc=float(ev["acc"]), balanced_acc=float(ev["balanced_acc"]),
                         epochs=int(len(getattr(m, "history", [])))))
    return models, pd.DataFrame(rows)


# --------------------------------------------------------------------------- planted truth, regions
def planted_channels(data, *, min_weight: float = PLANTED_MIN_WEIGHT) -> list[str]:
    """Channels whose planted weight (``data.info["planted"]["weights"]``) is >= ``min_weight``.

    Data without ``info["planted"]`` (real recordings) get the motor-imagery textbook expectation
    :data:`MOTOR_EXPECTATION_CHANNELS` (restricted to the channels present).
    """
    planted = (getattr(data, "info", None) or {}).get("planted")
    if not planted:
        return [c for c in MOTOR_EXPECTATION_CHANNELS if c in data.ch_names]
    w = planted.get("weights") or {c: 1.0 for c in planted.get("channels", [])}
    chans = [c for c, v in w.items() if float(v) >= min_weight and c in data.ch_names]
    if not chans:
        raise ValueError(f"info['planted'] names no channel of the data with weight >= {min_weight}")
    return chans


def planted_bands(data) -> list[tuple[float, float]]:
    """Planted frequency ranges ``[(lo, hi), ...]`` in Hz: the runs of bins where
    ``data.truth_freq`` is non-zero on some channel (real data: :data:`MOTOR_EXPECTATION_BANDS`)."""
    tf = getattr(data, "truth_freq", None)
    if tf is None:
        return list(MOTOR_EXPECTATION_BANDS)
    freqs = rfft_freqs(data.n_times, data.sfreq)
    on = np.asarray(tf).max(0) > 0
    if not on.any():
        raise ValueError("truth_freq is zero everywhere: no planted band")
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(int), [0]])))
    return [(float(freqs[a]), float(freqs[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


def _band_mask(freqs: np.ndarray, bands) -> np.ndarray:
    m = np.zeros(len(freqs), bool)
    for lo, hi in bands:
        m |= (freqs >= lo) & (freqs <= hi)
    return m


#: Region boundaries on MNE's ``standard_1005`` head coordinates (m, x right, y anterior, z up):
#: temporal = far lateral and low (|x| > 7.5 cm, z < 1 cm: FT/T/TP rows); else by y: frontal
#: above the FC row, central FC-C-CP, parietal the P row, occipital PO/O/I. Hemisphere by x
#: (midline within 1 cm).
REGION_BOUNDS = dict(temporal_x=0.075, temporal_z=0.01, frontal_y=0.035, central_y=-0.064, parietal_y=-0.09,
                     midline_x=0.01)
REGIONS = ("frontal", "central", "temporal", "parietal", "occipital")


def functional_groups(ch_names) -> pd.DataFrame:
    """Functional region and hemisphere of each channel from its MNE ``standard_1005`` position.

    Returns one row per channel: ``channel``, ``x``, ``y``, ``z`` (m), ``region`` (one of
    :data:`REGIONS`, ``None`` without a position), ``hemisphere`` (``left``/``midline``/``right``)
    and ``group`` (``"<region> <hemisphere>"``).
    """
    import mne

    with mne.utils.use_log_level("error"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MNE >= 1.12 renames the montage; the positions are the same
            pos = mne.channels.make_standard_montage("standard_1005").get_positions()["ch_pos"]
    lower = {k.lower(): v for k, v in pos.items()}
    b = REGION_BOUNDS
    rows = []
    for c in ch_names:
        p = lower.get(str(c).lower())
        if p is None:
            rows.append(dict(channel=c, x=np.nan, y=np.nan, z=np.nan, region=None, hemisphere=None, group=None))
            continue
        x, y, z = (float(v) for v in p)
        if abs(x) > b["temporal_x"] and z < b["temporal_z"]:
            region = "temporal"
        elif y > b["frontal_y"]:
            region = "frontal"
        elif y > b["central_y"]:
            region = "central"
        elif y > b["parietal_y"]:
            region = "parietal"
        else:
            region = "occipital"
        hemi = "midline" if abs(x) <= b["midline_x"] else ("left" if x < 0 else "right")
        rows.append(dict(channel=c, x=x, y=y, z=z, region=region, hemisphere=hemi, group=f"{region} {hemi}"))
    return pd.DataFrame(rows)


def group_shares(channel_maps: np.ndarray, groups: pd.DataFrame) -> pd.DataFrame:
    """Per sample, the share of positive relevance in each functional group.

    ``channel_maps (n, ch)`` (relevance per channel, e.g. summed over time or bins); ``groups``
    from :func:`functional_groups`. Returns ``(n, n_groups)`` as a DataFrame (columns: groups).
    Samples with no positive relevance get NaN (counted by the caller, not replaced).
    """
    P = np.clip(np.asarray(channel_maps, float), 0, None)
    if P.ndim != 2 or P.shape[1] != len(groups):
        raise ValueError(f"channel_maps must be (n, {len(groups)}), got {P.shape}")
    tot = P.sum(1)
    names = [g for g in dict.fromkeys(groups["group"]) if g is not None]
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in names:
            out[g] = np.where(tot > 0, P[:, (groups["group"] == g).to_numpy()].sum(1) / tot, np.nan)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- CRP per fold
@dataclass
class FoldConcepts:
    """CRP of one model on (a balanced subset of) its test samples.

    ``index (n,)`` into the dataset; ``y``/``pred (n,)``; ``spectra (n, F, ch, n_bins)``:
    class-conditional relevance of each filter on frequency bins ``freqs`` (Hz); ``heatmap
    (n, ch, t)``: the unconditioned time-domain heatmap (sum over filters).
    """

    index: np.ndarray
    y: np.ndarray
    pred: np.ndarray
    freqs: np.ndarray
    spectra: np.ndarray
    heatmap: np.ndarray

    @property
    def filter_relevance(self) -> np.ndarray:
        """``(n, F)``: relevance each filter passes to the input (sum over channels and bins)."""
        return self.spectra.sum((2, 3))

    @property
    def spectrum(self) -> np.ndarray:
        """Unconditioned relevance per channel and bin ``(n, ch, n_bins)``."""
        return self.spectra.sum(1)


def _model_key(model) -> str:
    return fingerprint(*[v.detach().cpu().numpy() for v in model.state_dict().values()])


def _balanced_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, n // len(classes))
    picks = [rng.permutation(np.flatnonzero(y == c))[:per] for c in classes]
    return np.sort(np.concatenate(picks))


def explain_fold(model, data, test_index, *, rule: str = "epsilon", n_explain: int = 24, seed: int = 0,
                 cache_dir=None, batch_size: int = 64) -> FoldConcepts:
    """CRP (conditioned on the predicted class) of every separable-block filter of ``model``.

    Uses up to ``n_explain`` test samples, balanced over the true classes. Cached by model
    weights, data fingerprint, samples and rule.
    """
    idx = np.asarray(test_index)[_balanced_subset(data.y[test_index], n_explain, seed)]

    def compute():
        spec, heat = crp_explain.concept_spectra(model, data.X[idx], None, None, sfreq=data.sfreq, rule=rule,
                                                 batch_size=batch_size, return_heatmaps=True)
        with torch.no_grad():
            p = next(model.parameters())
            pred = model(torch.as_tensor(data.X[idx]).to(p.device)).argmax(1).cpu().numpy()
        return FoldConcepts(idx, data.y[idx], pred, rfft_freqs(data.n_times, data.sfreq),
                            spec.astype(np.float32), heat.sum(1).astype(np.float32))

    key = ("crp-fold", _model_key(model), data.fingerprint(), idx.tolist(), rule, "v1")
    return cached(cache_dir, "crp", key, compute)


# --------------------------------------------------------------------------- filters
def _l1(a: np.ndarray, axis=-1) -> np.ndarray:
    return a / (np.abs(a).sum(axis, keepdims=True) + 1e-12)


def filter_table(folds: list[FoldConcepts], fold_table: pd.DataFrame, ch_names, *, bands=None,
                 spectral_max_hz: float = 40.0, class_names=None) -> dict:
    """Descriptors and per-filter summaries of every filter of every model.

    Returns a dict with ``meta`` (DataFrame: ``fold``, ``test_subject``, ``filter``,
    ``relevance`` mean filter relevance, ``share`` its share of the model's absolute filter
    relevance, ``relevance_<class>``), ``descriptors (N, ch + n_hz)`` (L1-normalised spatial
    pattern, then L1-normalised 1-Hz spectral pattern up to ``spectral_max_hz``), ``spatial
    (N, ch)``, ``spectral (N, n_hz)`` over ``hz``, ``band_topo (N, ch, n_bands)`` and
    ``band_topo_class (N, n_classes, ch, n_bands)`` over ``bands`` (default the five EEG bands),
    ``band_names``.
    """
    bands = dict(EEG_BANDS if bands is None else bands)
    edges = band_edges(1.0, bands=bands)
    hz_edges = np.stack([np.arange(0, spectral_max_hz, 1.0), np.arange(1, spectral_max_hz + 1, 1.0)], 1)
    rows, spatial, spectral, btopo, btopo_c = [], [], [], [], []
    n_classes = len(class_names) if class_names is not None else int(max(f.pred.max() for f in folds)) + 1
    for fc, (_, frow) in zip(folds, fold_table.iterrows()):
        S = fc.spectra  # (n, F, ch, bins)
        mean = S.mean(0)  # (F, ch, bins)
        rel = fc.filter_relevance  # (n, F)
        share = np.abs(rel.mean(0)) / (np.abs(rel.mean(0)).sum() + 1e-12)
        spatial.append(_l1(mean.sum(-1)))
        spectral.append(_l1(aggregate_bins(mean.sum(1), fc.freqs, hz_edges, "sum")))
        btopo.append(aggregate_bins(mean, fc.freqs, edges, "sum"))
        per_c = np.zeros((S.shape[1], n_classes) + mean.shape[1:2] + (len(edges),))
        for c in range(n_classes):
            sel = fc.pred == c
            if sel.any():
                per_c[:, c] = aggregate_bins(S[sel].mean(0), fc.freqs, edges, "sum")
        btopo_c.append(per_c)
        for f in range(S.shape[1]):
            r = dict(fold=int(frow["fold"]), test_subject=int(frow["test_subject"]), filter=f,
                     relevance=float(rel[:, f].mean()), share=float(share[f]))
            for c in range(n_classes):
                sel = fc.pred == c
                name = class_names[c] if class_names is not None else str(c)
                r[f"relevance_{name}"] = float(rel[sel, f].mean()) if sel.any() else np.nan
            rows.append(r)
    spatial, spectral = np.concatenate(spatial), np.concatenate(spectral)
    return dict(meta=pd.DataFrame(rows), descriptors=np.concatenate([spatial, spectral], 1), spatial=spatial,
                spectral=spectral, hz=hz_edges.mean(1), band_topo=np.concatenate(btopo),
                band_topo_class=np.concatenate(btopo_c), band_names=list(bands), ch_names=list(ch_names))


def cluster_filters(table: dict, *, seed: int = 0, min_cluster_size: int | None = None,
                    n_neighbors: int = 10) -> pd.DataFrame:
    """UMAP (2-D, cosine) of the filter descriptors and HDBSCAN clusters on the embedding.

    Adds ``umap_x``, ``umap_y`` and ``cluster`` (-1: noise) to a copy of ``table["meta"]``.
    ``min_cluster_size`` defaults to ``max(3, n_models)``, so that a cluster could hold one
    filter of every model. The cosine k-nearest neighbours come from scikit-learn and are handed
    to UMAP (``precomputed_knn``), which skips UMAP's own, slowly compiled, neighbour search.
    """
    import warnings

    import umap
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import NearestNeighbors

    meta = table["meta"].copy()
    D = table["descriptors"]
    n_models = meta["fold"].nunique()
    mcs = int(min_cluster_size or max(3, n_models))
    k = int(min(n_neighbors, len(D) - 1))
    dist, idx = NearestNeighbors(n_neighbors=k, metric="cosine").fit(D).kneighbors(D)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no NNDescent index: UMAP.transform is unavailable, unused here
        reducer = umap.UMAP(n_components=2, n_neighbors=k, min_dist=0.05, metric="cosine", random_state=seed,
                            n_jobs=1, precomputed_knn=(idx, dist))
        emb = reducer.fit_transform(D)
    labels = HDBSCAN(min_cluster_size=mcs, min_samples=max(2, mcs // 2), copy=True).fit_predict(emb)
    meta["umap_x"], meta["umap_y"], meta["cluster"] = emb[:, 0], emb[:, 1], labels
    return meta


def relevance_shares(spectrum: np.ndarray, freqs: np.ndarray, ch_names, *, channels, bands) -> dict:
    """Share of positive relevance on the planted channels, band and both, with uniform shares.

    ``spectrum (n, ch, n_bins)`` (or ``(ch, n_bins)``); the share is computed per sample, then
    averaged. ``channels``/``bands``: the planted ones (:func:`planted_channels`,
    :func:`planted_bands`). The uniform share is what a map spread evenly would put there
    (fraction of channels, of bins, of channel x bin cells).
    """
    if channels is None or bands is None:
        raise ValueError("relevance_shares needs channels= and bands= (see planted_channels / planted_bands)")
    P = np.clip(np.asarray(spectrum, float), 0, None)
    P = P[None] if P.ndim == 2 else P
    ch_mask = np.isin(np.asarray(ch_names), channels)
    f_mask = np.zeros(len(freqs), bool)
    for lo, hi in bands:
        f_mask |= (freqs >= lo) & (freqs <= hi)
    tot = P.sum((1, 2)) + 1e-20
    on_ch = P[:, ch_mask].sum((1, 2)) / tot
    on_f = P[:, :, f_mask].sum((1, 2)) / tot
    on_both = P[:, ch_mask][:, :, f_mask].sum((1, 2)) / tot
    return dict(channel_share=float(on_ch.mean()), channel_uniform=float(ch_mask.mean()),
                band_share=float(on_f.mean()), band_uniform=float(f_mask.mean()),
                joint_share=float(on_both.mean()), joint_uniform=float(ch_mask.mean() * f_mask.mean()))


def cluster_summary(clusters: pd.DataFrame, table: dict, n_folds: int, *, channels, bands) -> pd.DataFrame:
    """One row per cluster: filters, models (subjects) it recurs in, coverage, relevance, shares.

    ``coverage`` = models with a filter in the cluster / all models; ``channel_share`` and
    ``band_share`` are the cluster's mean spatial / spectral pattern's positive share on the
    planted ``channels`` / ``bands`` (Hz ranges).
    """
    ch = np.asarray(table["ch_names"])
    ch_mask = np.isin(ch, channels)
    hz = table["hz"]
    f_mask = _band_mask(hz, bands)
    rows = []
    for c in sorted(clusters["cluster"].unique()):
        sel = (clusters["cluster"] == c).to_numpy()
        sp = np.clip(table["spatial"][sel].mean(0), 0, None)
        spc = np.clip(table["spectral"][sel].mean(0), 0, None)
        k = clusters.loc[sel, "test_subject"].nunique()
        rows.append(dict(cluster=int(c), n_filters=int(sel.sum()), n_models=int(clusters.loc[sel, "fold"].nunique()),
                         subjects=sorted(clusters.loc[sel, "test_subject"].unique().tolist()),
                         coverage=float(clusters.loc[sel, "fold"].nunique() / max(n_folds, 1)),
                         n_subjects=int(k), mean_share=float(clusters.loc[sel, "share"].mean()),
                         total_share=float(clusters.loc[sel, "share"].sum() / max(n_folds, 1)),
                         channel_share=float(sp[ch_mask].sum() / (sp.sum() + 1e-12)),
                         band_share=float(spc[f_mask].sum() / (spc.sum() + 1e-12))))
    return pd.DataFrame(rows)



# --------------------------------------------------------------------------- common pool, relevance maximisation
def explain_pool(model, X_pool: np.ndarray, target_class: int, *, sfreq: float, rule: str = "epsilon",
                 spectral_max_hz: float = 40.0, bands=None, cache_dir=None, batch_size: int = 64) -> dict:
    """CRP of every filter of ``model`` on the common pool ``X_pool (n, ch, t)``, explained for ``target_class``.

    Returns (cached by weights, pool and settings) ``rel (n, F)`` filter relevance (sum of its
    conditional map), ``spatial (n, F, ch)``, ``spectral (n, F, n_hz)`` on 1-Hz bins up to
    ``spectral_max_hz`` and ``band_topo (n, F, ch, n_bands)`` over ``bands`` (default EEG bands).
    """
    bands = dict(EEG_BANDS if bands is None else bands)
    X_pool = np.asarray(X_pool, np.float32)

    def compute():
        S = crp_explain.concept_spectra(model, X_pool, None, np.full(len(X_pool), int(target_class)), sfreq=sfreq,
                                        rule=rule, batch_size=batch_size)  # (n, F, ch, bins)
        freqs = rfft_freqs(X_pool.shape[-1], sfreq)
        hz_edges = np.stack([np.arange(0, spectral_max_hz, 1.0), np.arange(1, spectral_max_hz + 1, 1.0)], 1)
        return dict(rel=S.sum((2, 3)), spatial=S.sum(-1), spectral=aggregate_bins(S.sum(2), freqs, hz_edges, "sum"),
                    band_topo=aggregate_bins(S, freqs, band_edges(1.0, bands=bands), "sum").astype(np.float32),
                    hz=hz_edges.mean(1))

    key = ("crp-pool", _model_key(model), fingerprint(X_pool), int(target_class), sfreq, rule, spectral_max_hz,
           sorted(bands.items()), "v1")
    return cached(cache_dir, "crp", key, compute)


def pool_filter_table(pools: list[dict], fold_table: pd.DataFrame, ch_names, class_names, *,
                      fraction: float = 0.25, band_names=None) -> dict:
    """Filter descriptors by relevance maximisation on one common pool, per class.

    ``pools[m][c]``: :func:`explain_pool` of model ``m`` for class ``c`` (same pool for every
    model). For each filter and class, the top ``fraction`` of pool samples by that filter's
    relevance are its representative data; the descriptor is, per class, the L1-normalised mean
    spatial pattern and the L1-normalised mean spectral pattern over them, concatenated over
    classes: ``(N, n_classes * (ch + n_hz))``. Same keys as :func:`filter_table` (``spatial``,
    ``spectral``: the mean over classes of the per-class patterns) plus ``top_index (N, C, k)``.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    C = len(class_names)
    rows, desc, spatial, spectral, btopo, btopo_c, tops = [], [], [], [], [], [], []
    for pm, (_, frow) in zip(pools, fold_table.iterrows()):
        n, F = pm[0]["rel"].shape
        k = max(1, int(round(fraction * n)))
        share_all = np.mean([np.abs(pm[c]["rel"].mean(0)) for c in range(C)], 0)
        share_all = share_all / (share_all.sum() + 1e-12)
        for f in range(F):
            d, sp_c, spc_c, bt_c, top_c, r = [], [], [], [], [], {}
            for c in range(C):
                top = np.argsort(-pm[c]["rel"][:, f], kind="stable")[:k]
                sp = _l1(pm[c]["spatial"][top, f].mean(0))
                spc = _l1(pm[c]["spectral"][top, f].mean(0))
                d += [sp, spc]
                sp_c.append(sp)
                spc_c.append(spc)
                bt_c.append(pm[c]["band_topo"][top, f].mean(0))
                top_c.append(top)
                r[f"relevance_{class_names[c]}"] = float(pm[c]["rel"][top, f].mean())
            desc.append(np.concatenate(d))
            spatial.append(np.mean(sp_c, 0))
            spectral.append(np.mean(spc_c, 0))
            btopo_c.append(np.stack(bt_c))
            btopo.append(np.mean(bt_c, 0))
            tops.append(np.stack(top_c))
            rows.append(dict(fold=int(frow["fold"]), test_subject=int(frow["test_subject"]), filter=f,
                             relevance=float(np.mean(list(r.values()))), share=float(share_all[f]), **r))
    return dict(meta=pd.DataFrame(rows), descriptors=np.stack(desc), spatial=np.stack(spatial),
                spectral=np.stack(spectral), hz=pools[0][0]["hz"], band_topo=np.stack(btopo),
                band_topo_class=np.stack(btopo_c), top_index=np.stack(tops), ch_names=list(ch_names),
                band_names=list(band_names or EEG_BANDS), fraction=fraction)


def neighbour_own_share(descriptors: np.ndarray, models: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Per filter, the share of its ``k`` nearest neighbours (cosine, self excluded) from its own
    model, and the chance share ``(n_own - 1) / (N - 1)``: two arrays ``(N,)``.

    Near 1: filters group by model (the descriptor tells models apart); at chance: models mix.
    """
    from sklearn.neighbors import NearestNeighbors

    models = np.asarray(models)
    D = np.asarray(descriptors, float)
    if len(D) != len(models) or len(D) < 2:
        raise ValueError(f"need one model label per descriptor row and >= 2 rows, got {len(D)} and {len(models)}")
    k = int(min(k, len(D) - 1))
    _, idx = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(D).kneighbors(D)
    nb = np.array([[j for j in row if j != i][:k] for i, row in enumerate(idx)])
    own = (models[nb] == models[:, None]).mean(1)
    n_same = np.array([(models == m).sum() for m in models])
    return own, (n_same - 1) / (len(models) - 1)


def recurrence_test(clusters: pd.DataFrame, *, n_perm: int = 1000, seed: int = 0) -> dict:
    """Cluster recurrence across models against chance (model labels permuted over filters).

    Two statistics on the non-noise filters: ``observed`` = the mean over clusters of the share
    of models with a filter in the cluster (coverage; higher = recurs more), and ``nmi`` = the
    normalised mutual information between cluster and model (scikit-learn; 0 = clusters ignore
    which model a filter comes from, 1 = every cluster is one model's). The permutation keeps the
    clusters and each model's filter count and shuffles which filter belongs to which model.
    Returns ``observed``, ``chance_mean``, ``chance_lo``/``chance_hi`` (2.5/97.5 percentiles),
    ``p`` (share of permutations with coverage >= observed, +1 corrected), ``nmi``,
    ``nmi_chance_mean``/``_lo``/``_hi``, ``p_model_tied`` (share with NMI >= observed: small =
    clusters follow models more than chance), ``n_clusters``, ``n_perm``, ``perm`` and ``perm_nmi``.
    """
    from sklearn.metrics import normalized_mutual_info_score

    lab = clusters["cluster"].to_numpy()
    mod = clusters["fold"].to_numpy()
    n_models = len(np.unique(mod))
    keep = lab >= 0
    ids = np.unique(lab[keep])

    def stat(m):
        if not len(ids):
            return np.nan, np.nan
        cov = float(np.mean([len(np.unique(m[keep][lab[keep] == c])) / n_models for c in ids]))
        return cov, float(normalized_mutual_info_score(lab[keep], m[keep]))

    obs, nmi = stat(mod)
    rng = np.random.default_rng(seed)
    null = np.array([stat(rng.permutation(mod)) for _ in range(int(n_perm))]).reshape(-1, 2)
    perm, perm_nmi = null[:, 0], null[:, 1]
    out = dict(observed=obs, nmi=nmi, n_clusters=int(len(ids)), n_perm=int(n_perm), perm=perm, perm_nmi=perm_nmi)
    if not len(ids):
        return {**out, **{k: np.nan for k in ("chance_mean", "chance_lo", "chance_hi", "p", "nmi_chance_mean",
                                              "nmi_chance_lo", "nmi_chance_hi", "p_model_tied")}}
    pval = lambda null_v, o: float((1 + np.sum(null_v >= o - 1e-12)) / (1 + len(null_v)))  # noqa: E731
    return {**out, "chance_mean": float(perm.mean()), "chance_lo": float(np.percentile(perm, 2.5)),
            "chance_hi": float(np.percentile(perm, 97.5)), "p": pval(perm, obs),
            "nmi_chance_mean": float(perm_nmi.mean()), "nmi_chance_lo": float(np.percentile(perm_nmi, 2.5)),
            "nmi_chance_hi": float(np.percentile(perm_nmi, 97.5)), "p_model_tied": pval(perm_nmi, nmi)}


# --------------------------------------------------------------------------- diagnostics
def crp_diagnostics(model, X, target=None, *, rules=("epsilon",), batch_size: int = 64, **rule_kw) -> pd.DataFrame:
    """CRP completeness and input conservation per rule, per sample.

    For each rule: ``completeness`` = sum over the concept layer's filters of their relevance /
    explained logit (1 = complete; the gap is what biases and epsilon absorb above the layer) and
    ``conservation`` = sum of the input heatmap / logit (the gap adds the layers below). One row per
    (rule, sample): ``rule``, ``sample``, ``logit``, ``filter_sum``, ``input_sum``, ``completeness``,
    ``conservation``. ``rule_kw`` go to the composite (e.g. ``zero_params="bias"``).
    """
    rows = []
    for rule in rules:
        cr = crp_explain.filter_relevance(model, X, target, rule=rule, batch_size=batch_size, **rule_kw)
        fs, hs = cr.filter_relevance.sum(1), cr.heatmap.reshape(len(cr.heatmap), -1).sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in range(len(fs)):
                rows.append(dict(rule=rule, sample=i, logit=float(cr.logit[i]), filter_sum=float(fs[i]),
                                 input_sum=float(hs[i]), completeness=float(fs[i] / cr.logit[i]),
                                 conservation=float(hs[i] / cr.logit[i])))
    return pd.DataFrame(rows)


def per_sample_planted_shares(spectra: np.ndarray, freqs: np.ndarray, ch_names, *, channels, bands) -> dict:
    """Per sample and filter, the share of positive relevance on planted channels / bands / both.

    ``spectra (n, F, ch, n_bins)`` (per-filter CRP spectra) or ``(n, ch, n_bins)``. Each
    sample's own signed map is clipped before its share is taken (no averaging of signed
    patterns across samples first). Returns ``channel``/``band``/``joint``: ``(n, F)`` (or ``(n,)``)
    with NaN where a map has no positive relevance, and the uniform shares.
    """
    S = np.clip(np.asarray(spectra, float), 0, None)
    ch_mask = np.isin(np.asarray(ch_names), channels)
    f_mask = _band_mask(np.asarray(freqs), bands)
    tot = S.sum((-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        on_ch = np.where(tot > 0, S[..., ch_mask, :].sum((-2, -1)) / tot, np.nan)
        on_f = np.where(tot > 0, S[..., f_mask].sum((-2, -1)) / tot, np.nan)
        on_j = np.where(tot > 0, S[..., ch_mask, :][..., f_mask].sum((-2, -1)) / tot, np.nan)
    return dict(channel=on_ch, band=on_f, joint=on_j, channel_uniform=float(ch_mask.mean()),
                band_uniform=float(f_mask.mean()), joint_uniform=float(ch_mask.mean() * f_mask.mean()))


class BandReader(torch.nn.Module):
    """A hand-built model that reads one frequency band only: per channel a band-pass FIR
    (``scipy.signal.firwin``, ``band`` Hz, ``numtaps`` default about 1 s), ReLU, and a linear read-out of the mean rectified
    output (class 1 up, class 0 down). ``(n, ch, t)`` -> ``(n, 2)``. The DFT-LRP check: its
    relevance must sit in ``band``."""

    def __init__(self, n_chans: int, n_times: int, sfreq: float, band: tuple[float, float], numtaps: int | None = None):
        super().__init__()
        from scipy.signal import firwin

        numtaps = int(numtaps or (int(sfreq) // 2 * 2 + 1))  # about 1 s: transition bands near 1 Hz wide
        self.n_chans, self.n_times, self.sfreq = int(n_chans), int(n_times), float(sfreq)
        h = firwin(numtaps, list(band), pass_zero=False, fs=sfreq)
        self.fir = torch.nn.Conv2d(1, 1, (1, numtaps), padding=(0, numtaps // 2), bias=False)
        self.act = torch.nn.ReLU()
        self.flat = torch.nn.Flatten()
        self.out = torch.nn.Linear(n_chans * n_times, 2, bias=False)
        with torch.no_grad():
            self.fir.weight.copy_(torch.as_tensor(h, dtype=torch.float32).view(1, 1, 1, -1))
            w = torch.full((n_chans * n_times,), 1.0 / (n_chans * n_times))
            self.out.weight.copy_(torch.stack([-w, w]))

    def forward(self, x):
        return self.out(self.flat(self.act(self.fir(x.unsqueeze(1)))))


def band_reading_check(n_chans: int, n_times: int, sfreq: float, bands, *, rule: str = "epsilon", n: int = 8,
                       seed: int = 0) -> pd.DataFrame:
    """DFT-LRP on :class:`BandReader` models, one per band in ``bands`` (``{name: (lo, hi)}``),
    on white noise: rows (model reading band ``a``) x columns (share of positive relevance in band
    ``b``), per sample mean. A working inspection layer puts the diagonal near 1."""
    from eegnb.explain.dft_lrp import DFTLRP

    X = np.random.default_rng(seed).normal(size=(n, n_chans, n_times)).astype(np.float32)
    freqs = rfft_freqs(n_times, sfreq)
    rows = {}
    for name, band in bands.items():
        m = BandReader(n_chans, n_times, sfreq, band).eval()
        R = np.clip(DFTLRP(m, sfreq, rule=rule).spectrum(X, 1).sum(1), 0, None)  # (n, bins)
        tot = R.sum(1) + 1e-20
        rows[name] = {b: float((R[:, _band_mask(freqs, [bb])].sum(1) / tot).mean()) for b, bb in bands.items()}
    return pd.DataFrame(rows).T.rename_axis("model reads")


# --------------------------------------------------------------------------- notebook helpers
def load_data(dataset: str, data_dir: str = "", *, config: CRPConfig | None = None, seed: int = 0,
              task: str = "motor"):
    """Simulated data of ``task``'s layout (``dataset="sim"``; :data:`TASK_LAYOUTS`) or the real
    EEGBCI recordings (subject 1; motor imagery only).

    Simulation sizes come from ``config`` (subjects, trials, difficulty).
    """
    cfg = config or CRPConfig()
    if task not in TASK_LAYOUTS:
        raise ValueError(f"task must be one of {sorted(TASK_LAYOUTS)}, got {task!r}")
    if dataset == "sim":
        from eegnb.data import simulate

        return simulate(TASK_LAYOUTS[task], n_subjects=cfg.n_subjects, seed=seed, difficulty=cfg.difficulty,
                        **_trial_kw(task, cfg.n_trials))
    if dataset != "eegbci":
        raise ValueError(f"the CRP notebooks run on dataset='sim' or 'eegbci', got {dataset!r}")
    if task != "motor":
        raise ValueError(f"real EEGBCI data are motor imagery: task must be 'motor', got {task!r}")
    from eegnb.data import load

    return load("eegbci", data_dir, subjects=[1])


def load_pool(dataset: str, *, config: CRPConfig | None = None, seed: int = 0, task: str = "motor"):
    """The common pool every model's filters are described on: a simulated subject that no
    model trained on (``dataset="sim"``: ``config.n_pool`` trials of ``task``'s layout drawn with
    another seed), or ``None`` for real data (then :func:`run` pools the folds' explained trials)."""
    cfg = config or CRPConfig()
    if dataset != "sim":
        return None
    from eegnb.data import simulate

    return simulate(TASK_LAYOUTS[task], n_subjects=1, seed=seed + 7919, difficulty=cfg.difficulty,
                    **_trial_kw(task, cfg.n_pool))


#: Windows per trial of the attention layouts: a trial there is a long listening/attention
#: block cut into windows that share its label, so ``n`` windows come from ``n / 3`` trials.
_TASK_SEGMENTS = 3


def _trial_kw(task: str, n_windows: int) -> dict:
    """Simulation keywords giving about ``n_windows`` windows per subject for ``task``."""
    if task == "motor":
        return dict(n_trials=n_windows)
    return dict(n_trials=max(2, -(-n_windows // _TASK_SEGMENTS)), n_segments=_TASK_SEGMENTS)


def example_concepts(result: CRPResult, fold: int = 0, k: int = 3) -> dict:
    """Concept heatmaps of the explained sample of ``fold`` with the largest explained logit
    relevance: ``sample`` (dataset index), ``position``, ``total (ch, t)``, ``filters (k,)`` (its most
    relevant), ``per_filter (k, ch, t)``, ``relevance (F,)``, ``y``, ``pred``."""
    fc, model = result.concepts[fold], result.models[fold].cpu().eval()
    i = int(np.argmax(fc.filter_relevance.sum(1)))
    rel = fc.filter_relevance[i]
    filters = np.argsort(-rel)[:k]
    H = crp_explain.concept_heatmaps(model, result.data.X[fc.index[[i]]], filters, fc.pred[[i]],
                                     rule=result.config.rule)[0]
    return dict(sample=int(fc.index[i]), position=i, total=fc.heatmap[i], filters=filters, per_filter=H,
                relevance=rel, y=int(fc.y[i]), pred=int(fc.pred[i]))


def reference_samples(result: CRPResult, fold: int = 0, n_filters: int = 4, n_ref: int = 4):
    """Relevance maximisation over the common pool for ``fold``'s ``n_filters`` most relevant
    filters (mean absolute filter relevance on its held-out trials). Each pool trial is explained
    for its predicted class; ``ref.indices`` index ``result.pool_X``."""
    fc, model = result.concepts[fold], result.models[fold].cpu().eval()
    filters = np.argsort(-np.abs(fc.filter_relevance).mean(0))[:n_filters]
    ref = crp_explain.relevance_maximization(model, result.pool_X, None, n_ref=n_ref, filters=filters,
                                             rule=result.config.rule)
    return filters, ref


def reference_overlap(indices: np.ndarray, n_pool: int) -> dict:
    """How much the reference sets of different filters overlap: ``indices (n_ref, n_filters)``.

    ``observed``: mean over filter pairs of the shared fraction of their reference samples;
    ``chance``: ``n_ref / n_pool`` (independent random draws).
    """
    idx = np.asarray(indices)
    k, F = idx.shape
    pairs = [len(set(idx[:, a]) & set(idx[:, b])) / k for a in range(F) for b in range(a + 1, F)]
    return dict(observed=float(np.mean(pairs)) if pairs else np.nan, chance=float(k / max(n_pool, 1)))


def functional_group_table(result: CRPResult, *, seed: int = 0) -> pd.DataFrame:
    """Share of positive relevance per functional group (region x hemisphere), per model, for the
    model's unconditioned DFT-LRP maps, a random map (``eegnb.metrics.controls.random_map``) and
    the planted truth as a map (``oracle_map`` of ``truth``; simulated data only), all through
    :func:`group_shares` on each fold's explained samples. Long format: ``fold``, ``map``,
    ``group``, ``region``, ``hemisphere``, ``share`` (mean over samples), ``uniform`` (channel
    fraction), ``n_degenerate`` (samples with no positive relevance)."""
    from eegnb.metrics.controls import oracle_map, random_map

    groups = result.groups
    ok = groups["group"].notna().to_numpy()
    g = groups[ok].reset_index(drop=True)
    rows = []
    for i, fc in enumerate(result.concepts):
        maps = {"model": fc.spectrum.sum(-1)[:, ok],
                "random": random_map((len(fc.index), int(ok.sum())), seed=seed + i)}
        if result.data.truth is not None:
            maps["oracle"] = oracle_map(result.data.truth[fc.index]).sum(-1)[:, ok]
        for name, M in maps.items():
            sh = group_shares(M, g)
            for col in sh.columns:
                sel = (g["group"] == col).to_numpy()
                rows.append(dict(fold=i, map=name, group=col, region=col.split()[0], hemisphere=col.split()[1],
                                 share=float(np.nanmean(sh[col])), uniform=float(sel.mean()),
                                 n_degenerate=int(sh[col].isna().sum())))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- summaries for the figures
def class_spectra(result: CRPResult, channels=None) -> dict[str, np.ndarray]:
    """Per explained (predicted) class, each model's mean relevance spectrum ``(n_models, n_bins)``.

    Summed over ``channels`` (default all channels).
    """
    ch = np.ones(len(result.data.ch_names), bool) if channels is None else np.isin(result.data.ch_names, channels)
    out = {}
    for c, name in enumerate(result.data.class_names):
        rows = [fc.spectrum[fc.pred == c][:, ch].sum(1).mean(0) for fc in result.concepts if (fc.pred == c).any()]
        if rows:
            out[name] = np.stack(rows)
    return out


def class_band_topographies(result: CRPResult) -> np.ndarray:
    """``(n_classes, ch, n_bands)``: mean over models of the band relevance of samples explained
    for each class (sum over a model's filters = its unconditioned DFT-LRP map)."""
    meta, bt = result.filters["meta"], result.filters["band_topo_class"]  # (N, C, ch, B)
    per_model = [bt[(meta["fold"] == f).to_numpy()].sum(0) for f in sorted(meta["fold"].unique())]
    return np.mean(per_model, axis=0)


def cluster_band_topographies(result: CRPResult, include_noise: bool = False) -> tuple[list[int], np.ndarray]:
    """Cluster ids and ``(n_clusters, ch, n_bands)``: the mean band relevance of each cluster's filters."""
    bt = result.pool_filters["band_topo"]  # the clustered descriptors' filters, on the common pool
    labs = [c for c in sorted(result.clusters["cluster"].unique()) if include_noise or c >= 0]
    topo = np.stack([bt[(result.clusters["cluster"] == c).to_numpy()].mean(0) for c in labs]) \
        if labs else np.zeros((0,) + bt.shape[1:])
    return labs, topo


def time_frequency(result: CRPResult, fold: int = 0, *, window_s: float = 0.5, hop_s: float = 0.25) -> dict:
    """Short-time DFT-LRP of one model on its explained samples, summed over the planted channels of
    each hemisphere (left / midline / right by montage position; those with a planted channel), per explained class:
    ``{"<class> | left planted": (frames, bins), ...}``, plus ``"times"`` (s after the cue) and
    ``"freqs"`` (Hz)."""
    from eegnb.explain.dft_lrp import DFTLRP

    fc, model = result.concepts[fold], result.models[fold].cpu().eval()
    d = DFTLRP(model, result.data.sfreq, rule=result.config.rule, window_s=window_s, hop_s=hop_s)
    TF = d.time_frequency(result.data.X[fc.index], fc.pred)
    times, freqs = d.tf_axes(result.data.n_times)
    names = np.asarray(result.data.ch_names)
    g = result.groups.set_index("channel")
    areas = {f"{h} planted": [c for c in result.planted_channels if c in g.index and g.loc[c, "hemisphere"] == h]
             for h in ("left", "midline", "right")}
    areas = {k: v for k, v in areas.items() if v} or {"planted": list(result.planted_channels)}
    out = {}
    for c, cname in enumerate(result.data.class_names):
        for area, chans in areas.items():
            sel = fc.pred == c
            if sel.any():
                out[f"{cname} | {area}"] = TF[sel][:, np.isin(names, chans)].sum(1).mean(0)
    out["times"], out["freqs"] = times + result.config.tmin, freqs
    return out


# --------------------------------------------------------------------------- ICA
def _ica_sources(ica, X_volts: np.ndarray) -> np.ndarray:
    """Sources ``(n, k, t)`` of epochs ``X_volts (n, ch, t)`` by the fitted ICA's matrices.

    The same spatial transform as ``ica.get_sources``, applied to arrays at any sampling rate.
    """
    k = ica.n_components_
    Xw = X_volts / ica.pre_whitener_[None] - ica.pca_mean_[None, :, None]  # as ICA._transform
    W = ica.unmixing_matrix_ @ ica.pca_components_[:k]
    return np.einsum("kc,nct->nkt", W, Xw)


def ica_relevance(raw, data, index, heatmap: np.ndarray, *, subject: int, n_components: int = 15, seed: int = 0,
                  label: bool = True, epsilon: float = 1e-6):
    """ICA of one subject's epochs and the relevance of each component.

    ``raw``: the EEGData given to :func:`prepare`; ``data``: its prepared (standardised)
    version; ``index``: the explained samples; ``heatmap (n, ch, t)``: their time-domain
    relevance. ICA (``mne.preprocessing.ICA``, Picard in its extended-infomax mode, ``n_components``) is fitted on
    the subject's epochs prepared the same way but at the original rate and unit (ICLabel needs
    at least 100 Hz). The model input is ``x = sum_k c_k + rest`` with ``c_k`` the contribution
    of component ``k`` (its mixing column times its source, scaled like the model input); LRP-0
    through this virtual layer gives ``R_k = sum c_k / x * R`` (and ``R_rest``), which sums to
    the relevance of the map. Components are labelled with ICLabel
    (``mne_icalabel.label_components``) when ``label``.

    Returns ``(ica, epochs, table)``: the fitted ICA, the epochs it was fitted on, and one row
    per component (``component``, ``relevance`` mean signed relevance, ``abs_share`` mean share
    of absolute relevance, ``label``, ``proba``) plus a ``rest`` row.
    """
    import warnings

    import mne

    pp = data.info["preprocessing"]
    sel_raw = np.flatnonzero(raw.subject == subject)
    full = prepare(raw[sel_raw], sfreq=raw.sfreq, tmin=pp["tmin"], tmax=pp["tmax"], car=pp["car"], standardize=False)
    full.info["unit"] = raw.info.get("unit", "uV")
    epochs = full.to_epochs()
    with mne.utils.use_log_level("error"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Picard with ortho=False, extended=True converges to the extended-infomax solution
        # ICLabel was trained on, much faster than MNE's infomax (mne-icalabel's advice)
        ica = mne.preprocessing.ICA(n_components=n_components, method="picard",
                                    fit_params=dict(ortho=False, extended=True), random_state=seed, max_iter="auto")
        ica.fit(epochs)
    to_v = 1e-6 if full.info["unit"] in ("uV", "µV") else 1.0
    mu, sd = data.info["standardize"][int(subject)]
    x = data.X[np.asarray(index)]  # (n, ch, t): model input (standardised)
    x_volts = (x * sd[None, :, None] + mu[None, :, None]) * to_v
    src = _ica_sources(ica, x_volts)
    k = ica.n_components_
    A = (ica.pca_components_[:k].T @ ica.mixing_matrix_) * ica.pre_whitener_  # (ch, k): volts per source unit
    contrib = np.einsum("ck,nkt->nckt", A / (to_v * sd[:, None]), src)  # (n, ch, k, t) in model-input units
    z = x + epsilon * np.where(x >= 0, 1.0, -1.0)
    ratio = heatmap / z
    R = np.einsum("nckt,nct->nk", contrib, ratio)
    R_rest = heatmap.sum((1, 2)) - R.sum(1)
    tot_abs = np.abs(R).sum(1) + np.abs(R_rest) + 1e-20
    table = pd.DataFrame(dict(component=[f"IC{j:02d}" for j in range(k)], relevance=R.mean(0),
                              abs_share=(np.abs(R) / tot_abs[:, None]).mean(0)))
    table.loc[len(table)] = dict(component="rest", relevance=R_rest.mean(), abs_share=(np.abs(R_rest) / tot_abs).mean())
    if label:
        from mne_icalabel import label_components

        with mne.utils.use_log_level("error"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no 1-100 Hz band-pass: ICLabel warns, labels stay usable
            lab = label_components(epochs, ica, method="iclabel")
        table["label"] = list(lab["labels"]) + ["residual"]
        table["proba"] = list(np.round(lab["y_pred_proba"], 3)) + [np.nan]
    return ica, epochs, table


# --------------------------------------------------------------------------- run
@dataclass
class CRPResult:
    """Everything the two notebooks show. See :func:`run`."""

    config: CRPConfig
    data: object
    splits: list
    models: list
    folds_table: pd.DataFrame
    concepts: list
    filters: dict
    clusters: pd.DataFrame
    cluster_table: pd.DataFrame
    shares: pd.DataFrame
    pool_X: np.ndarray = None
    pool_y: np.ndarray = None
    pool_source: str = ""
    pool_filters: dict = None
    recurrence: dict = None
    neighbours: pd.DataFrame = None
    planted_channels: list = None
    planted_bands: list = None
    planted_from: str = ""
    groups: pd.DataFrame = None

    @property
    def freqs(self) -> np.ndarray:
        return self.concepts[0].freqs


def run(data, *, config: CRPConfig | None = None, seed: int = 0, device=None, cache_dir=None,
        progress: bool = True, pool=None) -> CRPResult:
    """Prepare ``data``, train the folds, CRP every model, describe and cluster the filters.

    ``data``: raw ``EEGData`` (a simulated layout of :data:`TASK_LAYOUTS` or the real EEGBCI
    loader's). ``pool``: raw ``EEGData`` of the common pool (:func:`load_pool`), prepared the same
    way; ``None`` pools the folds' explained held-out trials. Every model's filters are described
    on the pool by relevance maximisation per class (:func:`pool_filter_table`) and clustered
    (UMAP + HDBSCAN); ``recurrence`` tests the clusters' spread over models against permuted model
    labels and ``neighbours`` gives each filter's own-model neighbour share for the pool
    descriptors and for descriptors taken on each model's own held-out subject (``filters``), with
    the chance share. Cached pieces: trained models (eegnb.train), per-fold and pool CRP.
    ``shares``: per fold, the positive relevance share on planted channels / bands / both (per
    sample, then averaged) and the uniform shares (:func:`relevance_shares`).
    """
    cfg = config or CRPConfig()
    prepared = prepare(data, sfreq=cfg.sfreq, tmin=cfg.tmin, tmax=cfg.tmax)
    chans, bands = planted_channels(prepared), planted_bands(prepared)
    planted_from = "info['planted'] and truth_freq" if prepared.info.get("planted") else "motor-imagery expectation"
    splits = make_splits(prepared, seed=seed, max_folds=cfg.max_folds)
    models, folds_table = train_folds(prepared, splits, seed=seed, device=device, cache_dir=cache_dir,
                                      model_kw=cfg.model_kw, fit_kw=cfg.fit_kw, progress=progress)
    concepts = []
    for m, sp in zip(tqdm(models, desc="CRP per fold", disable=not progress), splits):
        concepts.append(explain_fold(m.cpu().eval(), prepared, sp.test, rule=cfg.rule, n_explain=cfg.n_explain,
                                     seed=seed, cache_dir=cache_dir))
    filters = filter_table(concepts, folds_table, prepared.ch_names, spectral_max_hz=cfg.spectral_max_hz,
                           class_names=prepared.class_names)
    if pool is not None:
        pool_X, pool_y = prepare(pool, sfreq=cfg.sfreq, tmin=cfg.tmin, tmax=cfg.tmax).X, np.asarray(pool.y)
        pool_source = f"an unseen simulated subject ({len(pool_X)} trials, shared by all models)"
    else:
        pool_idx = np.unique(np.concatenate([fc.index for fc in concepts]))
        pool_X, pool_y = prepared.X[pool_idx], prepared.y[pool_idx]
        pool_source = f"the folds' explained held-out trials ({len(pool_X)}, shared by all models)"
    C = len(prepared.class_names)
    pools = [[explain_pool(m.cpu().eval(), pool_X, c, sfreq=prepared.sfreq, rule=cfg.rule,
                           spectral_max_hz=cfg.spectral_max_hz, cache_dir=cache_dir) for c in range(C)]
             for m in tqdm(models, desc="CRP on the common pool", disable=not progress)]
    pool_filters = pool_filter_table(pools, folds_table, prepared.ch_names, prepared.class_names,
                                     fraction=cfg.top_fraction)
    clusters = cached(cache_dir, "crp", ("clusters", fingerprint(pool_filters["descriptors"]), seed,
                                         cfg.min_cluster_size, "pool-v1"),
                      lambda: cluster_filters(pool_filters, seed=seed, min_cluster_size=cfg.min_cluster_size))
    ctable = cluster_summary(clusters, pool_filters, len(models), channels=chans, bands=bands)
    recurrence = recurrence_test(clusters, n_perm=cfg.n_perm, seed=seed)
    nbr = []
    for name, tab in (("common pool, relevance maximisation", pool_filters), ("own held-out subject", filters)):
        own, chance = neighbour_own_share(tab["descriptors"], tab["meta"]["fold"].to_numpy(), k=cfg.n_neighbours)
        nbr.append(pd.DataFrame(dict(descriptors=name, fold=tab["meta"]["fold"], filter=tab["meta"]["filter"],
                                     own_share=own, chance=chance)))
    shares = pd.DataFrame([dict(fold=i, test_subject=int(r["test_subject"]),
                                **relevance_shares(fc.spectrum, fc.freqs, prepared.ch_names, channels=chans, bands=bands))
                           for i, (fc, (_, r)) in enumerate(zip(concepts, folds_table.iterrows()))])
    return CRPResult(cfg, prepared, splits, models, folds_table, concepts, filters, clusters, ctable, shares,
                     pool_X=pool_X, pool_y=pool_y, pool_source=pool_source, pool_filters=pool_filters, recurrence=recurrence,
                     neighbours=pd.concat(nbr, ignore_index=True), planted_channels=chans, planted_bands=bands,
                     planted_from=planted_from, groups=functional_groups(prepared.ch_names))


def ica_all_folds(raw, result: CRPResult, *, n_components: int | None = None, max_folds: int | None = None,
                  seed: int = 0, cache_dir=None):
    """:func:`ica_relevance` for each fold's held-out subject (within-subject runs: each fold's
    test samples of the one subject). Returns ``(icas, tables)``; each table gains ``fold``
    and ``test_subject``. Cached (the ICA objects are re-fitted only when missing)."""
    n_components = n_components or result.config.ica_components
    icas, tables = [], []
    for i, (fc, (_, row)) in enumerate(zip(result.concepts, result.folds_table.iterrows())):
        if max_folds is not None and i >= max_folds:
            break
        s = int(row["test_subject"])
        key = ("ica", fingerprint(fc.heatmap), fc.index.tolist(), s, n_components, seed, raw.fingerprint(), "v1")
        ica, tab = cached(cache_dir, "crp", key, lambda fc=fc, s=s: ica_relevance(raw, result.data, fc.index, fc.heatmap,
                                                                     subject=s, n_components=n_components,
                                                                     seed=seed)[0::2])
        tab = tab.assign(fold=i, test_subject=s)
        icas.append(ica)
        tables.append(tab)
    return icas, tables
