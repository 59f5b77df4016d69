"""Cost of an explanation method: wall time per sample and peak memory.

:func:`measure_cost` runs ``fn()`` once. Time: ``time.perf_counter`` around the call (CUDA is
synchronised before and after). Memory: on CUDA ``torch.cuda.max_memory_allocated`` minus the
allocation before the call (exact for tensors torch allocates); on CPU the peak growth of the
process's resident set size over its baseline, sampled by a background thread every
``interval`` seconds (psutil when installed, else ``/proc/self/statm``). The CPU peak is
approximate: spikes shorter than the interval are missed, memory freed to the allocator but
not to the OS stays counted, and other threads of the process add to it. Lower is better for
both. Hand-written (a timer and a sampler).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import torch

from eegnb.utils import get_device


def _rss_reader() -> Callable[[], int]:
    try:
        import psutil

        proc = psutil.Process()
        return lambda: int(proc.memory_info().rss)
    except ImportError:  # pragma: no cover - psutil is present in the project env
        page = os.sysconf("SC_PAGE_SIZE")

        def read() -> int:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * page

        return read


def measure_cost(fn: Callable[[], object], n_samples: int, *, device=None, interval: float = 0.002,
                 keep_result: bool = False) -> dict:
    """Run ``fn()`` once; return ``{"seconds_per_sample", "peak_mb", "seconds", "n_samples",
    "device", "memory"}`` (``memory``: ``"cuda_max_allocated"`` or ``"cpu_rss_sampled"``, the
    latter approximate) and ``"result"`` (``fn``'s return value) when ``keep_result``.

    ``n_samples``: how many samples ``fn`` explains (> 0). ``device``: where ``fn`` runs
    (``None``/``"auto"``: CUDA when available).
    """
    if int(n_samples) <= 0:
        raise ValueError(f"n_samples must be a positive count, got {n_samples!r}")
    dev = get_device(device)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        base = torch.cuda.memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        t0 = time.perf_counter()
        result = fn()
        torch.cuda.synchronize(dev)
        sec = time.perf_counter() - t0
        peak = max(0, torch.cuda.max_memory_allocated(dev) - base)
        kind = "cuda_max_allocated"
    else:
        read = _rss_reader()
        base = read()
        peak_rss = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak_rss[0] = max(peak_rss[0], read())
                stop.wait(interval)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        t0 = time.perf_counter()
        try:
            result = fn()
        finally:
            sec = time.perf_counter() - t0
            stop.set()
            th.join()
        peak = max(0, max(peak_rss[0], read()) - base)
        kind = "cpu_rss_sampled"
    out = dict(seconds_per_sample=sec / int(n_samples), peak_mb=peak / 2**20, seconds=sec,
               n_samples=int(n_samples), device=str(dev), memory=kind)
    if keep_result:
        out["result"] = result
    return out
