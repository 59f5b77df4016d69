"""How hard is a simulated layout? Train EEGNet at several ``difficulty`` levels.

``difficulty_sweep(layout, difficulties, ...)`` simulates the layout at each difficulty,
trains a model (EEGNet by default, through :func:`eegnb.train.train_model`, cached) on a
pooled within-subject split and reports test accuracy. ``notebooks/02_data`` records the
result; the effect sizes in :data:`eegnb.data.simulate.EFFECT_RANGE` were set from such runs.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from eegnb.data.container import EEGData
from eegnb.data.simulate import effect_size, simulate


def pooled_within_subject_split(data: EEGData, *, k: int = 5, seed: int = 0):
    """One split whose train/val/test hold fold 0 of every subject's stratified k-fold.

    One model is trained on all subjects, and every subject is represented in the test
    part (``eegnb.train.within_subject_kfold`` gives the per-subject folds).
    """
    from eegnb.train import Split, within_subject_kfold

    folds = [s for s in within_subject_kfold(data, k=k, seed=seed) if s.name.endswith("fold0")]
    parts = {a: np.concatenate([getattr(s, a) for s in folds]) for a in ("train", "val", "test")}
    return Split("pooled-within-subject-fold0", parts["train"], parts["val"], parts["test"])


def difficulty_sweep(layout: str, difficulties, *, n_subjects: int, seed: int = 0,
                     quick: bool = False, model: str = "eegnet", device=None, cache_dir=None,
                     layout_kw: dict | None = None, **fit_kw) -> pd.DataFrame:
    """Test accuracy of ``model`` on ``simulate(layout, difficulty=d)`` for each ``d``.

    Returns one row per difficulty: ``layout``, ``difficulty``, ``effect`` (modulation
    depth), ``acc``, ``balanced_acc``, ``n_train``, ``n_test``, ``chance`` (majority class
    share of the test part), ``sim_s`` and ``train_s`` (seconds).
    """
    from eegnb.train import evaluate, train_model

    rows = []
    for d in difficulties:
        t0 = time.perf_counter()
        data = simulate(layout, n_subjects=n_subjects, seed=seed, difficulty=float(d),
                        quick=quick, **(layout_kw or {}))
        t1 = time.perf_counter()
        split = pooled_within_subject_split(data, seed=seed)
        net = train_model(model, data, split, seed=seed, device=device, cache_dir=cache_dir,
                          progress=False, **fit_kw)
        res = evaluate(net, data.X[split.test], data.y[split.test], device=device)
        yt = data.y[split.test]
        rows.append({"layout": layout, "difficulty": float(d),
                     "effect": effect_size(layout, float(d)), "acc": float(res["acc"]),
                     "balanced_acc": float(res["balanced_acc"]), "n_train": len(split.train),
                     "n_test": len(split.test),
                     "chance": float(np.bincount(yt).max() / len(yt)),
                     "sim_s": t1 - t0, "train_s": time.perf_counter() - t1})
    return pd.DataFrame(rows)
