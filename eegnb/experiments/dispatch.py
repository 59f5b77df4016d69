"""Paper-scale sweeps on more than one core or machine: per-subject jobs through Dask.

:func:`run_jobs` runs ``fn(**job)`` for every job of a list through ``dask.distributed`` and
keeps each result in the content-keyed cache (:func:`eegnb.utils.cached`), which is the result
store: a job whose entry exists is read back and never submitted, so a rerun (or a sweep that
lost a worker, a node or the whole client) recomputes only what is missing. Where the jobs run:

- ``client=None``: a ``LocalCluster`` on this machine (``n_workers`` processes, one thread
  each, so torch does not oversubscribe the cores);
- ``client="tcp://host:8786"``: an existing scheduler (``dask scheduler`` / ``dask worker``);
- ``client="slurm"``: a ``dask_jobqueue.SLURMCluster`` (``pip install eegnb[cluster]``),
  ``cluster_kw`` passed to it (``cores``, ``memory``, ``walltime``, ``queue``, ...), scaled to
  ``n_workers`` jobs;
- a ``distributed.Client``: used as it is (not closed); ``client="serial"``: in this process,
  no Dask (the reference the Dask path must equal).

Failures: ``retries`` re-runs a job whose function raised; a job on a worker that dies is
rescheduled by the scheduler (``distributed.scheduler.allowed-failures``). Nothing here
schedules: Dask does. The cache must be on a file system the workers share for a rerun to find
their entries; the client also writes every entry it receives that it cannot see yet, so a
cluster without a shared file system still leaves the results in the client's cache.

Used as ``run_jobs(train_and_explain, [dict(subject=s, model=m, ...) for ...], cache_dir=...,
kind="sweep")``; :func:`train_and_explain` is the per-subject unit (simulate a subject, train
a within-subject model, explain its held-out segments, score against the planted truth).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from eegnb.utils import atomic_write_bytes, cache_entry_path, cached, dumps_safe

__all__ = ["run_jobs", "make_client", "train_and_explain", "example_job"]


def _compute(fn: Callable, job: dict) -> Callable[[], Any]:
    return partial(fn, **job)


def _run_cached(cache_dir, kind: str, key, fn: Callable, job: dict):
    """The task a worker runs: the cached call (computes and writes the entry when missing)."""
    return cached(cache_dir, kind, key, _compute(fn, job))


@contextmanager
def make_client(client=None, *, n_workers: int | None = None, threads_per_worker: int = 1,
                processes: bool = True, **cluster_kw):
    """Yield a ``distributed.Client`` for ``client`` (see the module docstring); closes what it opened."""
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        yield client
        return
    if client is None or client == "local":
        n = n_workers or max(1, (os.cpu_count() or 1))
        cluster = LocalCluster(n_workers=n, threads_per_worker=threads_per_worker, processes=processes,
                               dashboard_address=None, **cluster_kw)
    elif client == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError as e:  # pragma: no cover - optional extra
            raise ImportError("client='slurm' needs dask-jobqueue: pip install 'eegnb[cluster]'") from e
        cluster = SLURMCluster(**cluster_kw)
        cluster.scale(jobs=n_workers or 1)
    elif isinstance(client, str):
        with Client(client) as c:
            yield c
        return
    else:
        raise ValueError(f"client must be None, 'local', 'serial', 'slurm', a scheduler address or a "
                         f"distributed.Client; got {client!r}")
    try:
        with Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def run_jobs(fn: Callable[..., Any], jobs: Sequence[dict], *, cache_dir, kind: str,
             key: Callable[[dict], Any] | None = None, client=None, n_workers: int | None = None,
             retries: int = 2, progress: bool = True, **cluster_kw) -> list:
    """``[fn(**job) for job in jobs]``, each through the cache, the missing ones run by Dask.

    fn: a module-level function (workers import it by name). jobs: keyword dicts. cache_dir:
    the result store (required: without it a rerun could not skip anything). kind: the cache
    folder. key: ``job -> cache key`` (default the job itself); it must hold every input that
    changes the result; the code version of ``fn``'s module is added by the cache. client,
    n_workers, cluster_kw: where to run (module docstring). retries: re-runs of a job whose
    function raised. Returns the results in job order; ``run_jobs.last`` holds
    ``{"submitted", "from_cache", "seconds"}`` of the latest call.
    """
    if cache_dir is None:
        raise ValueError("run_jobs needs cache_dir: the cache is the result store that makes reruns cheap")
    if not callable(fn) or getattr(fn, "__name__", "<lambda>") == "<lambda>":
        raise ValueError("fn must be a named module-level function (workers import it by name)")
    jobs = [dict(j) for j in jobs]
    keys = [j if key is None else key(j) for j in jobs]
    paths = [cache_entry_path(cache_dir, kind, k, _compute(fn, j)) for k, j in zip(keys, jobs)]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    t0 = time.perf_counter()
    results: list = [None] * len(jobs)
    if todo and client == "serial":
        for i in todo:
            results[i] = _run_cached(cache_dir, kind, keys[i], fn, jobs[i])
    elif todo:
        from distributed import as_completed

        from eegnb.progress import tqdm

        with make_client(client, n_workers=n_workers, **cluster_kw) as c:
            futs = {c.submit(_run_cached, cache_dir, kind, keys[i], fn, jobs[i], retries=retries, pure=False,
                             key=f"{kind}-{paths[i].stem[:16]}-{i}"): i for i in todo}
            with tqdm(total=len(futs), desc=f"{kind} jobs", disable=not progress) as bar:
                for fut in as_completed(futs):
                    i = futs[fut]
                    results[i] = fut.result()
                    if not paths[i].exists():  # no shared file system: keep it in the client's cache
                        atomic_write_bytes(paths[i], dumps_safe(results[i]))
                    bar.update(1)
    for i in sorted(set(range(len(jobs))) - set(todo)):
        results[i] = cached(cache_dir, kind, keys[i], _compute(fn, jobs[i]))
    run_jobs.last = dict(submitted=len(todo), from_cache=len(jobs) - len(todo),
                         seconds=time.perf_counter() - t0)
    return results


run_jobs.last = {}


@contextmanager
def _threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def example_job(subject: int, seed: int = 0, steps: int = 20, sleep: float = 0.0,
                counter_dir: str | None = None, fail_once_dir: str | None = None) -> dict:
    """A train-and-explain job in miniature (tests, docs): a logistic model on one subject's
    random ``(40, 4, 16)`` data, trained ``steps`` Adam steps, explained by its input gradient.

    ``counter_dir``: a file per computation lands there (to count computations across
    processes); ``fail_once_dir``: the first call per subject raises (to exercise ``retries``);
    ``sleep``: seconds of extra work (to kill a worker mid-sweep). Returns ``{"subject",
    "weights" (4, 16), "saliency" (40, 4, 16), "train_acc"}``.
    """
    import torch

    if fail_once_dir is not None:
        flag = os.path.join(fail_once_dir, f"failed-{subject}")
        if not os.path.exists(flag):
            open(flag, "w").close()
            raise RuntimeError(f"planned failure of subject {subject} (first attempt)")
    if counter_dir is not None:
        open(os.path.join(counter_dir, f"{subject}-{os.getpid()}-{time.time_ns()}"), "w").close()
    with _threads(1):
        rng = np.random.default_rng([seed, subject])
        y = rng.integers(0, 2, 40)
        X = rng.standard_normal((40, 4, 16)).astype(np.float32)
        X[:, 1, 4:8] += (2 * y[:, None] - 1) * 1.5  # class evidence on channel 1, samples 4-7
        torch.manual_seed(seed * 1000 + subject)
        lin = torch.nn.Linear(64, 2)
        opt = torch.optim.Adam(lin.parameters(), lr=0.05)
        Xt, yt = torch.as_tensor(X).flatten(1), torch.as_tensor(y)
        for _ in range(int(steps)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(lin(Xt), yt).backward()
            opt.step()
        x = Xt.clone().requires_grad_(True)
        out = lin(x)
        g = torch.autograd.grad(out.gather(1, out.argmax(1, keepdim=True)).sum(), x)[0]
        if sleep:
            time.sleep(sleep)
        return dict(subject=int(subject), weights=lin.weight.detach().numpy()[1].reshape(4, 16),
                    saliency=g.abs().reshape(40, 4, 16).numpy(),
                    train_acc=float((out.argmax(1) == yt).float().mean()))


def train_and_explain(subject: int, *, layout: str = "deap", model: str = "eegnet", method: str = "gradient",
                      seed: int = 0, quick: bool = True, epochs: int = 30, n_explain: int = 16,
                      method_kw: dict | None = None, threads: int = 1) -> dict:
    """The per-subject unit of a paper-scale sweep: simulate ``layout``'s subject ``subject``,
    train ``model`` within-subject (first fold of a 5-fold split, early stopping on its
    validation part), explain up to ``n_explain`` held-out segments with ``method`` and score
    them against the planted truth (:func:`eegnb.metrics.localisation_auc`).

    Returns ``{"subject", "model", "method", "test_acc", "auc" (n_explain,), "maps"
    (n_explain, ch, t) float32, "epochs_run" (n_explain,) or None}``.
    """
    from eegnb.data import simulate
    from eegnb.explain import explain
    from eegnb.metrics import localisation_auc
    from eegnb.train import evaluate, train_model, within_subject_kfold

    with _threads(threads):
        data = simulate(layout, n_subjects=int(subject), seed=seed, quick=quick).by_subject(int(subject))
        split = within_subject_kfold(data, k=5, seed=seed)[0]
        net = train_model(model, data, split, seed=seed, device="cpu", progress=False, epochs=epochs)
        test = data[split.test]
        acc = evaluate(net, test.X, test.y, device="cpu")["acc"]
        idx = np.arange(min(int(n_explain), len(test)))
        maps, info = explain(method, net, test.X[idx], device="cpu", return_info=True, **dict(method_kw or {}))
        auc = np.asarray(localisation_auc(maps, test.truth[idx]), float) if test.truth is not None else None
    return dict(subject=int(subject), model=model, method=method, test_acc=float(acc), auc=auc,
                maps=maps.astype(np.float32), epochs_run=info.get("epochs_run"))
