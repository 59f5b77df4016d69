"""Small shared utilities: seeding, devices, array conversion and an atomic cache.

The cache is hand-written (no library keys torch objects by content and writes
atomically): keys are SHA-256 hashes of JSON-serialised inputs, files are written
to a temporary name in the same folder and then renamed, so an interrupted run never
leaves a half-written entry behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy and torch; return a numpy Generator seeded with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def get_device(device: str | torch.device | None = None) -> torch.device:
    """Resolve ``"auto"``/``None`` to CUDA when available, else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (CPU for a model without parameters)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def to_numpy(x: Any) -> np.ndarray:
    """Tensor or array-like to a numpy array (detached, on CPU)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def to_tensor(x: Any, device: str | torch.device | None = None, dtype=torch.float32) -> torch.Tensor:
    """Array-like to a tensor of ``dtype`` on ``device`` (CPU by default)."""
    if isinstance(x, torch.Tensor):
        t = x.to(dtype=dtype)
    else:
        t = torch.as_tensor(np.asarray(x), dtype=dtype)
    return t.to(get_device(device) if device is not None else t.device)


def fingerprint(*parts: Any) -> str:
    """A short stable hash of arrays, tensors and JSON-serialisable values."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, torch.Tensor):
            p = p.detach().cpu().numpy()
        if isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode())
            h.update(str(p.shape).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` through a temporary file and a rename."""
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def cached(
    cache_dir: str | Path | None,
    kind: str,
    key: Any,
    compute: Callable[[], Any],
    *,
    refresh: bool = False,
) -> Any:
    """Return ``compute()``, cached as a pickle under ``cache_dir/kind/<hash(key)>.pkl``.

    ``cache_dir=None`` disables caching. ``key`` must capture every input that changes
    the result (config, data fingerprint, seed).
    """
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / kind / f"{fingerprint(key)}.pkl"
    if path.exists() and not refresh:
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except (EOFError, pickle.UnpicklingError):
            path.unlink(missing_ok=True)
    value = compute()
    atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value
