"""Notebook conventions: one ``setup()`` call, figures saved by name, numbers recorded for tests.

``nb = setup("11", seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)``
seeds every generator, applies the shared plot style and returns a :class:`Notebook` with
``nb.savefig(fig, "channel-reduction")`` (writes ``<fig_dir>/11-channel-reduction.png``)
and ``nb.record("acc", 0.91)``.

Where figures go: the parameters cell says ``fig_dir = None``, which means an interactive run
(JupyterLab, a student's ``quick = True``) writes to ``runs/interactive/figures`` (ignored by
git) and prints where; the committed ``figures/`` are written only by ``make figures``, whose
runner passes ``fig_dir`` explicitly. ``fig_format = "png"`` is the committed default;
``"pdf"`` or ``"svg"`` (or several, ``"png,pdf"``) write 300-dpi vector files for publication. Recorded values are shown in the notebook and embedded in
its output under the MIME type ``application/vnd.eegnb.record+json``, where
:func:`read_records` finds them in an executed notebook (after recommenders'
``store_metadata``/``read_notebook``). Walked through in ``notebooks/00_template``.

Numbers in prose come from the run: the notebook keeps every recorded value in
``nb.records``, and a conclusion is written as a template that only reads them,
``nb.report("Accuracy {test_acc:.2f}; AUC {auc:ci} over subjects; {verdict}.", verdict=...)``,
rendered as Markdown and recorded under ``"report"``. Intervals (``:ci`` or :meth:`Notebook.ci`)
and verdicts (:meth:`Notebook.verdict`) go through :mod:`eegnb.stats` (``mean_ci``, ``format_ci``,
``compare``), so "A beats B" / "not separated" is computed from intervals, never typed.
Hand-written here: the template formatter (``string.Formatter`` with a ``ci`` format spec and
clear errors for missing records); no library renders notebook records into prose.
"""

from __future__ import annotations

import json
import math
import string
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eegnb.utils import get_device, seed_everything

RECORD_MIME = "application/vnd.eegnb.record+json"
FIG_FORMATS = ("png", "pdf", "svg")
INTERACTIVE_FIG_DIR = Path("runs") / "interactive" / "figures"


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "to_dict") and hasattr(v, "columns"):  # DataFrame
        return _jsonable(v.to_dict(orient="index"))
    if hasattr(v, "to_dict"):  # Series
        return _jsonable(v.to_dict())
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and callable(v.item):  # torch scalar
        return v.item()
    return v


def record(key: str, value: Any) -> None:
    """Show ``key = value`` and embed it in the notebook output for tests to read back."""
    from IPython.display import display

    val = _jsonable(value)
    text = json.dumps(val) if not isinstance(val, str) else val
    if len(text) > 300:
        text = text[:300] + " ..."
    display({RECORD_MIME: {key: val}, "text/plain": f"{key} = {text}"}, raw=True)


def _is_ci(v: Any) -> bool:
    return isinstance(v, Mapping) and {"mean", "lo", "hi"} <= set(v)


class _ReportFormatter(string.Formatter):
    """``str.format_map`` semantics plus: ``{x:ci}`` / ``{x:ci.3f}`` renders a ``mean_ci`` dict
    with :func:`eegnb.stats.format_ci`; ``None`` (a NaN recorded as JSON null) renders "n/a";
    a missing record or nested key raises a KeyError that lists what exists."""

    def get_value(self, key, args, kwargs):
        if isinstance(key, int):
            raise KeyError(f"report templates take named fields only, got positional field {{{key}}}")
        if key not in kwargs:
            raise KeyError(
                f"report template names {{{key}}}, which is neither a record nor an extra argument; "
                f"known keys: {sorted(kwargs)}"
            )
        return kwargs[key]

    def get_field(self, field_name, args, kwargs):
        first, rest = _string_split(field_name)
        obj = self.get_value(first, args, kwargs)
        path = str(first)
        for is_attr, k in rest:
            try:
                obj = getattr(obj, k) if is_attr else obj[k]
            except (KeyError, IndexError, TypeError, AttributeError):
                if isinstance(obj, Mapping):
                    known = f"its keys: {sorted(map(str, obj))}"
                elif isinstance(obj, Sequence) and not isinstance(obj, str):
                    known = f"it is a list of {len(obj)}"
                else:
                    known = f"it is a {type(obj).__name__}"
                hint = " (use [key] for dict keys; a key with a dot cannot be named in a template)" if is_attr else ""
                raise KeyError(f"report template field {{{field_name}}}: {path} has no {k!r}; {known}{hint}") from None
            path += f".{k}" if is_attr else f"[{k}]"
        return obj, first

    def format_field(self, value, format_spec):
        if format_spec.startswith("ci"):
            return ci(value, fmt=format_spec[2:] or ".2f")
        if value is None:
            return "n/a"
        return super().format_field(value, format_spec)


def _string_split(field_name: str):
    import _string  # the parser str.format itself uses

    return _string.formatter_field_name_split(field_name)


def ci(value: Any, fmt: str = ".2f") -> str:
    """``"0.81 [0.77, 0.85]"``: a :func:`eegnb.stats.mean_ci` dict through :func:`eegnb.stats.format_ci`.

    ``value`` may also be a list of per-unit numbers (each its own unit, e.g. per-subject AUCs),
    which goes through ``mean_ci`` first. The unit (``value["unit"]``) is not printed: the
    sentence around it says over what the interval runs.
    """
    from eegnb.stats import format_ci, mean_ci

    if _is_ci(value):
        r = {k: (np.nan if value[k] is None else value[k]) for k in ("mean", "lo", "hi")}
        return format_ci(r, fmt)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return format_ci(mean_ci([np.nan if v is None else v for v in value]), fmt)
    raise ValueError(f"ci() expects a mean_ci dict {{mean, lo, hi, ...}} or a list of numbers, got {type(value).__name__}")


def render(template: str, values: Mapping[str, Any]) -> str:
    """``template`` formatted against ``values`` (see :meth:`Notebook.report`)."""
    return _ReportFormatter().vformat(template, (), dict(values))


class ReportText(str):
    """The rendered text of :meth:`Notebook.report`: a plain ``str`` that IPython does not echo a
    second time when the call ends a cell (the report has already been displayed)."""

    def _ipython_display_(self) -> None:
        pass


def read_records(path: str | Path) -> dict[str, Any]:
    """All values recorded by :func:`record` in an executed notebook, by key."""
    nb = json.loads(Path(path).read_text())
    out: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if RECORD_MIME in data:
                out.update(data[RECORD_MIME])
    return out


def use_style() -> None:
    """Apply the workbook's matplotlib style (Agg-safe)."""
    import matplotlib.pyplot as plt

    plt.style.use(str(Path(__file__).parent / "mplstyle" / "eegnb.mplstyle"))


@dataclass
class Notebook:
    """Context of one notebook run: its number, paths, seed, device and size."""

    number: str
    seed: int = 0
    device: str = "cpu"
    fig_dir: Path = INTERACTIVE_FIG_DIR
    fig_format: tuple[str, ...] = ("png",)
    cache_dir: Path | None = Path("../.cache")
    quick: bool = False
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    started: float = field(default_factory=time.time)
    records: dict[str, Any] = field(default_factory=dict)

    def savefig(self, fig, slug: str, **kw) -> Path:
        """Save ``fig`` as ``<fig_dir>/<number>-<slug>.<ext>`` for each of ``fig_format``; return the first path.

        Vector formats (pdf, svg) are written at 300 dpi (the raster parts, e.g. an ``imshow``),
        PNG at the style's dpi unless ``dpi=`` is given.
        """
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for ext in self.fig_format:
            path = self.fig_dir / f"{self.number}-{slug}.{ext}"
            fig.savefig(path, **({"dpi": 300} if ext != "png" else {}) | kw)
            paths.append(path)
        return paths[0]

    def record(self, key: str, value: Any) -> None:
        """Show and embed ``key = value`` (see :func:`record`) and keep it in ``nb.records``.

        ``nb.records[key]`` holds the JSON form the tests read back (DataFrames become
        ``{index: {column: value}}``, arrays lists, NaN ``None``), so a report template reads
        exactly what the tests see.
        """
        self.records[key] = _jsonable(value)
        record(key, value)

    def record_ci(self, key: str, values, units=None, *, unit_name: str = "sample", ci: float = 0.95) -> dict:
        """Record and return :func:`eegnb.stats.mean_ci` of ``values (n,)`` over ``units (n,)``.

        Use it for every number a verdict rests on: e.g. per-subject AUCs with
        ``unit_name="subject"``; the recorded dict (``mean, lo, hi, n_units, n, unit``) feeds
        ``{key:ci}`` in a template and :meth:`verdict`.
        """
        from eegnb.stats import mean_ci

        r = mean_ci(values, units, ci=ci, unit_name=unit_name)
        self.record(key, r)
        return r

    def _lookup(self, x: Any) -> Any:
        if isinstance(x, str):
            if x not in self.records:
                raise KeyError(f"no record {x!r}; known keys: {sorted(self.records)}")
            return self.records[x]
        return x

    def ci(self, key_or_dict: Any, fmt: str = ".2f") -> str:
        """``"0.81 [0.77, 0.85]"`` for a recorded ``mean_ci`` dict (by key) or a dict / list given directly."""
        return ci(self._lookup(key_or_dict), fmt)

    def verdict(self, a: Any, b: Any, *, names: tuple[str, str] = ("A", "B"), higher_is_better: bool = True) -> str:
        """``"A beats B"``, ``"B beats A"`` or ``"not separated"`` from two intervals.

        ``a``, ``b``: record keys or ``mean_ci`` dicts (or lists of per-unit values, each its own
        unit). Delegates to :func:`eegnb.stats.compare`: a difference is called only when the
        intervals do not overlap, and an interval over fewer than two units never separates.
        """
        from eegnb.stats import compare, mean_ci

        def as_ci(x):
            x = self._lookup(x)
            if _is_ci(x):
                return {k: (np.nan if x[k] is None else x[k]) for k in ("lo", "hi")}
            if isinstance(x, Sequence) and not isinstance(x, str):
                return mean_ci([np.nan if v is None else v for v in x])
            raise ValueError(f"verdict() expects record keys, mean_ci dicts or lists of numbers, got {type(x).__name__}")

        return compare(as_ci(a), as_ci(b), higher_is_better=higher_is_better, names=tuple(names))

    def vs_paper(self, x: Any, paper: float, *, fmt: str = ".2f") -> str:
        """Whether this run's interval (record key or ``mean_ci`` dict) contains the paper's value.

        Returns ``"reproduces the paper's 0.91 (inside the interval)"``, ``"does not reproduce
        the paper's 0.91 (interval above it)"`` / ``"... below it"``, or ``"cannot be compared
        with the paper's 0.91 (no interval)"`` with fewer than two units.
        """
        r = self._lookup(x)
        if not _is_ci(r):
            raise ValueError(f"vs_paper() expects a mean_ci dict or its record key, got {type(r).__name__}")
        lo, hi = (np.nan if r[k] is None else float(r[k]) for k in ("lo", "hi"))
        p = f"the paper's {paper:{fmt}}"
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return f"cannot be compared with {p} (no interval)"
        if lo <= paper <= hi:
            return f"reproduces {p} (inside the interval)"
        return f"does not reproduce {p} (interval {'above' if lo > paper else 'below'} it)"

    def report(self, template: str, **extra: Any) -> ReportText:
        """Render a Markdown conclusion from this run's records and return it.

        ``template`` is formatted with ``str.format_map`` semantics against ``nb.records``
        updated by ``extra`` (so ``{auc[gradient]:.2f}`` reads a nested record and
        ``{acc_per_fold[0]}`` a list item), plus ``{key:ci}`` / ``{key:ci.3f}`` for a
        ``mean_ci`` dict (``"0.81 [0.77, 0.85]"``) and "n/a" for a recorded NaN. A field naming
        a missing record raises KeyError listing the known keys. The text is displayed as
        Markdown (with a text/plain twin) and recorded: ``nb.records["report"]`` is the list of
        every report of the run, in order, and the tests read it back like any record.
        Returns the text (a ``str``; not echoed again when the call ends a cell).
        """
        from IPython.display import display

        text = render(template.strip("\n"), {**self.records, **extra})
        self.records["report"] = self.records.get("report", []) + [text]
        display(
            {"text/markdown": text, "text/plain": text, RECORD_MIME: {"report": self.records["report"]}},
            raw=True,
        )
        return ReportText(text)

    def elapsed(self) -> float:
        """Seconds since :func:`setup`."""
        return time.time() - self.started


def setup(
    number: str,
    *,
    seed: int = 0,
    device: str = "auto",
    fig_dir: str | Path | None = None,
    cache_dir: str | Path | None = "../.cache",
    quick: bool = False,
    fig_format: str | Sequence[str] = "png",
) -> Notebook:
    """Seed everything, set the plot style and return the notebook's :class:`Notebook`.

    ``fig_dir=None`` (the parameters cell's default): an interactive run, whose figures go to
    ``runs/interactive/figures`` of the workbook (found from the working directory), printed
    once; ``make figures`` passes ``figures/`` explicitly. ``fig_format``: ``"png"`` (default),
    ``"pdf"``, ``"svg"`` or several, comma separated or as a list.
    """
    formats = parse_fig_format(fig_format)
    if fig_dir in (None, ""):
        fig_dir = interactive_fig_dir()
        print(f"fig_dir is None (interactive run): figures go to {fig_dir}")
    rng = seed_everything(seed)
    use_style()
    try:
        import torch

        torch.use_deterministic_algorithms(False)
    except Exception:  # pragma: no cover
        pass
    dev = str(get_device(device))
    return Notebook(
        number=str(number),
        seed=seed,
        device=dev,
        fig_dir=Path(fig_dir),
        fig_format=formats,
        cache_dir=None if cache_dir in (None, "") else Path(cache_dir),
        quick=bool(quick),
        rng=rng,
    )


def parse_fig_format(fig_format: str | Sequence[str]) -> tuple[str, ...]:
    """``"png"`` / ``"png,pdf"`` / ``["svg"]`` -> ``("png",)`` / ``("png", "pdf")`` / ``("svg",)``."""
    items = fig_format.split(",") if isinstance(fig_format, str) else list(fig_format)
    out = tuple(dict.fromkeys(str(x).strip().lower().lstrip(".") for x in items if str(x).strip()))
    bad = [x for x in out if x not in FIG_FORMATS]
    if bad or not out:
        raise ValueError(f"fig_format must name one or more of {FIG_FORMATS} (comma separated), got {fig_format!r}")
    return out


def interactive_fig_dir(cwd: str | Path | None = None) -> Path:
    """``<workbook>/runs/interactive/figures``: the workbook is the nearest folder at or above
    ``cwd`` holding both ``notebooks/`` and ``eegnb/`` (else ``cwd`` itself)."""
    here = Path(cwd or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "notebooks").is_dir() and (d / "eegnb").is_dir():
            return d / INTERACTIVE_FIG_DIR
    return here / INTERACTIVE_FIG_DIR
