"""A worker's death known as it begins: before the kernel has torn the process down, with its exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from service.workers.exit_watch import ExitWatch, exit_status

# The child's body: hold the mutex, touch `mb` MiB (what makes a teardown take time), say so, wait to die.
CHILD = """
import os, sys
from service.workers.exit_watch import hold
hold(int(sys.argv[1]))
memory = b"x" * (int(sys.argv[2]) << 20)
os.write(1, b"ready\\n")
{then}
"""


def start(watch: ExitWatch, mb: int, then: str = "import time; time.sleep(60)") -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(then=then), str(watch.fd), str(mb)],
        pass_fds=[watch.fd],
        stdout=subprocess.PIPE,
    )
    watch.close_fd()
    return proc


def watched(watch: ExitWatch, proc: subprocess.Popen[bytes]) -> tuple[threading.Thread, dict[str, object]]:
    seen: dict[str, object] = {}

    def wait() -> None:
        seen["dying"] = watch.wait(lambda: proc.poll() is None)
        # At once, as the pool does: can it be waited for yet, and what does /proc say?
        seen["waitable"] = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        seen["status"] = exit_status(proc.pid)

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, seen


def test_a_kill_is_known_before_the_process_is_torn_down_with_its_signal() -> None:
    watch = ExitWatch()
    proc = start(watch, mb=600)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    thread, seen = watched(watch, proc)
    time.sleep(0.2)
    assert thread.is_alive(), "the watch must wait while the worker lives"
    assert exit_status(proc.pid) is None  # alive: no exit status yet

    proc.kill()
    thread.join(5)
    assert seen == {"dying": True, "waitable": False, "status": -signal.SIGKILL}
    assert proc.wait(5) == -signal.SIGKILL
    proc.stdout.close()


@pytest.mark.parametrize(
    ("then", "status"),
    [("os._exit(3)", 3), ("import ctypes; ctypes.string_at(0)", -signal.SIGSEGV), ("pass", 0)],
    ids=["exit-3", "segfault", "normal-exit"],
)
def test_any_end_is_told_with_its_status(then: str, status: int) -> None:
    watch = ExitWatch()
    proc = start(watch, mb=1, then=then)
    thread, seen = watched(watch, proc)
    thread.join(10)
    assert seen["dying"] is True
    assert seen["status"] == status  # not waited for yet: a zombie's /proc still tells
    assert proc.wait(5) == status
    assert proc.stdout is not None and proc.stdout.read() == b"ready\n"
    proc.stdout.close()


def test_a_process_that_ends_before_it_holds_the_mutex_is_not_taken_for_a_death() -> None:
    watch = ExitWatch()
    proc = subprocess.Popen([sys.executable, "-c", "pass"], pass_fds=[watch.fd])
    watch.close_fd()
    assert watch.wait(lambda: proc.poll() is None) is False
