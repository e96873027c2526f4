"""The pool's small parts: how a worker's end is worded, what a process costs, the worker count."""

from __future__ import annotations

import os
import time

from core.config import WorkersConfig
from service.workers.pool import exit_cause, worker_count
from service.workers.usage import UsageSampler


def test_exit_causes_are_worded_for_people() -> None:
    assert exit_cause(-9) == "killed by signal 9 (SIGKILL)"
    assert exit_cause(-11) == "killed by signal 11 (SIGSEGV)"
    assert exit_cause(1) == "exited with status 1"


def test_auto_is_one_worker_per_core_and_zero_runs_in_process() -> None:
    assert worker_count(WorkersConfig()) == len(os.sched_getaffinity(0))
    assert worker_count(WorkersConfig(processes=0)) == 0
    assert worker_count(WorkersConfig(processes=3)) == 3


def test_usage_measures_cpu_between_samples_and_memory() -> None:
    sampler = UsageSampler()
    first = sampler.sample(os.getpid())
    assert first is not None and first.rss_bytes > 10_000_000
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    busy = sampler.sample(os.getpid())
    assert busy is not None and busy.cpu_percent > 50
    assert sampler.sample(2**22 + 12345) is None  # no such process
