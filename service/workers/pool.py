"""The service process's side of the worker processes: which camera runs where, each worker's process kept
alive, and what the API reads of the cameras (their health, recorders, detectors, pushes, and their streams,
mirrored while watched)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from core.config import Config, WorkersConfig
from core.store import Store
from detectors.pipeline.status import PipelineStatus
from detectors.violations.feed import ViolationFeed
from recordings.reconcile import reconcile
from recordings.recorder import RecorderStatus
from service.camera_runtime import MoveRefused, WorkerHealth
from service.config_secrets import config_secrets
from service.supervisor import Changes
from service.workers.assignment import assign
from service.workers.exit_watch import ExitWatch, exit_status
from service.workers.link import Link, LinkClosed
from service.workers.messages import (
    Apply,
    CameraReport,
    ClipSettled,
    Feed,
    Media,
    Reply,
    Start,
    State,
    Stop,
    ToWorker,
    Unwatch,
    Watch,
)
from service.workers.remote_stream import RemoteHealth, RemoteHub, RemoteStream, aged, starting
from service.workers.usage import UsageSampler
from streams.health import HealthSnapshot
from uplink.push import PushStatus

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 60.0  # an Apply starts every camera of a worker; a worker that answers nothing is hung
STOP_TIMEOUT_S = 20.0
HUNG_AFTER_S = 30.0  # no report for this long: the worker is killed and restarted
MONITOR_S = 2.0
SPARE_AFTER_RESTART_S = 5.0  # after a restart, the next spare starts this much later


@dataclasses.dataclass(frozen=True)
class _Process:
    """A worker's process as started: the process, the socket to it, and what tells of its death first."""

    proc: subprocess.Popen[bytes]
    link: Link
    exit_watch: ExitWatch


def _new_process(index: int | None) -> _Process:
    ours, theirs = socket.socketpair()
    exit_watch = ExitWatch()
    try:
        command = [sys.executable, "-m", "vms", "worker", "--fd", str(theirs.fileno()), "--parent", str(os.getpid())]
        command += ["--exit-watch", str(exit_watch.fd)]
        proc = subprocess.Popen(command, pass_fds=[theirs.fileno(), exit_watch.fd])
    finally:
        theirs.close()
        exit_watch.close_fd()
    return _Process(proc, Link(ours.detach(), f"worker-{'spare' if index is None else index}"), exit_watch)


def worker_count(config: WorkersConfig) -> int:
    if config.processes == "auto":
        return len(os.sched_getaffinity(0)) or 1
    return config.processes


def exit_cause(returncode: int | None) -> str:
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"killed by signal {-returncode} ({name})"
    return f"exited with status {returncode}"


class WorkerProcess:
    """One worker slot: the process that runs it now, and its history."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.proc: subprocess.Popen[bytes] | None = None
        self.link: Link | None = None
        self.state = "stopped"
        self.started_at: float | None = None
        self.restarts = 0
        self.failures = 0  # deaths since it last stayed up `stable_s`
        self.last_exit: str | None = None
        self.last_exit_at: float | None = None
        self.next_start_at: float | None = None
        self.last_heard: float = 0.0
        self.pushes: list[PushStatus] = []
        self.applied: Any = None  # what its cameras were last built from
        self.usage = UsageSampler()
        self.cpu_percent = 0.0
        self.rss_bytes = 0
        self.calls: dict[int, asyncio.Future[Any]] = {}
        # Held while a message of its process is applied, and when that process is declared dead.
        self.receiving = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.state == "running" and self.link is not None


class WorkerPool:
    """The `CameraRuntime` of cameras that run in worker processes."""

    def __init__(
        self,
        config: Config,
        processes: int,
        feed: ViolationFeed,
        clip_settled: Callable[[int], None],
        store: Store,
    ) -> None:
        self._config = config
        self._workers = [WorkerProcess(index) for index in range(processes)]
        self._feed = feed
        self._clip_settled = clip_settled
        self._store = store
        self._assignment: dict[str, int] = {}
        self._reports: dict[str, tuple[CameraReport, float]] = {}
        self._down: dict[str, tuple[str, float]] = {}  # camera → why its worker is not running it, since when
        self._hubs: dict[tuple[str, bool], RemoteHub] = {}
        self._hubs_lock = threading.Lock()
        self._calls = itertools.count(1)
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._monitor: asyncio.Task[None] | None = None
        self._spare: _Process | None = None

    # --- lifecycle -------------------------------------------------------------------------------------

    async def apply(self, config: Config) -> Changes:
        async with self._lock:
            self._loop = asyncio.get_running_loop()
            self._config = config
            self._assignment = assign(self._assignment, [c.id for c in config.cameras], len(self._workers))
            for gone in [key for key in self._hubs if key[0] not in self._assignment]:
                self._hubs.pop(gone).worker_lost("camera removed")
            for camera_id in [c for c in self._reports if c not in self._assignment]:
                self._reports.pop(camera_id, None)
            if self._monitor is None:
                for worker in self._workers:
                    self._spawn(worker)
                self._monitor = asyncio.create_task(self._watch_workers(), name="worker-monitor")
            results = await asyncio.gather(*(self._apply_to(worker) for worker in self._workers))
            return _merge([changes for changes in results if changes is not None])

    async def move(self, camera_id: str, worker: int) -> None:
        async with self._lock:
            if camera_id not in self._assignment:
                raise MoveRefused(f"no camera {camera_id!r} runs")
            if not 0 <= worker < len(self._workers):
                raise MoveRefused(f"there is no worker {worker}: workers are 0 to {len(self._workers) - 1}")
            old = self._assignment[camera_id]
            if old == worker:
                return
            self._assignment[camera_id] = worker
            why = f"camera moved to worker {worker}"
            self._reports.pop(camera_id, None)
            for detect in (False, True):
                hub = self._hubs.get((camera_id, detect))
                if hub is not None:
                    hub.worker_lost(why)
            # One after the other: the camera's old recorder closes its segment before the new one opens the next.
            await self._apply_to(self._workers[old])
            await self._apply_to(self._workers[worker])
            for detect in (False, True):
                hub = self._hubs.get((camera_id, detect))
                if hub is not None:
                    hub.rewatch()
            log.info("camera %s moved from worker %d to worker %d", camera_id, old, worker)

    async def _apply_to(self, worker: WorkerProcess, force: bool = False) -> Changes | None:
        """Send the worker its cameras where they (or what they are built from) changed: a reload reaches only
        the workers concerned."""
        config = self._config
        mine = tuple(camera.id for camera in config.cameras if self._assignment.get(camera.id) == worker.index)
        basis = (
            tuple(camera for camera in config.cameras if camera.id in mine),
            config.ingest,
            config.recording,
            config.retention,
            config.uplink,
        )
        if not worker.alive or (basis == worker.applied and not force):
            return None
        try:
            changes = await self._call(worker, lambda call: Apply(call, config, mine))
        except (TimeoutError, RuntimeError) as error:
            # It died meanwhile (its restart applies the configuration then), or hangs (the monitor kills it).
            log.error("worker %d: its cameras could not be applied: %s", worker.index, error)
            return None
        worker.applied = basis
        return changes if isinstance(changes, Changes) else None

    async def stop(self) -> dict[str, HealthSnapshot]:
        async with self._lock:
            self._stopping = True
            if self._monitor is not None:
                self._monitor.cancel()
            for task in list(self._tasks):
                task.cancel()
            spare = self._drop_spare()
            finals = await asyncio.gather(*(self._stop_worker(worker) for worker in self._workers))
            if spare is not None:
                try:
                    await asyncio.wait_for(asyncio.to_thread(spare.wait), 5.0)
                except TimeoutError:
                    spare.kill()
            with self._hubs_lock:
                hubs = list(self._hubs.values())
            for hub in hubs:
                hub.worker_lost("service stopped")
            return {camera_id: snap for final in finals for camera_id, snap in final.items()}

    async def _stop_worker(self, worker: WorkerProcess) -> dict[str, HealthSnapshot]:
        final: dict[str, HealthSnapshot] = {}
        proc = worker.proc
        if worker.alive:
            try:
                answer = await self._call(worker, Stop, timeout=STOP_TIMEOUT_S)
                final = answer if isinstance(answer, dict) else {}
            except (TimeoutError, RuntimeError) as error:
                log.warning("worker %d did not stop in order (%s); killing it", worker.index, error)
        if proc is not None:
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 10.0)
            except TimeoutError:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        worker.state = "stopped"
        return final

    def _spawn(self, worker: WorkerProcess, spare_after_s: float = 0.0) -> None:
        """Start the worker's process (the spare, where one is ready); it is told its cameras by the next
        `_apply_to`. The next spare starts `spare_after_s` later."""
        spare, self._spare = self._spare, None
        started = spare if spare is not None and spare.proc.poll() is None else _new_process(worker.index)
        proc, link = started.proc, started.link
        worker.proc, worker.link = proc, link
        worker.state = "running"
        worker.started_at = worker.last_heard = time.time()
        worker.next_start_at = None
        worker.applied = None
        level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
        link.send(Start(worker.index, str(level).lower(), tuple(config_secrets(self._config))))
        threading.Thread(
            target=self._read, args=(worker, link, proc), name=f"worker-{worker.index}-read", daemon=True
        ).start()
        threading.Thread(
            target=self._watch_exit,
            args=(worker, started),
            name=f"worker-{worker.index}-exit",
            daemon=True,
        ).start()
        log.info("worker %d started (pid %d%s)", worker.index, proc.pid, ", the spare" if spare else "")
        if spare_after_s <= 0:
            self._refill_spare()
        else:
            task = asyncio.create_task(self._refill_spare_later(spare_after_s), name="spare")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _refill_spare(self) -> None:
        if self._config.workers.spare and not self._stopping and self._spare is None:
            self._spare = _new_process(None)

    async def _refill_spare_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._refill_spare()

    def _drop_spare(self) -> subprocess.Popen[bytes] | None:
        """The spare waits for its first message: closing its socket ends it."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        spare.link.close()
        return spare.proc

    # --- messages --------------------------------------------------------------------------------------

    async def _call(
        self, worker: WorkerProcess, message: Callable[[int], ToWorker], timeout: float = CALL_TIMEOUT_S
    ) -> Any:
        if worker.link is None:
            raise RuntimeError(f"worker {worker.index} is not running")
        call = next(self._calls)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.calls[call] = future
        worker.link.send(message(call))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            worker.calls.pop(call, None)

    def _read(self, worker: WorkerProcess, link: Link, proc: subprocess.Popen[bytes]) -> None:
        """The worker's messages, in a thread of their own: media never waits for the event loop."""
        assert self._loop is not None
        loop = self._loop
        while True:
            try:
                message = link.recv()
            except LinkClosed:
                link.close()
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._lost, worker, proc)
                return
            try:
                with worker.receiving:
                    if worker.link is not link and isinstance(message, State | Media):
                        continue  # what was still on its way from a process declared dead: not its cameras any more
                    self._receive(worker, message, loop)
            except Exception:
                log.exception("worker %d: a message could not be handled", worker.index)

    def _watch_exit(self, worker: WorkerProcess, started: _Process) -> None:
        """The worker's death as soon as it begins (`ExitWatch`), before its socket closes: a thread of its own."""
        assert self._loop is not None
        if started.exit_watch.wait(lambda: started.proc.poll() is None):
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._dying, worker, started.proc)

    def _dying(self, worker: WorkerProcess, proc: subprocess.Popen[bytes]) -> None:
        # A worker that stops in order exits after its last answer, which its socket may still hold: that one
        # ends by its socket.
        if not self._stopping:
            self._lost(worker, proc)

    def _receive(self, worker: WorkerProcess, message: object, loop: asyncio.AbstractEventLoop) -> None:
        worker.last_heard = time.time()
        if isinstance(message, Media):
            hub = self._hubs.get((message.camera_id, message.detect))
            if hub is not None:
                hub.receive(message.seq, message.item)
        elif isinstance(message, State):
            for camera_id, report in message.cameras.items():
                if self._assignment.get(camera_id) == worker.index:
                    self._reports[camera_id] = (report, message.at)
                    self._down.pop(camera_id, None)
                    self._hub_reported(camera_id, False, report)
                    self._hub_reported(camera_id, True, report)
            worker.pushes = message.pushes
        elif isinstance(message, Feed):
            self._feed.publish(message.item)
        elif isinstance(message, ClipSettled):
            self._clip_settled(message.violation_id)
        elif isinstance(message, Reply):
            loop.call_soon_threadsafe(_settle, worker.calls.get(message.call), message)

    def _hub_reported(self, camera_id: str, detect: bool, report: CameraReport) -> None:
        hub = self._hubs.get((camera_id, detect))
        stream = report.detect if detect else report.main
        if hub is not None:
            hub.reported_info = stream.info if stream else None
            hub.reported_consumers = stream.consumers if stream else []

    def _watch(self, camera_id: str, detect: bool, seq: int | None) -> None:
        worker_index = self._assignment.get(camera_id)
        if worker_index is None:
            return
        link = self._workers[worker_index].link
        if link is not None:
            link.send(Watch(camera_id, detect, seq) if seq is not None else Unwatch(camera_id, detect))

    # --- a worker that dies ----------------------------------------------------------------------------

    def _lost(self, worker: WorkerProcess, proc: subprocess.Popen[bytes]) -> None:
        """Told twice for a death, by its exit watch and by its socket: the first one counts."""
        if proc is not worker.proc or worker.link is None:
            return
        with worker.receiving:
            worker.link = None
        for future in worker.calls.values():
            if not future.done():
                future.set_exception(RuntimeError(f"worker {worker.index} ended"))
        if self._stopping:
            return
        task = asyncio.create_task(self._restart(worker, proc), name=f"worker-{worker.index}-restart")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _restart(self, worker: WorkerProcess, proc: subprocess.Popen[bytes]) -> None:
        # Told by its exit watch, the process is still being torn down (its memory unmapped, then its sockets and
        # locks let go: 40-65 ms for 1.4 GB in the capacity bench, more on a busier box) and cannot be waited for
        # yet, but its exit status is known.
        returncode = exit_status(proc.pid)
        if returncode is None:
            try:
                returncode = await asyncio.wait_for(asyncio.to_thread(proc.wait), 5.0)
            except TimeoutError:
                proc.kill()  # it closed its socket but lives on: it cannot be trusted with its cameras
                returncode = await asyncio.to_thread(proc.wait)
        now = time.time()
        cause = f"worker process {worker.index} {exit_cause(returncode)}"
        settings = self._config.workers
        if worker.started_at is not None and now - worker.started_at >= settings.stable_s:
            worker.failures = 0
        delay = settings.restart_backoff_s[min(worker.failures, len(settings.restart_backoff_s) - 1)]
        worker.failures += 1
        worker.state = "restarting"
        worker.last_exit, worker.last_exit_at = exit_cause(returncode), now
        worker.next_start_at = now + delay
        worker.pushes = []
        victims = [camera for camera, index in self._assignment.items() if index == worker.index]
        log.error("%s; its %d camera(s) restart in %.0f s", cause, len(victims), delay)
        for camera_id in victims:
            self._down[camera_id] = (cause, now)
            self._reports.pop(camera_id, None)
            for detect in (False, True):
                hub = self._hubs.get((camera_id, detect))
                if hub is not None:
                    hub.worker_lost(cause)
        # Its running violations end with the cause, and its open segments are cut back to their last fragment
        # with gaps that say why, while the cameras dial again, once the process is gone (it may hold the store's
        # write lock until then): what the restarted cameras start after `now` is left alone (48 segments on a busy
        # box took up to 1 s).
        recovered = asyncio.create_task(asyncio.to_thread(self._recover, proc, victims, cause, now))
        try:
            await asyncio.sleep(delay)
            if self._stopping:
                return
            async with self._lock:
                worker.restarts += 1
                # The next spare's start (its imports take a second of CPU) waits until these cameras have dialled.
                self._spawn(worker, spare_after_s=SPARE_AFTER_RESTART_S)
                if await self._apply_to(worker, force=True) is None:
                    return
                for camera_id in [c for c, index in self._assignment.items() if index == worker.index]:
                    for detect in (False, True):
                        hub = self._hubs.get((camera_id, detect))
                        if hub is not None:
                            hub.rewatch()
        finally:
            await recovered

    def _recover(self, proc: subprocess.Popen[bytes], cameras: Sequence[str], cause: str, at: float) -> None:
        proc.wait()
        self._end_violations(cameras, cause, at)
        self._recover_recordings(cameras, cause, at)

    def _end_violations(self, cameras: Sequence[str], cause: str, at: float) -> None:
        if not cameras:
            return
        try:
            self._store.violations.close_all_active(at, cause, cameras, started_before=at)
        except Exception:
            log.exception("ending the violations of %s failed", cause)

    def _recover_recordings(self, cameras: Sequence[str], cause: str, at: float) -> None:
        if not cameras:
            return
        try:
            reconcile(self._store.recordings, self._config.recordings_dir, cameras, cause, before=at)
        except Exception:
            log.exception("recovering the recordings after %s failed", cause)

    async def _watch_workers(self) -> None:
        """Every few seconds: each worker's CPU and memory; a worker silent for `HUNG_AFTER_S` is killed (and
        then restarted like any that dies)."""
        while True:
            now = time.time()
            for worker in self._workers:
                proc = worker.proc
                if proc is None or not worker.alive:
                    continue
                usage = worker.usage.sample(proc.pid)
                if usage is not None:
                    worker.cpu_percent, worker.rss_bytes = usage.cpu_percent, usage.rss_bytes
                if now - worker.last_heard > HUNG_AFTER_S:
                    log.error("worker %d sent nothing for %.0f s; killing it", worker.index, now - worker.last_heard)
                    proc.kill()
            await asyncio.sleep(MONITOR_S)

    # --- read side -------------------------------------------------------------------------------------

    def camera_ids(self) -> list[str]:
        return list(self._assignment)

    def _camera_enabled(self, camera_id: str) -> bool:
        camera = next((c for c in self._config.cameras if c.id == camera_id), None)
        return camera is not None and camera.enabled

    def health(self, camera_id: str) -> HealthSnapshot | None:
        if camera_id not in self._assignment:
            return None
        down = self._down.get(camera_id)
        if down is not None:
            return starting(camera_id, *down)
        found = self._reports.get(camera_id)
        if found is None:
            return starting(camera_id)
        report, at = found
        return aged(report.main.health, time.time() - at)

    def _detect_health(self, camera_id: str) -> HealthSnapshot:
        found = self._reports.get(camera_id)
        if found is None or found[0].detect is None:
            return starting(camera_id + ":detect", *self._down.get(camera_id, (None, None)))
        report, at = found
        assert report.detect is not None
        return aged(report.detect.health, time.time() - at)

    def stream(self, camera_id: str) -> RemoteStream | None:
        if camera_id not in self._assignment or not self._camera_enabled(camera_id):
            return None
        return RemoteStream(self._hub(camera_id, False), RemoteHealth(lambda: self._health_of(camera_id)))

    def detect_stream(self, camera_id: str) -> RemoteStream | None:
        found = self._reports.get(camera_id)
        if found is None or found[0].detect is None:
            return None
        return RemoteStream(self._hub(camera_id, True), RemoteHealth(lambda: self._detect_health(camera_id)))

    def _health_of(self, camera_id: str) -> HealthSnapshot:
        return self.health(camera_id) or starting(camera_id, "camera removed")

    def _hub(self, camera_id: str, detect: bool) -> RemoteHub:
        with self._hubs_lock:
            hub = self._hubs.get((camera_id, detect))
            if hub is None:
                ingest = self._config.ingest
                name = camera_id + (":detect" if detect else "")
                hub = RemoteHub(
                    name,
                    lambda seq: self._watch(camera_id, detect, seq),
                    ingest.gop_cache_bytes,
                    ingest.queue_packets,
                )
                found = self._reports.get(camera_id)
                if found is not None:
                    stream = found[0].detect if detect else found[0].main
                    hub.reported_info = stream.info if stream else None
                    hub.reported_consumers = stream.consumers if stream else []
                self._hubs[(camera_id, detect)] = hub
            return hub

    def snapshots(self) -> dict[str, HealthSnapshot]:
        return {camera_id: snap for camera_id in list(self._assignment) if (snap := self.health(camera_id))}

    def recorder_status(self, camera_id: str) -> RecorderStatus | None:
        found = self._reports.get(camera_id)
        return found[0].recorder if found else None

    def detection_status(self, camera_id: str) -> PipelineStatus | None:
        found = self._reports.get(camera_id)
        return found[0].detection if found else None

    def push_statuses(self) -> list[PushStatus]:
        return [push for worker in self._workers for push in worker.pushes]

    def workers(self) -> list[WorkerHealth]:
        by_worker: dict[int, list[str]] = {worker.index: [] for worker in self._workers}
        for camera_id, index in self._assignment.items():
            by_worker[index].append(camera_id)
        return [
            WorkerHealth(
                index=worker.index,
                state=worker.state,
                pid=worker.proc.pid if worker.proc is not None and worker.state == "running" else None,
                cameras=by_worker[worker.index],
                cpu_percent=worker.cpu_percent if worker.state == "running" else 0.0,
                rss_bytes=worker.rss_bytes if worker.state == "running" else 0,
                started_at=worker.started_at,
                restarts=worker.restarts,
                last_exit=worker.last_exit,
                last_exit_at=worker.last_exit_at,
                next_start_at=worker.next_start_at,
            )
            for worker in self._workers
        ]


def _settle(future: asyncio.Future[Any] | None, reply: Reply) -> None:
    if future is None or future.done():
        return
    if reply.error is not None:
        future.set_exception(RuntimeError(reply.error))
    else:
        future.set_result(reply.value)


def _merge(all_changes: Sequence[Changes]) -> Changes:
    merged = Changes()
    for changes in all_changes:
        for field in dataclasses.fields(Changes):
            getattr(merged, field.name).extend(getattr(changes, field.name))
    return merged
