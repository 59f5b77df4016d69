"""Small shared utilities: seeding, devices, array conversion and an atomic, safe cache.

The cache is hand-written (no library keys torch objects by content, writes atomically and
stores results in a format that cannot run code):

- Keys are SHA-256 hashes of the caller's key, plus a **code version** (by default a hash of
  the code of the module that defines ``compute`` and of every ``eegnb`` module it imports,
  comments and docstrings ignored; see :func:`code_version`), plus a **file signature**
  (relative path, size and modification time of every file under each data folder named in
  the key as ``data_dir``/``data_path``, or passed as ``files=``; see :func:`files_signature`).
  Changing a default in code or adding a subject to a data folder therefore never serves a
  stale entry.
- Entries are ``.npz`` files: the arrays, plus the value's structure as a JSON tree stored in
  the same file; read back with ``np.load(allow_pickle=False)``, never with pickle. Objects
  of ``eegnb`` classes (dataclasses such as results and ``EEGData``) are rebuilt from their
  attributes without calling any code of theirs; MNE ICA objects are stored as FIF bytes.
  Anything else raises ``TypeError`` naming where in the value it sits (no pickle fallback).
- Files go to a temporary name ``.<name>.<pid>.<random>.tmp`` in the same folder and are
  renamed; temporaries of dead processes are removed on the next call; entries are readable
  by the group (the umask's permissions, not ``mkstemp``'s 0600). An entry that fails to load
  for any reason is recomputed with a warning.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib
import io
import json
import os
import random
import sys
import tempfile
import warnings
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


#: Samples per call on a CPU: per-sample forward+backward time is flat or rising beyond ~8-16
#: samples on the 2-core machine this was measured on (EEGNet at DEAP size: 2.8 ms at 1, 2.5 at
#: 8, 3.5 at 32, 5.2 at 128), and a small batch keeps memory low.
CPU_BATCH = 16


def auto_batch_size(model: torch.nn.Module, sample_shape: tuple[int, ...], device=None, *, n: int | None = None,
                    factor: float = 4.0, fraction: float = 0.5, cpu_batch: int = CPU_BATCH,
                    max_batch: int = 4096, probe: int = 4) -> int:
    """Samples per batch for explaining ``model`` on inputs of ``sample_shape`` ``(ch, t)``.

    CPU: ``cpu_batch``. CUDA: the largest batch whose memory fits in ``fraction`` of the free
    device memory, from the peak memory of one forward + input-gradient backward on ``probe``
    samples times ``factor`` (room for what an explainer keeps beside the activations: masks,
    optimiser moments, rule copies). Capped at ``n`` (the samples to explain) and ``max_batch``;
    at least 1.
    """
    dev = get_device(device)
    cap = max(1, min(int(max_batch), int(n) if n else int(max_batch)))
    if dev.type != "cuda":
        return max(1, min(int(cpu_batch), cap))
    torch.cuda.synchronize(dev)
    free, _ = torch.cuda.mem_get_info(dev)
    base = torch.cuda.memory_allocated(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    x = torch.zeros((probe,) + tuple(sample_shape), device=dev, requires_grad=True)
    with torch.enable_grad():
        out = model(x)
        torch.autograd.grad(out.float().sum(), x)
    torch.cuda.synchronize(dev)
    per_sample = max(1, torch.cuda.max_memory_allocated(dev) - base) / probe
    del x, out
    return max(1, min(cap, int(fraction * free / (factor * per_sample))))


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


def _json_default(o: Any) -> Any:
    """Stable stand-ins for values ``json`` cannot write (arrays by content, not by repr)."""
    if isinstance(o, torch.Tensor):
        o = o.detach().cpu().numpy()
    if isinstance(o, np.ndarray):
        return "nd:" + fingerprint(o)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (set, frozenset)):
        return sorted(o, key=repr)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return {"dataclass": type(o).__qualname__, **{f.name: getattr(o, f.name) for f in dataclasses.fields(o)}}
    try:
        import pandas as pd

        if isinstance(o, (pd.DataFrame, pd.Series)):
            cols = str(list(getattr(o, "columns", [o.name])))
            return "pd:" + fingerprint(pd.util.hash_pandas_object(o, index=True).to_numpy(), cols)
    except (ImportError, TypeError):  # unhashable cells: fall back to the text form
        pass
    return str(o)


def fingerprint(*parts: Any) -> str:
    """A short stable hash of arrays, tensors and JSON-serialisable values.

    Arrays nested in dicts/lists are hashed by content (not by their abbreviated ``repr``).
    """
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, torch.Tensor):
            p = p.detach().cpu().numpy()
        if isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode())
            h.update(str(p.shape).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=_json_default).encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- atomic writes
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The temporary ``.<name>.<pid>.<random>.tmp`` lives in the same folder (so the rename is
    atomic) and names the writing process, so :func:`clean_orphans` can tell a killed write
    from a live one. The entry gets the umask's permissions (group-readable with 022/002).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` through a temporary file and a rename."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def clean_orphans(folder: str | Path, *, max_age_s: float = 3600.0) -> list[Path]:
    """Remove temporaries left in ``folder`` by killed writes; return what was removed.

    A ``.<name>.<pid>.<random>.tmp`` whose process is gone is removed at once; a ``.*.tmp``
    without a readable pid (older format) once it is older than ``max_age_s`` seconds.
    """
    import time

    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for p in folder.glob(".*.tmp"):
        parts = p.name.split(".")
        pid = next((int(x) for x in reversed(parts[:-2]) if x.isdigit() and len(x) < 10), None)
        try:
            if pid is not None and pid != os.getpid():
                stale = not _pid_alive(pid)
            else:
                stale = pid is None and now - p.stat().st_mtime > max_age_s
            if stale:
                p.unlink()
                removed.append(p)
        except FileNotFoundError:  # another process cleaned it first
            continue
    return removed


# --------------------------------------------------------------------------- code versions
def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.lru_cache(maxsize=512)
def _file_code(path: str, mtime_ns: int, size: int, package: str) -> tuple[str, tuple[str, ...]]:
    """(hash of the code without comments/docstrings, eegnb modules it imports) of one file."""
    src = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(src)
    deps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            deps.update(a.name for a in node.names if a.name.split(".")[0] == "eegnb")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "eegnb":
                deps.add(mod)
                deps.update(f"{mod}.{a.name}" for a in node.names)  # may be submodules
    digest = hashlib.sha256(ast.dump(_strip_docstrings(tree)).encode()).hexdigest()[:16]
    return digest, tuple(sorted(deps))


def _module_file(name: str) -> tuple[str, str] | None:
    """(source path, package) of module ``name``, or None when it is not a source module.

    ``eegnb`` modules are found on disk without importing anything (``find_spec`` would run
    parent packages' ``__init__``); other modules only when already imported.
    """
    parts = name.split(".")
    if parts[0] == "eegnb":
        base = Path(__file__).resolve().parent.joinpath(*parts[1:])
        if (base / "__init__.py").is_file():
            return str(base / "__init__.py"), name
        if base.with_suffix(".py").is_file() and len(parts) > 1:
            return str(base.with_suffix(".py")), ".".join(parts[:-1])
        return None
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None)
    if not path or not str(path).endswith(".py") or not os.path.isfile(path):
        return None
    return str(path), name if Path(path).name == "__init__.py" else name.rpartition(".")[0]


def code_version(*modules: str, follow: bool = True) -> str:
    """Hash of the code of ``modules`` and (``follow``) every ``eegnb`` module they import.

    Comments, docstrings and formatting do not count; any change of code, including a
    changed default argument, gives a new version. Imports inside functions count too.
    """
    seen: dict[str, str] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        found = _module_file(name)
        if found is None:
            seen[name] = ""
            continue
        path, package = found
        st = os.stat(path)
        digest, deps = _file_code(path, st.st_mtime_ns, st.st_size, package)
        seen[name] = digest
        if follow:
            todo.extend(d for d in deps if d not in seen)
    return fingerprint(sorted((k, v) for k, v in seen.items() if v))


def _callable_version(compute: Callable) -> str:
    """Default code version of a ``compute``: its module's :func:`code_version`, or its source."""
    import inspect

    f = compute
    while isinstance(f, functools.partial):
        f = f.func
    f = getattr(f, "__func__", f)
    mod = getattr(f, "__module__", None)
    if mod and mod != "__main__" and _module_file(mod) is not None:
        return code_version(mod)
    try:  # a notebook cell or script: the function's own source
        return fingerprint(inspect.getsource(f))
    except (OSError, TypeError):
        code = getattr(f, "__code__", None)
        return fingerprint(code.co_code.hex() if code is not None else repr(f))


# --------------------------------------------------------------------------- file signatures
def files_signature(*paths: str | Path | None) -> list:
    """Relative path, size and modification time (ns) of every file under each of ``paths``.

    A folder is walked recursively (hidden files skipped), a file stands for itself, a
    missing path is recorded as missing. Goes into cache keys so that a changed, added or
    removed data file gives a new key.
    """
    out = []
    for p in paths:
        if p is None or str(p) == "":
            continue
        root = Path(p).expanduser()
        if root.is_file():
            st = root.stat()
            out.append([str(root.resolve()), [[root.name, st.st_size, st.st_mtime_ns]]])
        elif root.is_dir():
            rows = []
            for f in sorted(root.rglob("*")):
                rel = f.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                    continue
                st = f.stat()
                rows.append([rel.as_posix(), st.st_size, st.st_mtime_ns])
            out.append([str(root.resolve()), rows])
        else:
            out.append([str(root), "missing"])
    return out


_DATA_KEYS = ("data_dir", "data_path", "data_dirs")


def _data_paths(key: Any) -> list:
    """Values of ``data_dir``/``data_path`` entries anywhere in ``key`` (dicts, lists, tuples)."""
    found = []
    if isinstance(key, dict):
        for k, v in key.items():
            if k in _DATA_KEYS:
                found.extend(v if isinstance(v, (list, tuple)) else [v])
            else:
                found.extend(_data_paths(v))
    elif isinstance(key, (list, tuple)):
        for v in key:
            found.extend(_data_paths(v))
    return [p for p in found if isinstance(p, (str, os.PathLike)) and str(p) not in ("", "sim")]


# --------------------------------------------------------------------------- safe format
_FORMAT = 1


class _Encoder:
    """A value -> (JSON tree, arrays) with no pickle; TypeError names the offending part."""

    def __init__(self):
        self.arrays: list[np.ndarray] = []

    def arr(self, a: np.ndarray) -> int:
        self.arrays.append(a if a.flags.c_contiguous else a.copy(order="C"))  # keeps 0-d shape
        return len(self.arrays) - 1

    def enc(self, v: Any, where: str) -> Any:
        import pandas as pd

        if v is None or isinstance(v, (bool, str)) and not isinstance(v, np.generic):
            return v
        if isinstance(v, np.generic):
            if v.dtype.hasobject:
                raise TypeError(f"cached: cannot store numpy object scalar at {where}")
            return {"$scalar": self.arr(np.asarray(v))}
        if isinstance(v, int):
            return v if type(v) is int else int(v)
        if isinstance(v, float):
            return {"$float": repr(float(v))} if not np.isfinite(v) else float(v)
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject:
                return {"$objarray": list(v.shape), "items": [self.enc(x, f"{where}[{i}]") for i, x in enumerate(v.ravel().tolist())]}
            return {"$nd": self.arr(v)}
        if isinstance(v, torch.Tensor):
            return {"$tensor": self.arr(v.detach().cpu().numpy())}
        if isinstance(v, list):
            return [self.enc(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, tuple):
            return {"$tuple": [self.enc(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if isinstance(v, (set, frozenset)):
            return {"$set": [self.enc(x, f"{where}{{}}") for x in sorted(v, key=repr)]}
        if isinstance(v, dict):
            return {"$dict": [[self.enc(k, f"{where} key"), self.enc(x, f"{where}[{k!r}]")] for k, x in v.items()]}
        if isinstance(v, pd.DataFrame):
            return {"$df": {"index": self.index(v.index, f"{where}.index"),
                            "columns": self.index(v.columns, f"{where}.columns"),
                            "data": [self.values(v.iloc[:, i], f"{where}[{v.columns[i]!r}]") for i in range(v.shape[1])],
                            "attrs": self.enc(dict(v.attrs), f"{where}.attrs")}}
        if isinstance(v, pd.Series):
            return {"$series": {"index": self.index(v.index, f"{where}.index"), "name": self.enc(v.name, f"{where}.name"),
                                "data": self.values(v, where), "attrs": self.enc(dict(v.attrs), f"{where}.attrs")}}
        if isinstance(v, pd.Index):
            return {"$pdindex": self.index(v, where)}
        if isinstance(v, os.PathLike):
            return {"$path": os.fspath(v)}
        if v is pd.NA:
            return {"$NA": 0}
        if v is pd.NaT:
            return {"$NaT": 0}
        mne = sys.modules.get("mne")
        if mne is not None:
            from mne.channels import DigMontage
            from mne.preprocessing import ICA

            if isinstance(v, ICA):
                import tempfile as _tf

                with _tf.TemporaryDirectory() as d:
                    f = Path(d) / "entry-ica.fif"
                    v.save(f, overwrite=True, verbose="error")
                    return {"$mne_ica": self.arr(np.frombuffer(f.read_bytes(), np.uint8))}
            if isinstance(v, DigMontage):
                return {"$montage": self.enc(dict(v.get_positions()), where)}
        cls = type(v)
        if cls.__module__.split(".")[0] == "eegnb" and hasattr(v, "__dict__") and not hasattr(v, "__slots__") \
                and not isinstance(v, torch.nn.Module):
            return {"$object": f"{cls.__module__}:{cls.__qualname__}",
                    "state": self.enc(dict(vars(v)), f"{where}.{cls.__name__}")}
        raise TypeError(
            f"cached: cannot store {cls.__module__}.{cls.__qualname__} at {where} in the safe cache "
            "format (arrays, DataFrames/Series, dicts/lists/tuples of them, numbers, strings, None, "
            "eegnb dataclasses, MNE ICA/DigMontage); convert it to those (no pickle fallback)")

    def values(self, s, where: str) -> dict:
        """Column/index values keeping their dtype (numpy, categorical, extension or object)."""
        import pandas as pd

        dt = s.dtype
        if isinstance(dt, pd.CategoricalDtype):
            cat = pd.Categorical(s)
            return {"$cat": self.arr(np.asarray(cat.codes)), "categories": self.index(cat.categories, where),
                    "ordered": bool(cat.ordered)}
        if isinstance(dt, np.dtype) and not dt.hasobject:
            return {"$nd": self.arr(np.asarray(s))}
        if isinstance(dt, np.dtype):  # object: each element on its own
            return {"$obj": [self.enc(x, f"{where}[{i}]") for i, x in enumerate(list(s))]}
        items = [None if _is_na(x) else x for x in list(s)]
        return {"$ext": str(dt), "items": [self.enc(x, f"{where}[{i}]") for i, x in enumerate(items)]}

    def index(self, idx, where: str) -> dict:
        import pandas as pd

        if isinstance(idx, pd.RangeIndex):
            return {"$range": [idx.start, idx.stop, idx.step], "name": self.enc(idx.name, where)}
        if isinstance(idx, pd.MultiIndex):
            return {"$multi": [self.values(idx.get_level_values(i), where) for i in range(idx.nlevels)],
                    "names": [self.enc(n, where) for n in idx.names]}
        return {"$index": self.values(idx, where), "name": self.enc(idx.name, where)}


class _Decoder:
    def __init__(self, arrays):
        self.arrays = arrays

    def dec(self, t: Any) -> Any:
        import pandas as pd

        if t is None or isinstance(t, (bool, int, float, str)):
            return t
        if isinstance(t, list):
            return [self.dec(x) for x in t]
        (tag, body), *_ = t.items()
        if tag == "$scalar":
            return self.arrays[body][()]
        if tag == "$float":
            return float(body)
        if tag == "$nd":
            return self.arrays[body]
        if tag == "$objarray":
            out = np.empty(len(t["items"]), dtype=object)
            out[:] = [self.dec(x) for x in t["items"]] if t["items"] else []
            return out.reshape(body)
        if tag == "$tensor":
            return torch.from_numpy(np.array(self.arrays[body]))
        if tag == "$tuple":
            return tuple(self.dec(x) for x in body)
        if tag == "$set":
            return {self.dec(x) for x in body}
        if tag == "$dict":
            return {_hashable(self.dec(k)): self.dec(v) for k, v in body}
        if tag == "$df":
            index = self.index(body["index"])
            cols = [self.series(c, index) for c in body["data"]]
            df = pd.concat(cols, axis=1) if cols else pd.DataFrame(index=index)
            df.columns = self.index(body["columns"])
            df.attrs.update(self.dec(body["attrs"]))
            return df
        if tag == "$series":
            s = self.series(body["data"], self.index(body["index"]))
            s.name = self.dec(body["name"])
            s.attrs.update(self.dec(body["attrs"]))
            return s
        if tag == "$pdindex":
            return self.index(body)
        if tag == "$path":
            return Path(body)
        if tag == "$NA":
            return pd.NA
        if tag == "$NaT":
            return pd.NaT
        if tag == "$mne_ica":
            import tempfile as _tf

            import mne

            with _tf.TemporaryDirectory() as d:
                f = Path(d) / "entry-ica.fif"
                f.write_bytes(self.arrays[body].tobytes())
                return mne.preprocessing.read_ica(f, verbose="error")
        if tag == "$montage":
            import mne

            return mne.channels.make_dig_montage(**self.dec(body))
        if tag == "$object":
            cls = _eegnb_class(body)
            obj = cls.__new__(cls)  # no __init__/__post_init__: the stored state is the object
            obj.__dict__.update(self.dec(t["state"]))
            return obj
        raise ValueError(f"unknown tag {tag!r} in cache entry")

    def series(self, t: dict, index):
        import pandas as pd

        return pd.Series(self.values(t), index=index, dtype=object if "$obj" in t else None, copy=False)

    def values(self, t: dict):
        import pandas as pd

        (tag, body), *_ = t.items()
        if tag == "$nd":
            return self.arrays[body]
        if tag == "$cat":
            return pd.Categorical.from_codes(self.arrays[body], categories=self.index(t["categories"]),
                                             ordered=t["ordered"])
        if tag == "$obj":
            out = np.empty(len(body), dtype=object)
            out[:] = [self.dec(x) for x in body] if body else []
            return out
        if tag == "$ext":
            return pd.array([self.dec(x) for x in t["items"]], dtype=body)
        raise ValueError(f"unknown column tag {tag!r} in cache entry")

    def index(self, t: dict):
        import pandas as pd

        if "$range" in t:
            return pd.RangeIndex(*t["$range"], name=self.dec(t["name"]))
        if "$multi" in t:
            return pd.MultiIndex.from_arrays([self.values(v) for v in t["$multi"]],
                                             names=[self.dec(n) for n in t["names"]])
        return pd.Index(self.values(t["$index"]), name=self.dec(t["name"]),
                        dtype=object if "$obj" in t["$index"] else None)


def _is_na(x: Any) -> bool:
    import pandas as pd

    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and x != x)


def _hashable(k: Any) -> Any:
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _eegnb_class(spec: str) -> type:
    """The ``eegnb`` class named ``module:qualname``; anything outside eegnb is refused."""
    mod, _, qual = spec.partition(":")
    if mod.split(".")[0] != "eegnb":
        raise ValueError(f"cache entry names class {spec!r} outside eegnb; refused")
    obj: Any = importlib.import_module(mod)
    for part in qual.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"cache entry names {spec!r}, which is not a class")
    return obj


def dumps_safe(value: Any) -> bytes:
    """``value`` as ``.npz`` bytes: its arrays plus its structure as JSON (no pickle)."""
    e = _Encoder()
    tree = e.enc(value, "value")
    meta = json.dumps({"format": _FORMAT, "tree": tree}, allow_nan=False).encode()
    buf = io.BytesIO()
    np.savez(buf, __tree__=np.frombuffer(meta, np.uint8), **{f"a{i}": a for i, a in enumerate(e.arrays)})
    return buf.getvalue()


def loads_safe(data: bytes | str | Path) -> Any:
    """Inverse of :func:`dumps_safe`; reads with ``allow_pickle=False`` (cannot run code)."""
    src = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    with np.load(src, allow_pickle=False) as z:
        meta = json.loads(z["__tree__"].tobytes().decode())
        if meta.get("format") != _FORMAT:
            raise ValueError(f"cache format {meta.get('format')!r}, expected {_FORMAT}")
        n = sum(1 for k in z.files if k != "__tree__")
        arrays = [z[f"a{i}"] for i in range(n)]
    return _Decoder(arrays).dec(meta["tree"])


# --------------------------------------------------------------------------- the cache
def cache_entry_path(cache_dir: str | Path, kind: str, key: Any, compute: Callable | None = None, *,
                     version: str | None = None, files=None) -> Path:
    """Where :func:`cached` keeps the entry for these arguments (``.npz``)."""
    if version is None:
        version = _callable_version(compute) if compute is not None else ""
    paths = list(_data_paths(key)) + ([] if files is None else
                                      list(files) if isinstance(files, (list, tuple)) else [files])
    full = {"key": key, "code": str(version), "files": files_signature(*paths), "format": _FORMAT}
    return Path(cache_dir) / kind / f"{fingerprint(full)}.npz"


def cached(
    cache_dir: str | Path | None,
    kind: str,
    key: Any,
    compute: Callable[[], Any],
    *,
    refresh: bool = False,
    version: str | None = None,
    files=None,
) -> Any:
    """Return ``compute()``, cached under ``cache_dir/kind/<hash>.npz`` in a format that cannot run code.

    ``cache_dir=None`` disables caching. ``key`` must capture every input that changes the
    result (config, data fingerprint, seed). ``version`` names the version of the computing
    code; by default it is :func:`code_version` of the module that defines ``compute`` (so
    a changed default or line of code there, or in any eegnb module it imports, is a new
    key). ``files`` (a path or list of paths), and every ``data_dir``/``data_path`` entry of
    ``key``, add the size and modification time of their files to the key.

    An entry that cannot be read is recomputed with a warning; a value that cannot be stored
    safely raises ``TypeError`` (see :func:`dumps_safe`).
    """
    if cache_dir is None:
        return compute()
    path = cache_entry_path(cache_dir, kind, key, compute, version=version, files=files)
    clean_orphans(path.parent)
    if path.exists() and not refresh:
        try:
            return loads_safe(path)
        except Exception as e:  # noqa: BLE001 - any unreadable entry is recomputed
            why = (str(e).strip().splitlines() or [""])[0]
            warnings.warn(f"cache entry {path} could not be read ({type(e).__name__}: {why}); recomputing",
                          stacklevel=2)
    value = compute()
    atomic_write_bytes(path, dumps_safe(value))
    return value
