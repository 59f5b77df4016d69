"""Training and evaluation with the splits the papers use.

Splits (each a list of :class:`Split` holding index arrays into an ``EEGData``):
``within_subject_kfold`` (paper 1: one model per subject), ``subject_independent``
(paper 2: all subjects pooled), ``loso`` (papers 2, 3: leave one subject out) and
``grouped_kfold`` (paper 4: e.g. 17 train / 2 validation / 3 test subjects per fold).
``fit`` trains with Adam, early stopping on validation loss and a progress bar;
``train_model`` builds a model by name, fits it and caches the weights under
``cache_dir/models/<key>.pt`` keyed by the model's full config (defaults included), the
data fingerprint, the split, the seed, every argument of ``fit`` with its default and the
code version of ``eegnb.train`` and ``eegnb.models``; written atomically as a plain state
dict (read back with ``torch.load(weights_only=True)``, which cannot run code).
Walked through in ``notebooks/01_quickstart``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from eegnb.progress import tqdm
from eegnb.utils import (
    atomic_torch_save,
    clean_orphans,
    code_version,
    fingerprint,
    get_device,
    seed_everything,
)


@dataclass
class Split:
    """Index arrays into one dataset; ``test_subjects`` names who is held out (if anyone)."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    test_subjects: list = field(default_factory=list)

    def key(self) -> str:
        return fingerprint(self.name, self.train, self.val, self.test)


def _check_data(data) -> None:
    for attr in ("X", "y", "subject"):
        if not hasattr(data, attr):
            raise ValueError(f"expected an EEGData-like object with .{attr}; got {type(data).__name__}")


def _strat(y: np.ndarray) -> np.ndarray | None:
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def within_subject_kfold(data, k: int = 5, seed: int = 0, val_fraction: float = 0.15) -> list[Split]:
    """Per subject, stratified k-fold over its samples; a validation part is cut from each training part.

    Note: segments of one trial can land in both train and test (as in the paper's protocol);
    use ``group`` splits by trial for stricter estimates.
    """
    _check_data(data)
    out = []
    for s in np.unique(data.subject):
        idx = np.flatnonzero(data.subject == s)
        y = data.y[idx]
        n_splits = min(k, np.bincount(y).min()) if len(np.unique(y)) > 1 else 0
        if n_splits < 2:
            raise ValueError(f"subject {s} has too few samples per class for {k}-fold CV")
        skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for f, (tr, te) in enumerate(skf.split(idx, y)):
            tr, va = train_test_split(tr, test_size=val_fraction, random_state=seed, stratify=_strat(y[tr]))
            out.append(Split(f"subject{s}-fold{f}", idx[tr], idx[va], idx[te], [s]))
    return out


def subject_independent(data, test_fraction: float = 0.2, val_fraction: float = 0.1, seed: int = 0) -> list[Split]:
    """One split pooling every subject: samples drawn at random (stratified) into train/val/test."""
    _check_data(data)
    idx = np.arange(len(data.y))
    tr, te = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=_strat(data.y))
    tr, va = train_test_split(tr, test_size=val_fraction / (1 - test_fraction), random_state=seed, stratify=_strat(data.y[tr]))
    return [Split("subject-independent", np.sort(tr), np.sort(va), np.sort(te), [])]


def loso(data, n_val_subjects: int = 1, seed: int = 0) -> list[Split]:
    """Leave one subject out: test on it, validate on ``n_val_subjects`` others, train on the rest."""
    _check_data(data)
    subjects = np.unique(data.subject)
    if len(subjects) < 2 + n_val_subjects:
        raise ValueError(f"LOSO needs at least {2 + n_val_subjects} subjects, got {len(subjects)}")
    rng = np.random.default_rng(seed)
    out = []
    for s in subjects:
        rest = subjects[subjects != s]
        val_s = rng.choice(rest, size=n_val_subjects, replace=False)
        te = np.flatnonzero(data.subject == s)
        va = np.flatnonzero(np.isin(data.subject, val_s))
        tr = np.flatnonzero(~np.isin(data.subject, np.concatenate([[s], val_s])))
        out.append(Split(f"loso-{s}", tr, va, te, [s]))
    return out


def grouped_kfold(data, k: int = 10, n_val_subjects: int = 2, seed: int = 0) -> list[Split]:
    """k folds over subjects: each fold tests on ~1/k of the subjects, validates on ``n_val_subjects``.

    With 22 subjects and k=10 this gives the sleep paper's 17 / 2 / 3 proportion (roughly).
    """
    _check_data(data)
    subjects = np.random.default_rng(seed).permutation(np.unique(data.subject))
    if len(subjects) < k or len(subjects) < n_val_subjects + 2:
        raise ValueError(f"grouped_kfold with k={k} needs at least {max(k, n_val_subjects + 2)} subjects, got {len(subjects)}")
    folds = np.array_split(subjects, k)
    out = []
    for f in range(k):
        test_s = folds[f]
        rest = np.concatenate([folds[j] for j in range(k) if j != f])
        val_s = rest[:n_val_subjects]
        te = np.flatnonzero(np.isin(data.subject, test_s))
        va = np.flatnonzero(np.isin(data.subject, val_s))
        tr = np.flatnonzero(~np.isin(data.subject, np.concatenate([test_s, val_s])))
        out.append(Split(f"fold{f}", tr, va, te, list(test_s)))
    return out


@dataclass
class FitResult:
    model: torch.nn.Module
    history: pd.DataFrame
    best_epoch: int


def _validate_xy(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.as_tensor(np.asarray(X)) if not isinstance(X, torch.Tensor) else X
    y = torch.as_tensor(np.asarray(y)) if not isinstance(y, torch.Tensor) else y
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n, ch, t), got {tuple(X.shape)}")
    if not torch.is_floating_point(X):
        raise ValueError(f"X must be floating point (float32), got {X.dtype}")
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must have shape ({len(X)},), got {tuple(y.shape)}")
    if torch.is_floating_point(y):
        if not torch.all(y == y.round()):
            raise ValueError("y must hold integer class indices")
    return X.float(), y.long()


def _check_labels(model: torch.nn.Module, y: torch.Tensor, what: str) -> None:
    """``y`` must hold class indices ``0 .. model.n_classes - 1`` (any ``>= 0`` if unknown)."""
    if not len(y):
        return
    n_out = getattr(model, "n_classes", None)
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or (n_out is not None and hi >= int(n_out)):
        want = f"0..{int(n_out) - 1}" if n_out is not None else ">= 0"
        raise ValueError(f"{what} must hold class indices {want} for this model; got range {lo}..{hi}")


def fit(
    model: torch.nn.Module,
    X,
    y,
    X_val=None,
    y_val=None,
    *,
    epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 64,
    patience: int = 10,
    weight_decay: float = 0.0,
    seed: int = 0,
    device=None,
    progress: bool = True,
    class_weight: str | np.ndarray | None = None,
) -> FitResult:
    """Train ``model`` on ``X (n, ch, t)``, ``y (n,)`` with Adam and cross-entropy.

    Early stopping: keeps the weights of the epoch with the lowest validation loss and stops
    after ``patience`` epochs without improvement (no validation set: trains all epochs).
    ``class_weight="balanced"`` weights the loss by inverse class frequency.
    Calls ``model.apply_constraints()`` (max-norm) after each optimiser step when present.

    Raises ``ValueError`` when ``X`` is not ``(n, ch, t)`` floating point, ``y`` is not
    ``(n,)`` integer class indices, or ``y``/``y_val`` hold labels outside
    ``0 .. model.n_classes - 1``.
    """
    X, y = _validate_xy(X, y)
    has_val = X_val is not None and len(X_val) > 0
    if has_val:
        X_val, y_val = _validate_xy(X_val, y_val)
    _check_labels(model, y, "y")
    if has_val:
        _check_labels(model, y_val, "y_val")
    dev = get_device(device)
    seed_everything(seed)
    model = model.to(dev)
    n_classes = int(max(y.max().item(), y_val.max().item() if has_val else 0) + 1)
    w = None
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = torch.bincount(y, minlength=n_classes).float().clamp(min=1)
        w = (counts.sum() / (n_classes * counts)).to(dev)
    elif class_weight is not None:
        w = torch.as_tensor(class_weight, dtype=torch.float32, device=dev)
    loss_fn = torch.nn.CrossEntropyLoss(weight=w)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    best, best_state, best_epoch, bad = np.inf, None, 0, 0
    rows = []
    bar = tqdm(range(epochs), desc=f"fit {getattr(model, 'name', type(model).__name__)}", disable=not progress, leave=False)
    for ep in bar:
        model.train()
        perm = torch.randperm(len(X), generator=g)
        tot, correct = 0.0, 0
        for i in range(0, len(X), batch_size):
            b = perm[i : i + batch_size]
            if len(b) < 2 and len(X) > 1:  # BatchNorm needs more than one sample
                continue
            xb, yb = X[b].to(dev), y[b].to(dev)
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            if hasattr(model, "apply_constraints"):
                model.apply_constraints()
            tot += loss.item() * len(b)
            correct += (out.argmax(1) == yb).sum().item()
        row = dict(epoch=ep, loss=tot / len(X), acc=correct / len(X))
        if has_val:
            vl, va = _loss_acc(model, X_val, y_val, loss_fn, dev, batch_size * 4)
            row.update(val_loss=vl, val_acc=va)
            if vl < best - 1e-5:
                best, best_epoch, bad = vl, ep, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad += 1
        rows.append(row)
        bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k != "epoch"})
        if has_val and bad >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = len(rows) - 1
    model.eval()
    return FitResult(model, pd.DataFrame(rows), best_epoch)


_FIT = fit  # the signature whose defaults key the model cache (even when a test patches fit)


@torch.no_grad()
def _loss_acc(model, X, y, loss_fn, dev, bs) -> tuple[float, float]:
    model.eval()
    tot, correct = 0.0, 0
    for i in range(0, len(X), bs):
        out = model(X[i : i + bs].to(dev))
        yb = y[i : i + bs].to(dev)
        tot += loss_fn(out, yb).item() * len(yb)
        correct += (out.argmax(1) == yb).sum().item()
    return tot / len(X), correct / len(X)


@torch.no_grad()
def evaluate(model: torch.nn.Module, X, y, *, device=None, batch_size: int = 256) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro-F1, confusion matrix, predictions and probabilities."""
    from eegnb.explain.registry import predict

    X, y = _validate_xy(X, y)
    proba = predict(model, X, device=device, batch_size=batch_size)
    y_np = y.numpy()
    pred = proba.argmax(1)
    labels = np.arange(proba.shape[1])
    return dict(
        acc=float((pred == y_np).mean()),
        balanced_acc=float(balanced_accuracy_score(y_np, pred)),
        macro_f1=float(f1_score(y_np, pred, average="macro", labels=labels, zero_division=0)),
        confusion=confusion_matrix(y_np, pred, labels=labels),
        y_pred=pred,
        proba=proba,
    )


def train_model(
    name: str,
    data,
    split: Split,
    *,
    seed: int = 0,
    device=None,
    cache_dir: str | Path | None = None,
    model_kw: dict | None = None,
    progress: bool = True,
    **fit_kw,
) -> torch.nn.Module:
    """Build model ``name`` for ``data``, fit it on ``split.train`` with early stopping on ``split.val``.

    Cached under ``cache_dir/models/<key>.pt``; the key covers the model name, keywords and
    full config (defaults included), the data fingerprint, the split, the seed, every ``fit``
    argument with its default and the code version of ``eegnb.train``/``eegnb.models``. An
    entry that cannot be read (or was not a plain state dict) is retrained with a warning.
    Returns the model in eval mode on ``device`` with ``model.history`` (a DataFrame) attached.
    """
    from eegnb.models import build

    _check_data(data)
    model_kw = dict(model_kw or {})
    dev = get_device(device)
    n_classes = int(getattr(data, "n_classes", None) or (int(np.max(data.y)) + 1))
    seed_everything(seed)
    model = build(name, data.X.shape[1], data.X.shape[2], n_classes, sfreq=float(data.sfreq), **model_kw)
    data_fp = data.fingerprint() if hasattr(data, "fingerprint") else fingerprint(data.X, data.y)
    path = None
    if cache_dir is not None:
        import inspect

        # every argument fit will see, defaults included: a changed default is a new key
        bound = inspect.signature(_FIT).bind_partial(**fit_kw)
        bound.apply_defaults()
        fit_args = {k: v for k, v in bound.arguments.items()
                    if k not in ("model", "X", "y", "X_val", "y_val", "device", "progress", "seed")}
        key = fingerprint(name, model_kw, getattr(model, "config", None), data_fp, split.key(), seed,
                          {k: fit_args[k] for k in sorted(fit_args)},
                          code_version("eegnb.models", "eegnb.utils") + code_version("eegnb.train", follow=False))
        path = Path(cache_dir) / "models" / f"{name}-{key}.pt"
        clean_orphans(path.parent)
    if path is not None and path.exists():
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(blob["state_dict"])
            model.history = pd.DataFrame(blob["history"])
            return model.to(dev).eval()
        except Exception as e:  # noqa: BLE001 - a corrupt, stale or unsafe entry: retrain and overwrite
            import warnings

            why = (str(e).strip().splitlines() or [""])[0]
            warnings.warn(f"cached model {path} could not be read ({type(e).__name__}: {why}); retraining",
                          stacklevel=2)
            path.unlink(missing_ok=True)
    va = split.val if len(split.val) else None
    res = fit(
        model,
        data.X[split.train],
        data.y[split.train],
        data.X[va] if va is not None else None,
        data.y[va] if va is not None else None,
        seed=seed,
        device=dev,
        progress=progress,
        **fit_kw,
    )
    model = res.model
    model.history = res.history
    if path is not None:
        # plain tensors and lists only, so weights_only=True can read it back
        hist = {c: res.history[c].tolist() for c in res.history.columns}
        atomic_torch_save({"state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "history": hist}, path)
    return model.eval()
