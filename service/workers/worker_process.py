"""A worker process: runs the cameras the service process gives it (`LocalCameras`: sources, recorders,
detectors, always-on pushes), reports their state every second, forwards a stream while the service process
watches it, and writes to the store directly (SQLite in WAL mode, shared by every process)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import threading
import time
from collections.abc import Callable

from core.config import Config
from core.redaction import RedactingFilter
from core.store import Store
from detectors.violations.feed import FeedItem
from media.packet import MediaPacket
from recordings.evidence import EvidenceClips
from service.local_cameras import LocalCameras
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
    StreamReport,
    Unwatch,
    Watch,
)
from streams import read_interrupt
from streams.camera import CameraStream
from streams.items import PacketsDropped, StreamItem
from streams.worker import SubscriptionWorker

log = logging.getLogger(__name__)

REPORT_S = 1.0
# Messages waiting on the link beyond which a forward skips to the next key frame rather than queue more video.
MAX_BACKLOG = 400

_PR_SET_PDEATHSIG = 1


def run_worker(fd: int, parent: int) -> int:
    """The process's body (`vms worker`, its main thread holding its exit watch's mutex); returns its exit
    status."""
    _die_with(parent)
    # The service process decides when a worker stops: a Ctrl-C or a SIGTERM to the whole group reaches it
    # first, and it stops its workers in order, each closing its segments.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    link = Link(fd, "worker")
    # A spare waits here, for seconds or hours, until a worker dies: the check that a blocked read can be aborted
    # (0.3 s, which every camera's first open waits for) is done meanwhile, so the dead worker's cameras are
    # dialled as soon as they arrive.
    threading.Thread(target=read_interrupt.supported, name="read-interrupt-check", daemon=True).start()
    try:
        start = link.recv()
    except LinkClosed:
        return 1
    assert isinstance(start, Start), start
    _setup_logging(start)
    asyncio.run(CameraWorker(link, start.index).run())
    return 0


def _die_with(parent: int) -> None:
    """Be killed when the service process dies, however it dies (kill -9 included): a worker nobody supervises
    would record on beside the next service's."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _setup_logging(start: Start) -> None:
    redactor = RedactingFilter()
    redactor.add_secrets(start.secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [worker {start.index}] %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(start.log_level.upper())
    for noisy in ("libav", "av"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


class _LinkFeed:
    """The detectors' `FeedSink`: violation changes go to the service process's live feed, and the cameras'
    state follows at once (the detection status then lists the violation as running)."""

    def __init__(self, link: Link, report_now: Callable[[], None]) -> None:
        self._link = link
        self._report_now = report_now

    def publish(self, item: FeedItem) -> None:
        self._link.send(Feed(item))
        self._report_now()


class Forward(SubscriptionWorker):
    """A watched stream's items to the service process, packets as bytes; behind, it skips to a key frame."""

    poll_s = None

    def __init__(self, stream: CameraStream, link: Link, camera_id: str, detect: bool, seq: int) -> None:
        super().__init__(stream.hub, "forward", thread_name=f"forward-{stream.settings.camera_id}")
        self._link = link
        self._camera_id = camera_id
        self._detect = detect
        self.seq = seq
        self._skipping = False

    def handle(self, items: list[StreamItem], fetched_at: float) -> None:
        for item in items:
            if isinstance(item, MediaPacket):
                if self._link.backlog > MAX_BACKLOG and not self._skipping:
                    self._skipping = True
                    item = PacketsDropped(item.session, 1, fetched_at)
                elif self._skipping and not item.keyframe:
                    continue
                else:
                    self._skipping = False
                    item = item._replace(data=bytes(item.data))
            self._link.send(Media(self._camera_id, self._detect, self.seq, item))


class CameraWorker:
    def __init__(self, link: Link, index: int) -> None:
        self._link = link
        self._index = index
        self._config: Config | None = None
        self._store: Store | None = None
        self._evidence: EvidenceClips | None = None
        self._cameras: LocalCameras | None = None
        self._forwards: dict[tuple[str, bool], Forward] = {}
        self._report_soon = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[object] = asyncio.Queue()

        def read() -> None:
            while True:
                try:
                    message = self._link.recv()
                except LinkClosed:
                    loop.call_soon_threadsafe(inbox.put_nowait, None)
                    return
                loop.call_soon_threadsafe(inbox.put_nowait, message)

        threading.Thread(target=read, name="worker-read", daemon=True).start()
        reporter = asyncio.create_task(self._report())
        try:
            while True:
                message = await inbox.get()
                if message is None:
                    log.warning("the service process is gone; stopping")
                    await self._stop()
                    return
                if isinstance(message, Stop):
                    final = await self._stop()
                    self._link.send(Reply(message.call, final))
                    return
                await self._handle(message)
        finally:
            reporter.cancel()
            self._link.flush_and_close()

    async def _handle(self, message: object) -> None:
        if isinstance(message, Apply):
            try:
                changes = await self._apply(message)
            except Exception as error:
                log.exception("applying the configuration failed")
                self._link.send(Reply(message.call, None, f"{type(error).__name__}: {error}"))
            else:
                self._link.send(Reply(message.call, changes))
        elif isinstance(message, Watch):
            self._unwatch(message.camera_id, message.detect)
            self._watch(message.camera_id, message.detect, message.seq)
        elif isinstance(message, Unwatch):
            self._unwatch(message.camera_id, message.detect)

    async def _apply(self, message: Apply) -> object:
        wanted = set(message.camera_ids)
        config = message.config.model_copy(update={"cameras": [c for c in message.config.cameras if c.id in wanted]})
        self._config = config
        if self._cameras is None:
            self._store = await asyncio.to_thread(Store.open, config.storage.database_path)
            self._evidence = EvidenceClips(
                self._store.recordings,
                self._store.violations,
                lambda: self._current.recordings_dir,
                config.storage.data_dir / "evidence",
                lambda: self._current.retention.keep_after_close_hours * 3600,
                lambda violation_id: self._link.send(ClipSettled(violation_id)),
            )
            self._evidence.start()
            loop = asyncio.get_running_loop()

            def report_now() -> None:
                loop.call_soon_threadsafe(self._report_soon.set)

            feed = _LinkFeed(self._link, report_now)
            self._cameras = LocalCameras(config, self._store, feed, self._evidence)
        changes = await self._cameras.apply(config)
        # The state of what was just applied goes before the answer: the service reads it as soon as it is told.
        self._link.send(self._state(self._cameras))
        # A camera restarted (its source changed) has a new hub: what was forwarded follows it.
        for (camera_id, detect), forward in list(self._forwards.items()):
            stream = self._stream(camera_id, detect)
            if stream is None or stream.hub is not forward.hub:
                self._unwatch(camera_id, detect)
                self._watch(camera_id, detect, forward.seq)
        return changes

    @property
    def _current(self) -> Config:
        assert self._config is not None
        return self._config

    def _stream(self, camera_id: str, detect: bool) -> CameraStream | None:
        if self._cameras is None:
            return None
        cameras = self._cameras
        return cameras.detect_stream(camera_id) if detect else cameras.stream(camera_id)

    def _watch(self, camera_id: str, detect: bool, seq: int) -> None:
        stream = self._stream(camera_id, detect)
        if stream is None:
            return  # not running here (disabled, or moved); the service asks again when it runs
        forward = Forward(stream, self._link, camera_id, detect, seq)
        forward.start()
        self._forwards[(camera_id, detect)] = forward

    def _unwatch(self, camera_id: str, detect: bool) -> None:
        forward = self._forwards.pop((camera_id, detect), None)
        if forward is not None:
            forward.stop()

    async def _stop(self) -> dict[str, object]:
        for key in list(self._forwards):
            self._unwatch(*key)
        final: dict[str, object] = {}
        if self._cameras is not None:
            final = dict(await self._cameras.stop())
        if self._evidence is not None:
            self._evidence.stop()
        if self._store is not None:
            self._store.close()
        return final

    async def _report(self) -> None:
        """Every second, also before the first cameras: the service takes a worker that says nothing for long
        for a hung one."""
        while True:
            try:
                cameras = self._cameras
                self._link.send(self._state(cameras) if cameras is not None else State(time.time(), {}))
            except Exception:
                log.exception("reporting the cameras' state failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._report_soon.wait(), REPORT_S)
            self._report_soon.clear()

    def _state(self, cameras: LocalCameras) -> State:
        reports = {}
        for camera_id in cameras.camera_ids():
            health = cameras.health(camera_id)
            if health is None:
                continue
            stream = cameras.stream(camera_id)
            detect = cameras.detect_stream(camera_id)
            reports[camera_id] = CameraReport(
                main=StreamReport(
                    health, stream.hub.info if stream else None, stream.hub.consumers() if stream else []
                ),
                running=stream is not None,
                detect=(
                    StreamReport(detect.health.snapshot(), detect.hub.info, detect.hub.consumers()) if detect else None
                ),
                recorder=cameras.recorder_status(camera_id),
                detection=cameras.detection_status(camera_id),
            )
        return State(time.time(), reports, cameras.push_statuses())
