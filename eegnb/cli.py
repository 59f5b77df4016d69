"""Command line: explain your own model on your own MNE epochs.

``eegnb explain --model model.pt --epochs data-epo.fif --method lrp_epsilon --out maps/``
loads a model (a TorchScript file, or a ``state_dict`` plus ``--builder``), reads an MNE
``Epochs`` file (``mne.read_epochs``), runs any registered method through
:func:`eegnb.explain.explain` and writes ``maps.npz`` and ``maps.png`` into ``--out``.
``eegnb methods`` lists the registered methods (:func:`eegnb.explain.methods_table`).
Also ``python -m eegnb.cli ...``.

``maps.npz`` holds ``maps`` float32 ``(n, ch, t)`` (time methods) or ``(n, ch, n_bands)``
(frequency methods), ``ch_names (ch,)``, ``times (t,)`` s or ``band_edges (n_bands, 2)`` Hz,
``method``, ``domain``, ``target (n,)`` (the explained class), ``predicted (n,)``,
``proba (n, n_classes)``, ``sfreq`` and ``unit`` (the unit the model was fed).

Models. TorchScript (``torch.jit.save``) runs as is; rule-based methods (LRP, CRP, DFT-LRP)
need module hooks that scripted modules do not run, so they are refused on TorchScript (use a
``state_dict`` with a builder). ``--builder eegnb:<name>`` builds an eegnb model
(:func:`eegnb.models.build`) for the epochs' shape; ``--builder pkg.module:function`` imports
``function`` (from the current folder too) and calls it with those of ``n_chans``, ``n_times``,
``n_classes``, ``sfreq`` it accepts plus ``--builder-kw``. The state dict is read with
``torch.load(weights_only=True)``: a plain ``{name: tensor}`` or a dict holding it under
``state_dict``/``model_state_dict`` (optionally with ``ch_names``). Nothing here is hand-written
that MNE/torch/matplotlib provide; the figure is the mean map per explained class.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import sys
import warnings
from pathlib import Path

import numpy as np

RULE_MODULES = ("eegnb.explain.lrp", "eegnb.explain.crp", "eegnb.explain.dft_lrp")
UNITS = {"uV": 1e-6, "µV": 1e-6, "mV": 1e-3, "V": 1.0}
DATA_TYPES = {"eeg", "eog", "emg", "ecg", "seeg", "ecog", "dbs"}


class CLIError(ValueError):
    """A bad input the user can fix; printed without a traceback."""


# ----------------------------------------------------------------------------- inputs
def parse_kw(items: list[str] | None, what: str = "--method-kw") -> dict:
    """``["epsilon=1e-6", "rule='epsilon'", "bands=[(1,4),(4,8)]"]`` -> dict (literals, else str)."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise CLIError(f"{what} expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k.strip()] = v
    return out


def _need_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {str(p)!r}")
    return p


def read_epochs(path: str | Path, *, picks: str = "data", unit: str = "uV", channels: list[str] | None = None):
    """``(epochs, X (n, ch, t) float32 in unit, y (n,) int)`` from an MNE ``-epo.fif`` file.

    ``channels`` (the model's channel order) picks and reorders; missing ones are an error.
    ``y``: event codes mapped to 0..K-1 in code order (as :meth:`eegnb.data.EEGData.from_epochs`).
    """
    import mne

    p = _need_file(path, "epochs")
    if unit not in UNITS:
        raise CLIError(f"--unit must be one of {sorted(UNITS)}, got {unit!r}")
    try:
        epochs = mne.read_epochs(str(p), preload=True, verbose="error")
    except Exception as e:
        raise CLIError(f"could not read {str(p)!r} as MNE epochs (mne.read_epochs): {e}") from e
    if channels:
        missing = [c for c in channels if c not in epochs.ch_names]
        if missing:
            raise CLIError(f"the model expects channels the epochs lack: {missing} "
                           f"(epochs have {len(epochs.ch_names)}: {epochs.ch_names[:8]}...)")
        epochs.pick(list(channels)).reorder_channels(list(channels))
    else:
        epochs.pick(picks, exclude=())
    if len(epochs) == 0:
        raise CLIError(f"{str(p)!r} holds no epochs")
    X = epochs.get_data(copy=True)
    scale = np.array([1.0 / UNITS[unit] if t in DATA_TYPES else 1.0 for t in epochs.get_channel_types()])
    X = (X * scale[None, :, None]).astype(np.float32)
    codes = sorted(set(epochs.event_id.values()) | set(epochs.events[:, 2].tolist()))
    y = np.searchsorted(np.array(codes), epochs.events[:, 2]).astype(np.int64)
    return epochs, X, y


def _split_state(obj) -> tuple[dict, list[str] | None]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                names = obj.get("ch_names")
                return obj[key], list(names) if names is not None else None
        if all(hasattr(v, "shape") for v in obj.values()):
            return obj, None
    raise CLIError("the model file is not a state_dict ({name: tensor}, or a dict with 'state_dict')")


def _n_classes_from_state(state: dict) -> int:
    # the last parameter of a classifier is its output layer's bias (or weight): (n_classes, ...)
    for k in reversed(list(state)):
        v = state[k]
        if k.endswith(("bias", "weight")) and getattr(v, "ndim", 0) >= 1:
            return int(v.shape[0])
    raise CLIError("cannot infer the number of classes from the state_dict: pass --n-classes")


def _call_builder(spec: str, n_chans: int, n_times: int, n_classes: int, sfreq: float, kw: dict):
    import torch

    if ":" not in spec:
        raise CLIError(f"--builder must be 'eegnb:<model>' or 'module:function', got {spec!r}")
    mod, fn_name = spec.split(":", 1)
    if mod == "eegnb":
        from eegnb.models import MODELS, build

        if fn_name.lower() not in MODELS:
            raise CLIError(f"unknown eegnb model {fn_name!r}; known: {sorted(MODELS)}")
        try:
            return build(fn_name, n_chans, n_times, n_classes, sfreq, **kw)
        except ValueError as e:
            raise CLIError(f"cannot build {fn_name} for epochs (n, {n_chans}, {n_times}) at {sfreq:g} Hz: {e}") from e
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # builders next to the user's files, as `python -m` would find them
    try:
        fn = getattr(importlib.import_module(mod), fn_name)
    except (ImportError, AttributeError) as e:
        raise CLIError(f"cannot import builder {spec!r}: {e}") from e
    params = inspect.signature(fn).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    shape = dict(n_chans=n_chans, n_times=n_times, n_classes=n_classes, sfreq=sfreq)
    model = fn(**{k: v for k, v in shape.items() if takes_all or k in params}, **kw)
    if not isinstance(model, torch.nn.Module):
        raise CLIError(f"builder {spec!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def load_model(path: str | Path, *, builder: str | None, n_chans: int, n_times: int, sfreq: float,
               n_classes: int | None = None, builder_kw: dict | None = None):
    """``(model, scripted, ch_names or None)``: TorchScript when ``builder`` is None, else a
    state_dict loaded into ``builder``'s module (strict)."""
    import torch

    p = _need_file(path, "model")
    if builder is None:
        extra = {"ch_names": ""}
        try:
            with warnings.catch_warnings():  # torch >= 2.10 marks TorchScript deprecated; it still loads
                warnings.simplefilter("ignore", FutureWarning)
                model = torch.jit.load(str(p), map_location="cpu", _extra_files=extra)
        except Exception as e:
            raise CLIError(f"{str(p)!r} is not a TorchScript file ({type(e).__name__}); for a state_dict "
                           "pass --builder eegnb:<model> or --builder module:function") from e
        names = json.loads(extra["ch_names"]) if extra["ch_names"] else None
        return model, True, names
    try:
        obj = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as e:
        raise CLIError(f"cannot read {str(p)!r} as a state_dict with torch.load(weights_only=True): {e}") from e
    state, names = _split_state(obj)
    k = n_classes or _n_classes_from_state(state)
    model = _call_builder(builder, n_chans, n_times, k, sfreq, builder_kw or {})
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CLIError(f"the state_dict does not fit {builder} built for (n, {n_chans}, {n_times}), "
                       f"{k} classes: {str(e)[:600]}") from e
    return model, False, names


def check_model_input(model, X: np.ndarray) -> int:
    """Number of classes, after running the model on ``X[:1]``; CLIError on a shape mismatch."""
    import torch

    want = getattr(model, "n_chans", None), getattr(model, "n_times", None)
    if want[0] is not None and want[0] != X.shape[1]:
        raise CLIError(f"the model expects {want[0]} channels, the epochs have {X.shape[1]} "
                       "(choose them with --picks or --channels)")
    if want[1] is not None and want[1] != X.shape[2]:
        raise CLIError(f"the model expects {want[1]} time points, the epochs have {X.shape[2]} (crop them)")
    try:
        with torch.no_grad():
            out = model.eval()(torch.as_tensor(X[:1]))
    except Exception as e:
        raise CLIError(f"the model rejected epochs of shape (n, {X.shape[1]}, {X.shape[2]}) "
                       f"(n, channels, times): {type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}") from e
    if out.ndim != 2 or out.shape[0] != 1:
        raise CLIError(f"the model must return logits (n, n_classes); got shape {tuple(out.shape)}")
    return int(out.shape[1])


def parse_target(spec: str, y: np.ndarray, n_classes: int):
    """``"predicted"`` -> None, ``"labels"`` -> the epochs' event classes, ``"k"`` -> class k."""
    if spec in (None, "", "predicted"):
        return None
    if spec == "labels":
        if y.max() >= n_classes:
            raise CLIError(f"the epochs hold {y.max() + 1} event classes, the model has {n_classes} outputs")
        return y
    try:
        return int(spec)
    except ValueError:
        raise CLIError(f"--target must be 'predicted', 'labels' or a class index, got {spec!r}") from None


# ----------------------------------------------------------------------------- figure
def _class_means(maps: np.ndarray, target: np.ndarray) -> tuple[list[int], list[np.ndarray]]:
    classes = sorted(set(target.tolist()))
    return classes, [maps[target == k].mean(0) for k in classes]


def plot_time_maps(maps: np.ndarray, target: np.ndarray, *, ch_names, sfreq: float, tmin: float,
                   method: str, signed: bool):
    """Mean map ``(ch, t)`` per explained class, on one colour scale."""
    import matplotlib.pyplot as plt

    from eegnb.plots import plot_map

    classes, means = _class_means(maps, target)
    fig, axes = plt.subplots(1, len(classes), figsize=(6 * len(classes), 0.12 * len(ch_names) + 2.5),
                             squeeze=False)
    for ax, k, m in zip(axes[0], classes, means):
        plot_map(m, ax=ax, ch_names=list(ch_names), sfreq=sfreq, signed=signed,
                 title=f"{method}: class {k} (mean of {int((target == k).sum())} epochs)",
                 cbar_label="relevance (signed)" if signed else "importance (a.u.)")
        if tmin:
            ax.set_xticklabels([f"{float(t.get_text()) + tmin:.1f}" for t in ax.get_xticklabels()])
    v = float(np.nanmax(np.abs(means))) or 1.0
    for ax in axes[0]:  # one colour scale for every class
        ax.images[0].set_clim(-v if signed else float(np.nanmin(means)), v)
    fig.tight_layout()
    return fig


def plot_band_maps(maps: np.ndarray, target: np.ndarray, *, info, edges: np.ndarray, method: str,
                   signed: bool):
    """Scalp maps (``mne.viz.plot_topomap``) of the mean map per class (rows) and band (columns);
    a channel x band image when the channels have no positions."""
    import matplotlib.pyplot as plt
    import mne

    from eegnb.explain.bands import band_labels
    from eegnb.plots import plot_map

    classes, means = _class_means(maps, target)
    labels = band_labels(edges)
    has_pos = any(np.isfinite(ch["loc"][:3]).all() and np.any(ch["loc"][:3]) for ch in info["chs"])
    if not has_pos:
        from eegnb.data.layouts import make_montage

        mont = make_montage(list(info.ch_names))
        if mont is not None:
            info = info.copy()
            info.set_montage(mont, on_missing="ignore", verbose="error")
            has_pos = True
    label = "relevance (signed)" if signed else "importance (a.u.)"
    if not has_pos:  # e.g. bipolar sleep derivations
        fig, axes = plt.subplots(1, len(classes), figsize=(5 * len(classes), 3), squeeze=False)
        for ax, k, m in zip(axes[0], classes, means):
            plot_map(m, ax=ax, ch_names=list(info.ch_names), x_labels=labels, signed=signed,
                     title=f"{method}: class {k} (no channel positions)", cbar_label=label)
        fig.tight_layout()
        return fig
    v = float(np.nanmax(np.abs(means))) or 1.0
    vlim = (-v, v) if signed else (float(np.nanmin(means)), v)
    nb = len(edges)
    fig, axes = plt.subplots(len(classes), nb, figsize=(1.9 * nb + 1.2, 2.1 * len(classes)), squeeze=False)
    im = None
    for r, (k, m) in enumerate(zip(classes, means)):
        for b in range(nb):
            im, _ = mne.viz.plot_topomap(m[:, b], info, axes=axes[r, b], show=False, contours=0,
                                         cmap="RdBu_r" if signed else "viridis", vlim=vlim)
            axes[r, b].set_title(labels[b] if r == 0 else "", fontsize=8)
        axes[r, 0].set_ylabel(f"class {k}")
        axes[r, 0].yaxis.set_visible(True)
    fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.02, pad=0.02, label=label)
    fig.suptitle(f"{method}: mean map per explained class and band", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- commands
def run_explain(a: argparse.Namespace) -> dict:
    """The ``explain`` subcommand; returns what it wrote."""
    import torch

    from eegnb.explain import METHODS, explain
    from eegnb.explain.bands import EASYPEASI_BANDS, band_edges

    if a.method not in METHODS:
        raise CLIError(f"unknown method {a.method!r}; known methods: {', '.join(METHODS)} "
                       "(details: eegnb methods)")
    m = METHODS[a.method]
    method_kw = parse_kw(a.method_kw)
    channels = ([c.strip() for c in Path(a.channels[1:]).read_text().split()] if a.channels and a.channels.startswith("@")
                else [c.strip() for c in a.channels.split(",")] if a.channels else None)
    _need_file(a.model, "model")
    epochs, X, y = read_epochs(a.epochs, picks=a.picks, unit=a.unit, channels=channels)
    sfreq = float(epochs.info["sfreq"])
    model, scripted, saved_names = load_model(a.model, builder=a.builder, n_chans=X.shape[1], n_times=X.shape[2],
                                              sfreq=sfreq, n_classes=a.n_classes,
                                              builder_kw=parse_kw(a.builder_kw, "--builder-kw"))
    if saved_names and not channels:  # the model says which channels, in which order
        epochs, X, y = read_epochs(a.epochs, unit=a.unit, channels=saved_names)
    if scripted and m.fn.__module__ in RULE_MODULES:
        raise CLIError(f"{a.method!r} applies LRP rules through module hooks, which a TorchScript model "
                       "does not run (the maps would silently be plain gradients); save a state_dict and "
                       "pass --builder eegnb:<model> or module:function")
    n_classes = check_model_input(model, X)
    if m.needs_sfreq:
        method_kw.setdefault("sfreq", sfreq)
    target = parse_target(a.target, y, n_classes)
    if a.max_epochs:
        X, y = X[: a.max_epochs], y[: a.max_epochs]
        target = target[: a.max_epochs] if isinstance(target, np.ndarray) else target
    torch.manual_seed(a.seed)
    try:
        maps, info = explain(a.method, model, X, target, device=a.device, batch_size=a.batch_size,
                             return_info=True, **method_kw)
    except TypeError as e:  # an unknown --method-kw
        raise CLIError(f"{a.method}: {e}; its keywords: {m.defaults or 'see its docstring'}") from e
    from eegnb.explain import predict

    proba = predict(model, X, device=a.device)
    predicted = proba.argmax(1).astype(np.int64)
    tgt = predicted if target is None else np.broadcast_to(np.asarray(target, np.int64), (len(X),)).copy()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    arrays = dict(maps=maps, ch_names=np.array(epochs.ch_names), method=np.array(a.method),
                  domain=np.array(m.domain), target=tgt, predicted=predicted, proba=proba.astype(np.float32),
                  sfreq=np.array(sfreq), unit=np.array(a.unit))
    if m.domain == "time":
        arrays["times"] = epochs.times.astype(np.float64)
    else:
        edges = info.get("band_edges")
        if edges is None:  # methods that do not report their edges yet
            bands = method_kw.get("bands")
            if bands is None and a.method == "easypeasi" and maps.shape[-1] == len(EASYPEASI_BANDS):
                bands = EASYPEASI_BANDS
            edges = band_edges(sfreq, maps.shape[-1], bands=bands)
        arrays["band_edges"] = np.asarray(edges, np.float64)
    npz = out / "maps.npz"
    np.savez(npz, **arrays)
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    if m.domain == "time":
        fig = plot_time_maps(maps, tgt, ch_names=epochs.ch_names, sfreq=sfreq, tmin=float(epochs.tmin),
                             method=a.method, signed=m.signed)
    else:
        fig = plot_band_maps(maps, tgt, info=epochs.info, edges=arrays["band_edges"], method=a.method,
                             signed=m.signed)
    png = out / "maps.png"
    fig.savefig(png, dpi=a.dpi, bbox_inches="tight")
    plt.close(fig)
    print(f"{a.method} on {len(X)} epochs x {X.shape[1]} channels x {X.shape[2]} samples ({sfreq:g} Hz): "
          f"maps {maps.shape} -> {npz}, figure -> {png}")
    return {"npz": npz, "png": png, "shape": maps.shape}


def run_methods(a: argparse.Namespace) -> None:
    """The ``methods`` subcommand: one line per registered method, its keywords and paper below."""
    from eegnb.explain import methods_table

    tab = methods_table()
    yn = {True: "yes", False: "no"}
    print(f"{'method':<26}{'domain':<11}{'signed':<8}{'target':<8}keywords (defaults)")
    for name, r in tab.iterrows():
        print(f"{name:<26}{r.domain:<11}{yn[bool(r.signed)]:<8}{yn[bool(r.uses_target)]:<8}{r.keywords}")
        if r.paper:
            print(f"{'':<26}{r.paper}")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="eegnb", description="Explain EEG deep-learning models (eegnb).")
    sub = ap.add_subparsers(dest="command", required=True)
    e = sub.add_parser("explain", help="explain a model's decisions on MNE epochs",
                       description="Explain a model's decisions on MNE epochs; writes OUT/maps.npz and OUT/maps.png.")
    e.add_argument("--model", required=True, help="TorchScript file, or a state_dict with --builder")
    e.add_argument("--epochs", required=True, help="MNE epochs file (*-epo.fif)")
    e.add_argument("--method", required=True, help="a registered method (see: eegnb methods)")
    e.add_argument("--out", required=True, help="output folder")
    e.add_argument("--builder", default=None,
                   help="for a state_dict: eegnb:<model> (eegnet, deepconvnet, tsception, sleepcnn) or module:function")
    e.add_argument("--builder-kw", nargs="*", metavar="KEY=VALUE", help="extra keywords for the builder")
    e.add_argument("--n-classes", type=int, default=None, help="default: from the state_dict's last layer")
    e.add_argument("--target", default="predicted", help="'predicted' (default), 'labels' (the epochs' events) or a class index")
    e.add_argument("--method-kw", nargs="*", metavar="KEY=VALUE", help="method keywords, e.g. epsilon=1e-6 n_bands=8")
    e.add_argument("--picks", default="data", help="MNE picks (default: data channels)")
    e.add_argument("--channels", default=None, help="the model's channels in order: comma list or @file")
    e.add_argument("--unit", default="uV", choices=sorted(UNITS), help="unit the model expects (epochs are in V)")
    e.add_argument("--device", default="auto", help="cpu, cuda or auto")
    e.add_argument("--batch-size", type=int, default=None)
    e.add_argument("--max-epochs", type=int, default=None, help="explain only the first N epochs")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--dpi", type=int, default=150)
    sub.add_parser("methods", help="list the registered explanation methods")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eegnb`` console script; returns the exit status."""
    a = parser().parse_args(argv)
    try:
        if a.command == "methods":
            run_methods(a)
        else:
            run_explain(a)
    except (CLIError, ValueError) as e:  # bad input (the package's ValueErrors say what was expected)
        print(f"eegnb: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
