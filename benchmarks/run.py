"""Speed and scale benchmark of the workbook's explainers: ``python -m benchmarks.run [--quick]``.

Everything is measured in one run, so the ratios hold on a noisy machine (each time is the
best of ``--repeats`` runs; peak memory from :func:`eegnb.metrics.cost.measure_cost`):

1. ``masks``: context mask and frequency mask on EEGNet / TSception / DeepConvNet at DEAP
   (32 x 512 @ 128 Hz) and SEED (62 x 400 @ 200 Hz) sizes: seconds per sample batched vs one
   at a time, and the ratio to the limit (the model's own forward+backward time per sample at
   its best batch size x the epochs actually run).
2. ``early_stopping``: mean epochs run with early stopping vs the paper's fixed budget, and the
   change in localisation AUC (:func:`eegnb.metrics.localisation_auc`, simulated truth) on a
   trained EEGNet.
3. ``easypeasi``: perturbed forward passes per second vs the model's inference throughput.
4. ``lrp``: LRP rules (relay hooks, and zennit's stock hooks for reference) and DFT-LRP per
   sample vs one gradient pass.
5. peak memory: a column of every table.
6. ``workbook``: per-notebook wall times written by ``python -m eegnb.figures`` to
   ``runs/{quick,default}/timings.json`` (or ``--timings``).

Explainer keywords the engine does not know yet (``early_stopping`` before the per-sample
stopping engine lands) are dropped and the full epoch budget is assumed, as the table says.
Not part of the test run (``tests/test_speed_benchmarks.py`` runs a tiny smoke version).
"""

# ruff: noqa: B023  (every closure below is called within the loop iteration that made it)
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``python benchmarks/run.py`` from anywhere
    sys.path.insert(0, str(ROOT))

from eegnb.explain import explain  # noqa: E402
from eegnb.metrics.cost import measure_cost  # noqa: E402
from eegnb.models import build  # noqa: E402
from eegnb.utils import get_device  # noqa: E402

SIZES = {"deap": (32, 512, 128.0), "seed": (62, 400, 200.0)}
MODELS = ("eegnet", "tsception", "deepconvnet")
#: model keywords per size, as the paper-2 experiments (DeepConvNet's default temporal kernel
#: needs 2.21 s at 200 Hz; SEED segments are 2 s)
MODEL_KW = {"seed": {"deepconvnet": {"kernel_length": 5}}}
PAPER_BUDGET = {"context_mask": 200, "frequency_mask": 300}  # paper 1: fixed 200; paper 2: 300 (patience 10)


# --------------------------------------------------------------------------- machine
def device_info(dev: torch.device) -> dict:
    """CPU model (``/proc/cpuinfo``), cores, torch version and threads; GPU name when used."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "cpu model", "hardware")):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(cpu=cpu or platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
                torch_threads=torch.get_num_threads(), device=str(dev), python=platform.python_version(),
                load_avg=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


def fixed_mmap_threshold(nbytes: int = 1 << 16) -> bool:
    """glibc: serve every allocation above ``nbytes`` by mmap, returned to the OS when freed.

    Without this, glibc's dynamic threshold keeps freed tensor memory in the heap, the resident
    set stops growing after the first configuration and CPU peak memory reads as 0 MB.
    """
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(-3, int(nbytes)))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        return False


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def best(fn, n_samples: int, dev, repeats: int) -> dict:
    """``measure_cost`` ``repeats`` times: the fastest run's seconds, the largest peak, last result."""
    runs = [measure_cost(fn, n_samples, device=dev, keep_result=True) for _ in range(max(1, repeats))]
    fastest = min(runs, key=lambda r: r["seconds"])
    return dict(seconds_per_sample=fastest["seconds_per_sample"], peak_mb=max(r["peak_mb"] for r in runs),
                result=runs[-1]["result"])


def _explain(method, model, X, dev, **kw):
    """``explain(..., return_info=True)``; keywords the installed engine refuses are dropped
    (returned in ``info["dropped"]``)."""
    dropped = []
    while True:
        try:
            maps, info = explain(method, model, X, device=dev, return_info=True, **kw)
            info = dict(info, dropped=dropped)
            return maps, info
        except (TypeError, ValueError) as e:  # unknown keyword: TypeError or the method's ValueError
            bad = next((k for k in ("early_stopping", "tol") if k in kw and repr(k) in str(e) or
                        k in kw and f"'{k}'" in str(e)), None)
            if bad is None:
                raise
            dropped.append(bad)
            kw = {k: v for k, v in kw.items() if k != bad}


def epochs_run(info: dict, n: int, budget: int) -> tuple[np.ndarray, bool]:
    """Per-sample epochs from ``info["epochs_run"]``, else the full budget (``False``: assumed)."""
    e = info.get("epochs_run")
    if e is None:
        return np.full(n, float(budget)), False
    e = np.asarray(e, float).reshape(-1)
    return (np.full(n, float(e[0])) if e.size == 1 else e), True


def fwd_bwd_limit(model, X: torch.Tensor, dev, batches, repeats: int) -> dict:
    """Seconds per sample of one forward + input-gradient backward (frozen model), per batch size."""
    from eegnb.explain.registry import frozen

    per = {}
    with frozen(model):
        for b in batches:
            xb = X[:b].to(dev) if b <= len(X) else X[:1].to(dev).repeat(b, 1, 1)

            def one(xb=xb):
                x = xb.clone().requires_grad_(True)
                out = model(x)
                torch.autograd.grad(out.logsumexp(1).sum(), x)
                _sync(dev)

            one()  # warm-up (allocator, kernels)
            per[b] = best(one, b, dev, repeats)["seconds_per_sample"]
    b_best = min(per, key=per.get)
    return dict(per_batch=per, best_batch=b_best, seconds_per_sample=per[b_best])


# --------------------------------------------------------------------------- sections
def bench_masks(dev, *, n: int, epochs: int, batches, repeats: int, models=MODELS, sizes=SIZES) -> list[dict]:
    rows = []
    for size, (ch, t, sfreq) in sizes.items():
        g = torch.Generator().manual_seed(0)
        X = torch.randn(max(n, 1), ch, t, generator=g)
        for name in models:
            model = build(name, ch, t, 2, sfreq=sfreq, seed=0, **MODEL_KW.get(size, {}).get(name, {})).to(dev).eval()
            lim = fwd_bwd_limit(model, X, dev, batches, repeats)
            for method in ("context_mask", "frequency_mask"):
                # re-measured next to each method, the least contended (fastest) measurement kept
                again = fwd_bwd_limit(model, X, dev, [lim["best_batch"]], repeats)
                if again["seconds_per_sample"] < lim["seconds_per_sample"]:
                    lim = dict(lim, seconds_per_sample=again["seconds_per_sample"])
                kw = dict(epochs=epochs, early_stopping=False)
                if method == "frequency_mask":
                    # a patience beyond the budget: the fixed budget also on an engine without early_stopping=
                    kw.update(sfreq=sfreq, patience=epochs + 1)
                else:
                    kw.update(progress=False)
                res_b = best(lambda kw=kw: _explain(method, model, X[:n], dev, **kw), n, dev, repeats)
                single = [best(lambda i=i, kw=kw: _explain(method, model, X[i : i + 1], dev, **kw), 1, dev, 1)
                          for i in range(n)]
                info = res_b["result"][1]
                ep, known = epochs_run(info, n, epochs)
                s_b = res_b["seconds_per_sample"]
                s_1 = float(np.mean([r["seconds_per_sample"] for r in single]))
                limit = lim["seconds_per_sample"] * float(ep.mean())
                rows.append(dict(size=size, model=name, method=method, n=n, epochs_budget=epochs,
                                 mean_epochs=float(ep.mean()), epochs_reported=known,
                                 s_per_sample_batched=s_b, s_per_sample_single=s_1, batched_speedup=s_1 / s_b,
                                 fwd_bwd_s_per_sample=lim["seconds_per_sample"], fwd_bwd_best_batch=lim["best_batch"],
                                 ratio_to_limit=s_b / limit, ratio_to_limit_single=s_1 / limit,
                                 peak_mb=res_b["peak_mb"], dropped=",".join(info.get("dropped", []))))
    return rows


def _trained(quick: bool, dev, cache_dir):
    from eegnb.data import simulate
    from eegnb.train import train_model, within_subject_kfold

    data = simulate("deap", n_subjects=1, seed=0, quick=True).by_subject(1)
    split = within_subject_kfold(data, k=5, seed=0)[0]
    model = train_model("eegnet", data, split, seed=0, device=dev, cache_dir=cache_dir, progress=False,
                        epochs=10 if quick else 40)
    return model, data


def bench_early_stopping(dev, *, n: int, budgets: dict, repeats: int, cache_dir) -> list[dict]:
    from eegnb.explain.bands import band_edges
    from eegnb.metrics import localisation_auc
    from eegnb.metrics.localisation import band_localisation_truth

    model, data = _trained(budgets["context_mask"] < 100, dev, cache_dir)
    # the first n segments of the subject (the comparison is early stopping vs the fixed budget
    # on the same maps' truth, so training segments serve as well as held-out ones)
    test = data[np.arange(min(n, len(data)))]
    X = test.X
    n = len(X)
    rows = []
    for method, budget in budgets.items():
        extra = dict(progress=False) if method == "context_mask" else dict(sfreq=test.sfreq)
        out = {}
        for es in (False, True):
            kw = dict(extra, epochs=budget, early_stopping=es)
            if method == "frequency_mask" and not es:
                kw["patience"] = budget + 1  # the fixed budget whatever the engine
            r = best(lambda kw=kw: _explain(method, model, X, dev, **kw), n, dev, repeats)
            maps, info = r["result"]
            if method == "context_mask":
                auc = localisation_auc(maps, test.truth[:n])
            else:
                edges = info.get("band_edges", band_edges(test.sfreq, 10))
                auc = localisation_auc(maps, band_localisation_truth(test.truth_freq, test.sfreq, X.shape[-1], edges)
                                       * np.ones((n, 1, 1)))
            ep, known = epochs_run(info, n, budget)
            out[es] = dict(auc=float(np.nanmean(auc)), epochs=float(ep.mean()), known=known,
                           s=r["seconds_per_sample"], peak=r["peak_mb"], dropped=info.get("dropped", []))
        on, off = out[True], out[False]
        rows.append(dict(method=method, n=n, paper_budget=budget, mean_epochs_fixed=off["epochs"],
                         mean_epochs_early=on["epochs"], epochs_fraction=on["epochs"] / budget,
                         epochs_reported=on["known"] and not on["dropped"],
                         auc_fixed=off["auc"], auc_early=on["auc"], auc_change=on["auc"] - off["auc"],
                         s_per_sample_fixed=off["s"], s_per_sample_early=on["s"],
                         peak_mb=max(on["peak"], off["peak"]), dropped=",".join(on["dropped"])))
    return rows


def bench_easypeasi(dev, *, n: int, repeats: int, models=MODELS) -> list[dict]:
    from eegnb.explain.easypeasi import easypeasi_scores
    from eegnb.explain.registry import frozen

    rows = []
    ch, t, sfreq = SIZES["deap"]
    X = torch.randn(n, ch, t, generator=torch.Generator().manual_seed(1))
    for name in models:
        model = build(name, ch, t, 2, sfreq=sfreq, seed=0).to(dev).eval()
        with frozen(model):
            r = best(lambda: easypeasi_scores(model, X.to(dev), sfreq=sfreq), n, dev, repeats)
            n_fwd = int(r["result"].n_forward)
            xb = X[:1].to(dev).repeat(512, 1, 1)

            def infer():
                with torch.no_grad():
                    model(xb)
                _sync(dev)

            infer()
            inf = best(infer, 512, dev, repeats)
        pps = n_fwd / (r["seconds_per_sample"] * n)
        thr = 1.0 / inf["seconds_per_sample"]
        rows.append(dict(model=name, n=n, n_forward=n_fwd, perturbed_per_s=pps, inference_per_s=thr,
                         ratio_to_inference=thr / pps, s_per_sample=r["seconds_per_sample"], peak_mb=r["peak_mb"]))
    return rows


def bench_lrp(dev, *, n: int, repeats: int, models=MODELS) -> list[dict]:
    from eegnb.explain import lrp
    from eegnb.explain.registry import frozen

    rows = []
    ch, t, sfreq = SIZES["deap"]
    X = torch.randn(n, ch, t, generator=torch.Generator().manual_seed(2))
    for name in models:
        model = build(name, ch, t, 2, sfreq=sfreq, seed=0).to(dev).eval()
        grad = best(lambda: explain("gradient", model, X, device=dev), n, dev, repeats)

        def stock(rule="epsilon"):
            with frozen(model):
                xd = X.to(dev)
                return lrp.lrp_relevance(model, xd, None, lrp.make_composite(rule, model=model, example=xd[:1]))

        cases = [("lrp_epsilon (zennit stock hooks)", stock)]
        cases += [(m, lambda m=m: explain(m, model, X, device=dev)) for m in
                  ("lrp_epsilon", "lrp_alphabeta", "lrp_epsilon_plus", "lrp_epsilon_alpha2_beta1")]
        cases += [("dft_lrp", lambda: explain("dft_lrp", model, X, device=dev, sfreq=sfreq))]
        rows.append(dict(model=name, method="gradient", n=n, s_per_sample=grad["seconds_per_sample"], ratio_to_gradient=1.0,
                         peak_mb=grad["peak_mb"]))
        for label, fn in cases:
            fn()  # warm-up
            r = best(fn, n, dev, repeats)
            rows.append(dict(model=name, method=label, n=n, s_per_sample=r["seconds_per_sample"],
                             ratio_to_gradient=r["seconds_per_sample"] / grad["seconds_per_sample"], peak_mb=r["peak_mb"]))
    return rows


def bench_workbook(paths) -> list[dict]:
    rows = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            rows.append(dict(file=str(p), notebook="(not recorded)", seconds=None))
            continue
        rec = json.loads(p.read_text())
        for nb, s in sorted(rec.get("notebooks", {}).items()):
            rows.append(dict(file=str(p), size=rec.get("size"), notebook=nb, seconds=s))
        rows.append(dict(file=str(p), size=rec.get("size"), notebook="TOTAL (sum)", seconds=rec.get("total_s"),
                         wall_s=rec.get("wall_s"), jobs=rec.get("jobs"), date=rec.get("date")))
    return rows


# --------------------------------------------------------------------------- output
def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if not np.isfinite(v):
            return "nan"
        a = abs(v)
        return f"{v:.3g}" if (a >= 100 or a < 0.01) and a != 0 else f"{v:.3f}"
    return str(v)


def table(title: str, rows: list[dict], cols: list[str]) -> str:
    if not rows:
        return f"\n## {title}\n(no rows)\n"
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    w = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = [f"\n## {title}", " | ".join(c.ljust(w[i]) for i, c in enumerate(cols)),
             "-|-".join("-" * x for x in w)]
    lines += [" | ".join(x[i].ljust(w[i]) for i in range(len(cols))) for x in cells]
    return "\n".join(lines)


def run(*, quick: bool = False, tiny: bool = False, out: str | None = None, device=None, repeats: int | None = None,
        sections=("masks", "early_stopping", "easypeasi", "lrp", "workbook"), timings=None,
        cache_dir: str | None = str(ROOT / ".cache")) -> dict:
    """Run the suite; returns ``{"device", "settings", <section>: rows}`` and writes JSON to ``out``."""
    dev = get_device(device)
    mmap_fixed = fixed_mmap_threshold()
    warnings.filterwarnings("ignore", message=".*no reference=.*")  # frequency_mask without target alignment
    if tiny:  # the smoke test's size: seconds, not minutes
        s = dict(n=2, epochs=2, batches=(1, 2), budgets={"context_mask": 4, "frequency_mask": 4}, n_es=2, n_lrp=2,
                 n_ep=1, repeats=1, models=("eegnet",), sizes={"deap": SIZES["deap"]})
    elif quick:
        s = dict(n=4, epochs=10, batches=(1, 4, 16), budgets={"context_mask": 40, "frequency_mask": 60}, n_es=4,
                 n_lrp=8, n_ep=2, repeats=2, models=MODELS, sizes=SIZES)
    else:
        s = dict(n=8, epochs=30, batches=(1, 8, 32, 128), budgets=dict(PAPER_BUDGET), n_es=12, n_lrp=32, n_ep=4,
                 repeats=2, models=MODELS, sizes=SIZES)
    if repeats is not None:
        s["repeats"] = int(repeats)
    res = dict(device=dict(device_info(dev), cpu_peak_memory="rss growth, mmap threshold fixed" if mmap_fixed
                           else "rss growth (allocator may hide reuse)"), settings={k: (v if not isinstance(v, dict) or k != "sizes" else list(v))
                                                  for k, v in s.items()})
    t0 = time.perf_counter()
    torch.manual_seed(0)
    if "masks" in sections:
        res["masks"] = bench_masks(dev, n=s["n"], epochs=s["epochs"], batches=s["batches"], repeats=s["repeats"],
                                   models=s["models"], sizes=s["sizes"])
    _save(res, out)
    if "early_stopping" in sections:
        res["early_stopping"] = bench_early_stopping(dev, n=s["n_es"], budgets=s["budgets"], repeats=1,
                                                     cache_dir=cache_dir)
    _save(res, out)
    if "easypeasi" in sections:
        res["easypeasi"] = bench_easypeasi(dev, n=s["n_ep"], repeats=s["repeats"], models=s["models"])
    _save(res, out)
    if "lrp" in sections:
        res["lrp"] = bench_lrp(dev, n=s["n_lrp"], repeats=s["repeats"], models=s["models"])
    if "workbook" in sections:
        paths = timings or [ROOT / "runs" / "quick" / "timings.json", ROOT / "runs" / "default" / "timings.json"]
        res["workbook"] = bench_workbook(paths)
    res["seconds"] = time.perf_counter() - t0
    _save(res, out)
    return res


def _save(res: dict, out) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(res, indent=1, default=float))


def report(res: dict) -> str:
    d = res["device"]
    head = (f"# eegnb speed benchmark, {d['date']}\ndevice: {d['device']}" + (f" ({d['gpu']})" if "gpu" in d else "")
            + f"; CPU: {d['cpu']}, {d['cores']} cores; torch {d['torch']} ({d['torch_threads']} threads); "
            f"load average at start {_fmt(d['load_avg'])}; suite time {res.get('seconds', 0):.0f} s")
    parts = [head]
    if "masks" in res:
        parts.append(table("1. mask optimisers: seconds/sample, batched vs one at a time; ratio to forward+backward x epochs",
                           res["masks"], ["size", "model", "method", "n", "mean_epochs", "epochs_reported",
                                          "s_per_sample_batched", "s_per_sample_single", "batched_speedup",
                                          "fwd_bwd_s_per_sample", "fwd_bwd_best_batch", "ratio_to_limit", "peak_mb"]))
    if "early_stopping" in res:
        parts.append(table("2. early stopping vs the paper's budget (trained EEGNet, simulated DEAP)",
                           res["early_stopping"], ["method", "n", "paper_budget", "mean_epochs_early",
                                                   "epochs_fraction", "epochs_reported", "auc_fixed", "auc_early",
                                                   "auc_change", "s_per_sample_fixed", "s_per_sample_early",
                                                   "peak_mb", "dropped"]))
    if "easypeasi" in res:
        parts.append(table("3. easyPEASI: perturbed forward passes/s vs inference throughput (DEAP size)",
                           res["easypeasi"], ["model", "n", "n_forward", "perturbed_per_s", "inference_per_s",
                                              "ratio_to_inference", "peak_mb"]))
    if "lrp" in res:
        parts.append(table("4. LRP and DFT-LRP per sample vs one gradient pass (DEAP size)", res["lrp"],
                           ["model", "method", "n", "s_per_sample", "ratio_to_gradient", "peak_mb"]))
    if "workbook" in res:
        parts.append(table("6. whole-workbook regeneration (python -m eegnb.figures timings)", res["workbook"],
                           ["file", "notebook", "seconds", "wall_s", "jobs", "date"]))
    return "\n".join(parts) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 2-3 minutes on 2 CPU cores)")
    ap.add_argument("--tiny", action="store_true", help="smoke-test sizes (seconds)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    ap.add_argument("--device", default=None, help="cpu / cuda (default: CUDA when available)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--only", default=None, help="sections, comma separated: masks,early_stopping,easypeasi,lrp,workbook")
    ap.add_argument("--timings", nargs="*", default=None, help="timings.json files of eegnb.figures runs")
    a = ap.parse_args(argv)
    sections = tuple(a.only.split(",")) if a.only else ("masks", "early_stopping", "easypeasi", "lrp", "workbook")
    res = run(quick=a.quick, tiny=a.tiny, out=a.out, device=a.device, repeats=a.repeats, sections=sections,
              timings=a.timings)
    print(report(res))
    print(f"JSON: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
