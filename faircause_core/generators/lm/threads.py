"""Torch's intra-op threads while a language model computes: a fixed count, torch's own, or
AUTO, where ThreadGovernor measures what the rest of the machine uses and takes the cores it
leaves (on this 2-core machine: two threads while the other core is free, one beside a busy
process, since two spin-wait on each other there). The language model's fit, sampling and
prompt mode's writing use it (generators/llm.py, generators/prompt.py)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Optional

import torch

#: threads= value that lets ThreadGovernor choose, while fitting, from what the machine is doing.
AUTO = "auto"


def default_threads() -> Optional[str]:
    """AUTO on a machine with <= 2 cores (ThreadGovernor: two torch threads while the other
    core is free, one while another process uses it), else None (torch's own choice)."""
    return AUTO if (os.cpu_count() or 1) <= 2 else None


def _cpu_seconds() -> Optional[tuple[float, float]]:
    """(busy CPU seconds of the whole machine, of this process) so far; None where /proc/stat
    is unreadable or does not list os.cpu_count() CPUs (then the governor keeps its count)."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
        cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
        if cpus != (os.cpu_count() or 0):
            return None
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, lines[0].split()[1:9])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"), time.process_time()


def threads_for(others: float, cores: int) -> int:
    """Torch threads for `cores` cores while other processes use `others` of them: the cores
    left whole (a quarter-core of background is tolerated), at least one."""
    return max(1, min(cores, int(cores - others + 0.25)))


class ThreadGovernor:
    """Chooses torch's threads while a fit runs, from what the rest of the machine uses.

    On this 2-core machine two torch threads fit the demo 1.4x faster than one when the
    other core is free (16.6 vs 23.1 s), but beside a busy process they spin-wait on each
    other and took twice as long (47.3 vs 23.5 s; bench/bench_lm_threads.py). So every WINDOW
    seconds of wall time it measures the other processes' CPU use (the machine's busy time
    from /proc/stat less this process's) and sets threads_for(...). It starts on one thread, so a wrong guess costs at most one
    window. Call it from the thread that computes: torch's OpenMP setting is per thread.
    The numbers do not depend on the thread count here (tests/test_llm.py checks the fit bit
    for bit), only the time does; a CPU whose kernels split a sum by thread would make them
    depend on the load (threads=1 then repeats exactly). `seconds`: wall time on each count."""

    WINDOW = 0.5

    def __init__(self, cores: Optional[int] = None) -> None:
        self.cores = int(cores or os.cpu_count() or 1)
        self.threads = 1
        self.seconds: dict[int, float] = {}
        self.others: Optional[float] = None  # the other processes' cores in the last window
        torch.set_num_threads(1)
        self._mark = (time.perf_counter(), _cpu_seconds())

    def __call__(self) -> None:
        now = time.perf_counter()
        wall = now - self._mark[0]
        if wall < self.WINDOW:
            return
        self.seconds[self.threads] = self.seconds.get(self.threads, 0.0) + wall
        reading, before = _cpu_seconds(), self._mark[1]
        self._mark = (now, reading)
        if reading is None or before is None:
            return
        self.others = max(0.0, (reading[0] - before[0]) - (reading[1] - before[1])) / wall
        n = threads_for(self.others, self.cores)
        if n != self.threads:
            torch.set_num_threads(n)
            self.threads = n

    def record(self) -> dict:
        """{threads: seconds} of wall time so far, the last window included."""
        out = dict(self.seconds)
        out[self.threads] = out.get(self.threads, 0.0) + time.perf_counter() - self._mark[0]
        return {str(k): round(v, 2) for k, v in sorted(out.items())}


def _no_tick() -> None:
    pass


@contextmanager
def torch_threads(n: int | str | None):
    """Torch intra-op threads inside the block, restored after: n threads, torch's own setting
    (None), or AUTO (a ThreadGovernor). Yields a callable to call often from the computing
    thread (the governor, or a no-op for a fixed count)."""
    before = torch.get_num_threads()
    tick = _no_tick
    if n == AUTO:
        tick = ThreadGovernor()
    elif n:
        torch.set_num_threads(n)
    try:
        yield tick
    finally:
        torch.set_num_threads(before)
