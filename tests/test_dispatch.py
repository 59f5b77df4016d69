"""Dask dispatch (eegnb.experiments.dispatch): equals the serial run, survives a killed worker, reruns hit the cache."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from eegnb.experiments.dispatch import example_job, run_jobs  # noqa: E402


def _same(a: list, b: list):
    assert [r["subject"] for r in a] == [r["subject"] for r in b]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x["weights"], y["weights"])
        np.testing.assert_array_equal(x["saliency"], y["saliency"])
        assert x["train_acc"] == y["train_acc"]


def _count(d) -> int:
    return len(os.listdir(d))


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        c.wait_for_workers(2, timeout=120)
        yield c


def test_sweep_equals_serial_and_rerun_hits_cache(client, tmp_path):
    jobs = [dict(subject=s, seed=3) for s in range(1, 7)]
    serial = [example_job(**j) for j in jobs]
    cnt = tmp_path / "count"
    cnt.mkdir()
    jobs_c = [dict(j, counter_dir=str(cnt)) for j in jobs]
    key = lambda j: dict(subject=j["subject"], seed=j["seed"])  # noqa: E731 - the counter folder is no input
    out = run_jobs(example_job, jobs_c, cache_dir=tmp_path / "cache", kind="t", key=key, client=client, progress=False)
    _same(out, serial)
    assert _count(cnt) == 6 and run_jobs.last["submitted"] == 6
    # the serial results differ between subjects (a sweep returning one result six times would fail)
    assert not np.array_equal(serial[0]["weights"], serial[1]["weights"])
    # rerun with two more subjects: only those two are computed
    more = jobs_c + [dict(subject=s, seed=3, counter_dir=str(cnt)) for s in (7, 8)]
    out2 = run_jobs(example_job, more, cache_dir=tmp_path / "cache", kind="t", key=key, client=client, progress=False)
    assert _count(cnt) == 8 and run_jobs.last == dict(run_jobs.last, submitted=2, from_cache=6)
    _same(out2[:6], serial)
    _same(out2[6:], [example_job(subject=s, seed=3) for s in (7, 8)])
    # serial mode reads the same store
    out3 = run_jobs(example_job, more, cache_dir=tmp_path / "cache", kind="t", key=key, client="serial")
    assert _count(cnt) == 8
    _same(out3, out2)


def test_retries_rerun_a_failed_job(client, tmp_path):
    flags = tmp_path / "flags"
    flags.mkdir()
    jobs = [dict(subject=s, fail_once_dir=str(flags)) for s in (1, 2)]
    key = lambda j: j["subject"]  # noqa: E731
    out = run_jobs(example_job, jobs, cache_dir=tmp_path / "c", kind="t", key=key, client=client, retries=1,
                   progress=False)
    _same(out, [example_job(subject=s) for s in (1, 2)])
    for f in flags.iterdir():
        f.unlink()
    with pytest.raises(RuntimeError, match="planned failure"):
        run_jobs(example_job, [dict(subject=3, fail_once_dir=str(flags))], cache_dir=tmp_path / "c", kind="t",
                 key=key, client=client, retries=0, progress=False)


def test_sweep_survives_a_killed_worker(client, tmp_path):
    """One worker process is killed while it runs a job; the scheduler reruns it elsewhere."""
    import threading

    cnt = tmp_path / "count"
    cnt.mkdir()
    jobs = [dict(subject=s, sleep=0.4, counter_dir=str(cnt)) for s in range(1, 9)]
    key = lambda j: j["subject"]  # noqa: E731
    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2
    killed = []

    def kill_one():
        t_end = time.time() + 60
        while _count(cnt) < 2 and time.time() < t_end:
            time.sleep(0.01)
        # the job that just started (its file names its worker's pid) sleeps 0.4 s: kill it mid-job
        newest = max(os.listdir(cnt), key=lambda f: int(f.split("-")[2]))
        killed.append(int(newest.split("-")[1]))
        os.kill(killed[0], signal.SIGKILL)

    th = threading.Thread(target=kill_one)
    th.start()
    out = run_jobs(example_job, jobs, cache_dir=tmp_path / "c", kind="t", key=key, client=client, progress=False)
    th.join()
    _same(out, [example_job(subject=s) for s in range(1, 9)])
    assert _count(cnt) >= 9  # at least the killed job ran twice
    new = list(client.run(os.getpid).values())
    assert killed[0] in pids and killed[0] not in new


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="cache_dir"):
        run_jobs(example_job, [dict(subject=1)], cache_dir=None, kind="t")
    with pytest.raises(ValueError, match="module-level"):
        run_jobs(lambda subject: subject, [dict(subject=1)], cache_dir=tmp_path, kind="t")
    with pytest.raises(ValueError, match="client must be"):
        run_jobs(example_job, [dict(subject=1)], cache_dir=tmp_path, kind="t", client=3)


def test_train_and_explain_unit_runs_serially(tmp_path):
    """The per-subject unit of a paper-scale sweep, at the smallest size, through the serial path."""
    from eegnb.experiments.dispatch import train_and_explain

    jobs = [dict(subject=1, epochs=1, n_explain=2, method="gradient")]
    (r,) = run_jobs(train_and_explain, jobs, cache_dir=tmp_path, kind="unit", client="serial")
    assert r["subject"] == 1 and r["maps"].shape[0] == 2 and r["maps"].ndim == 3
    assert r["auc"].shape == (2,) and np.isfinite(r["auc"]).all() and 0.0 <= r["test_acc"] <= 1.0
    (again,) = run_jobs(train_and_explain, jobs, cache_dir=tmp_path, kind="unit", client="serial")
    assert run_jobs.last["from_cache"] == 1
    np.testing.assert_array_equal(again["maps"], r["maps"])


def test_context_mask_run_dispatched_units_are_the_serial_cache_entries(tmp_path):
    """``run(cfg, client=...)`` computes the units through dispatch into the very cache entries
    the serial loop reads: a serial run afterwards writes no new unit entry and gives the same
    results."""
    from eegnb.experiments import context_mask as ctx

    cfg = ctx.Config(subjects=1, labels=("arousal",), models=("eegnet",), n_trials=6, n_segments=2,
                     fit=dict(epochs=1, lr=3e-3, batch_size=16), n_explain=2,
                     mask=dict(epochs=4, lr=0.1, init=0.9, early_stopping=False), area_warmup=2,
                     ks_curve=(2,), deletion_axes=("channel",), deletion_steps=())
    a = ctx.run(cfg, cache_dir=tmp_path, progress=False, client="serial")
    units = sorted((tmp_path / "context_mask_unit").glob("*.npz"))
    assert len(units) == 1  # one (label, subject, model) unit: the loop wrote no second entry
    b = ctx.run(cfg, cache_dir=tmp_path, progress=False)
    assert sorted((tmp_path / "context_mask_unit").glob("*.npz")) == units
    pd.testing.assert_frame_equal(a.acc, b.acc)
