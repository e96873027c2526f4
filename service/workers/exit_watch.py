"""Knowing that a worker process is dying as soon as it starts to die, not when it has finished.

A killed process closes its sockets (and becomes waitable) only after the kernel has unmapped its memory: for a
worker of 48 cameras (1.4 GB) 40-65 ms in the capacity bench, once 0.35 s on a busier box, time in which its cameras
could have been dialling again. Earlier in the same exit, each of its threads gives up the robust mutexes it
holds (`exit_mm_release`): the waiter of a process-shared robust mutex the worker's main thread holds is woken
with `EOWNERDEAD` before the teardown starts, whatever ended the process (kill -9, a segfault, the OOM killer, a
normal exit). The mutex lives in a one-page memfd the worker inherits.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
import time
from collections.abc import Callable

_MUTEX_SIZE = 64  # pthread_mutex_t: 40 bytes on x86-64, 48 on arm64
_ARMED_AT = _MUTEX_SIZE  # a u32 the worker sets once it holds the mutex
_PAGE = mmap.PAGESIZE
_PTHREAD_PROCESS_SHARED = 1
_PTHREAD_MUTEX_ROBUST = 1
_EOWNERDEAD = 130
_PF_EXITING = 0x4  # include/linux/sched.h: set as the exit begins
_ARM_POLL_S = 0.05

_libc = ctypes.CDLL(None, use_errno=True)


class ExitWatch:
    """The service process's end: `fd` goes to the worker (`hold` there); `wait` returns when the worker's main
    thread has begun to exit."""

    def __init__(self) -> None:
        self.fd = os.memfd_create("vms-worker-exit", 0)
        os.ftruncate(self.fd, _PAGE)
        self._page = mmap.mmap(self.fd, _PAGE)
        attr = ctypes.create_string_buffer(16)  # pthread_mutexattr_t: 4 bytes on x86-64, 8 on arm64
        _check(_libc.pthread_mutexattr_init(attr), "pthread_mutexattr_init")
        _check(_libc.pthread_mutexattr_setpshared(attr, _PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared")
        _check(_libc.pthread_mutexattr_setrobust(attr, _PTHREAD_MUTEX_ROBUST), "pthread_mutexattr_setrobust")
        _check(_libc.pthread_mutex_init(self._mutex(), attr), "pthread_mutex_init")
        _libc.pthread_mutexattr_destroy(attr)

    def _mutex(self) -> ctypes.c_void_p:
        return ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(self._page)))

    def wait(self, running: Callable[[], bool]) -> bool:
        """Blocking (a thread of its own): True once the worker, having held the mutex, began to exit; False if it
        ended before it held it (`running()` turned false first), or the lock failed otherwise (its socket then
        tells)."""
        while struct.unpack_from("I", self._page, _ARMED_AT)[0] == 0:
            if not running():
                return False
            time.sleep(_ARM_POLL_S)
        # Held by the worker's main thread until that thread exits: EOWNERDEAD (or 0, had it let go) means the exit
        # has begun. The lock stays with us: the page is used once.
        return _libc.pthread_mutex_lock(self._mutex()) in (0, _EOWNERDEAD)

    def close_fd(self) -> None:
        """The worker has its copy: ours is not needed (the page stays mapped)."""
        os.close(self.fd)


def hold(fd: int) -> None:
    """In the worker, on its main thread, before anything else: take the mutex for the life of the process. The
    page is mapped outside Python, never to be unmapped (had the interpreter's finalisation unmapped it, a normal
    exit would leave the mutex unreleased and the service's watch waiting)."""
    mmap_ = _libc.mmap
    mmap_.restype = ctypes.c_void_p
    mmap_.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    address = mmap_(None, _PAGE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), f"mmap: {os.strerror(ctypes.get_errno())}")
    os.close(fd)
    _check(_libc.pthread_mutex_lock(ctypes.c_void_p(address)), "pthread_mutex_lock")
    ctypes.c_uint32.from_address(address + _ARMED_AT).value = 1


def exit_status(pid: int) -> int | None:
    """The status of a process that has begun to exit, in `Popen.returncode` terms (-9 for SIGKILL, 3 for exit(3)),
    read before it can be waited for; None while it is not exiting, or once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the name: field 3 is fields[0]; flags is field 9, exit_code field 52 (proc_pid_stat(5)).
    if len(fields) < 50 or not int(fields[6]) & _PF_EXITING:
        return None
    code = int(fields[49])
    return -(code & 0x7F) if code & 0x7F else code >> 8


def _check(result: int, call: str) -> None:
    if result != 0:
        raise OSError(result, f"{call}: {os.strerror(result)}")
