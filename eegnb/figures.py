"""Regenerate every figure headlessly: ``python -m eegnb.figures [--quick] [--only PATTERN] [--jobs N]``.

Discovers ``notebooks/*.ipynb`` (sorted by number), runs each through papermill with the shared
parameter names (``dataset``, ``data_dir``, ``quick``, ``seed``, ``device``, ``cache_dir``,
``fig_dir``, and ``fig_format`` when ``--fig-format`` is given; ``--param KEY=VALUE`` for
any other), writes the executed copies to a run folder, keeps going when one fails, prints
which notebook and which cell failed, and exits non-zero if any did. Per-notebook wall times go
to ``<run-dir>/timings.json`` (``{"size", "jobs", "notebooks": {name: s}, "total_s", "wall_s",
"date", "failed"}``), which ``benchmarks/run.py`` reports.

Default size writes the committed figures into ``figures/``; ``--quick`` (the CI size) writes
into ``runs/quick/figures`` unless ``--fig-dir`` says otherwise, so a quick run never overwrites
the committed default-size figures. ``fig_dir`` is always passed explicitly: a notebook's own
default (``fig_dir = None``) means an interactive run (``runs/interactive/figures``).
``--fig-format pdf`` (or ``png,pdf``, ``svg``) also writes 300-dpi vector files for publication.
Kernels started here run with ``EEGNB_PROGRESS=off`` (see :mod:`eegnb.progress`), so executed
copies hold no progress-bar output.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def discover(notebook_dir: Path, only: str | None = None) -> list[Path]:
    """Notebooks ``NN_*.ipynb`` in ``notebook_dir``, sorted, filtered by glob ``only`` (e.g. ``"1*"``)."""
    nbs = sorted(p for p in notebook_dir.glob("*.ipynb") if p.name[:2].isdigit())
    if only:
        pats = only.split(",")
        nbs = [p for p in nbs if any(fnmatch.fnmatch(p.name, x) or fnmatch.fnmatch(p.stem, x) or p.name.startswith(x) for x in pats)]
    return nbs


def execute_notebook(src: Path | str, out: Path | str, params: dict, *, timeout: int | None = None) -> str | None:
    """Run ``src`` with papermill into ``out``; ``None`` on success, else a one-line error naming the cell."""
    import papermill as pm

    src, out = Path(src), Path(out)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("EEGNB_PROGRESS", "off")  # inherited by the kernel: a batch run
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            str(src),
            str(out),
            parameters=params,
            cwd=str(src.parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
        )
    except pm.PapermillExecutionError as e:
        return f"cell {e.exec_count} (index {e.cell_index}): {e.ename}: {str(e.evalue)[:400]}"
    except Exception as e:  # kernel died, bad JSON, missing parameters cell...
        return f"{type(e).__name__}: {str(e)[:400]}"
    return None


def parse_params(items: list[str]) -> dict:
    """``["task=auditory", "seed=3"]`` -> ``{"task": "auditory", "seed": 3}`` (literals parsed)."""
    import ast

    out = {}
    for it in items:
        key, sep, val = it.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--param takes KEY=VALUE with KEY a parameter name, got {it!r}")
        try:
            out[key] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            out[key] = val
    return out


def write_timings(path: Path, times: dict[str, float], *, size: str, jobs: int, wall_s: float,
                  failed: list[str]) -> dict:
    """Write per-notebook wall times (s) to ``path`` as JSON; merged into an existing file of the
    same size, so ``--only`` reruns update their notebooks' entries and keep the others."""
    old = {}
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = {}
    nbs = dict(old.get("notebooks", {})) if old.get("size") == size else {}
    nbs.update({k: round(float(v), 1) for k, v in times.items()})
    rec = dict(size=size, jobs=int(jobs), notebooks=dict(sorted(nbs.items())), total_s=round(sum(nbs.values()), 1),
               wall_s=round(float(wall_s), 1), date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               failed=list(failed), cpu_count=os.cpu_count())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=1))
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eegnb.figures", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI size (about 2 minutes or less per notebook)")
    ap.add_argument("--only", default=None, help="glob(s) of notebooks to run, comma separated, e.g. '1*,40_*'")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks run at once (each uses all cores it can)")
    ap.add_argument("--notebooks", default=str(ROOT / "notebooks"))
    ap.add_argument("--fig-dir", default=None, help="default: figures/ (default size) or runs/quick/figures (--quick)")
    ap.add_argument("--fig-format", default=None, help="png (default), pdf, svg, or several comma separated, e.g. 'png,pdf'")
    ap.add_argument("--run-dir", default=None, help="executed notebooks; default runs/default or runs/quick")
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache"))
    ap.add_argument("--dataset", default=None, help="e.g. 'sim' (default of each notebook) or a real dataset name")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="any other notebook parameter, e.g. task=auditory (VALUE read as a Python literal "
                         "when it is one, else as a string); repeatable")
    a = ap.parse_args(argv)

    if a.jobs > 1:
        # each kernel's torch/OpenMP pool would otherwise claim every core: two notebooks on two
        # cores then ran a training epoch 12x slower than one notebook alone (measured)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, str(max(1, (os.cpu_count() or 1) // a.jobs)))
    size = "quick" if a.quick else "default"
    fig_dir = Path(a.fig_dir) if a.fig_dir else (ROOT / "runs" / "quick" / "figures" if a.quick else ROOT / "figures")
    run_dir = Path(a.run_dir) if a.run_dir else ROOT / "runs" / size
    params = dict(quick=a.quick, fig_dir=str(fig_dir.resolve()), cache_dir=str(Path(a.cache_dir).resolve()))
    if a.fig_format:
        from eegnb.notebook import parse_fig_format

        params["fig_format"] = ",".join(parse_fig_format(a.fig_format))  # fail before any run
    for k in ("dataset", "data_dir", "seed", "device"):
        v = getattr(a, k)
        if v is not None:
            params[k] = str(Path(v).resolve()) if k == "data_dir" else v
    params.update(parse_params(a.param))
    nbs = discover(Path(a.notebooks), a.only)
    if not nbs:
        print(f"no notebooks match {a.only!r} in {a.notebooks}", file=sys.stderr)
        return 2
    from eegnb.progress import tqdm

    print(f"running {len(nbs)} notebook(s), {size} size -> figures in {fig_dir}, executed copies in {run_dir}")
    failures: dict[str, str] = {}
    times: dict[str, float] = {}

    def one(p: Path):
        t0 = time.time()
        err = execute_notebook(p, run_dir / p.name, params, timeout=a.timeout)
        return p, err, time.time() - t0

    t_start = time.time()
    bar = tqdm(total=len(nbs), desc="notebooks", unit="nb")
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = [ex.submit(one, p) for p in nbs]
        for f in as_completed(futs):
            p, err, dt = f.result()
            times[p.name] = dt
            status = "ok" if err is None else "FAILED"
            bar.write(f"{status:6s} {p.name} ({dt:.0f} s)" + ("" if err is None else f"\n       {err}"))
            if err is not None:
                failures[p.name] = err
            bar.update(1)
    bar.close()
    total = sum(times.values())
    write_timings(run_dir / "timings.json", times, size=size, jobs=a.jobs, wall_s=time.time() - t_start,
                  failed=sorted(failures))
    print(f"\n{len(nbs) - len(failures)} ok, {len(failures)} failed; {total:.0f} s of notebook time")
    for name, err in failures.items():
        print(f"  {name}: {err}  (executed copy: {run_dir / name})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
