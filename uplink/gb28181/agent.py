"""One GB/T 28181 cascade: we, the lower platform, towards one upper platform.

It owns a SIP endpoint on our configured port; registers and keeps registered (`registration`); answers the
platform's queries (`queries`), subscriptions (`subscriptions`) and video requests (`sessions`); tells it of
catalog changes and of violations as alarms (`alarms`). Requests from any address but the platform's are
refused; a malformed one is answered 400 (or ignored where it cannot be answered), and nothing one platform sends
reaches another's cascade.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.config.uplink import Gb28181Config, PlatformConfig
from core.store import Store
from core.store.uplink import DeliveryStats
from streams.health import CameraState
from uplink.gb28181 import manscdp, queries
from uplink.gb28181.alarms import AlarmReporter
from uplink.gb28181.catalog import Catalog, CatalogEntry, build_catalog
from uplink.gb28181.identity import Identity
from uplink.gb28181.registration import Registration, RegistrationStatus
from uplink.gb28181.sessions import MediaSessions, SessionStatus
from uplink.gb28181.sip.endpoint import SipEndpoint, SipTimeout
from uplink.gb28181.sip.message import SipRequest, SipResponse, response_to
from uplink.gb28181.sip.transport import Address
from uplink.gb28181.subscriptions import Subscriptions
from uplink.messages import Catalogue, KindLabels
from uplink.sources import CameraStreams, Recordings

log = logging.getLogger(__name__)

ALLOW = "REGISTER, MESSAGE, INVITE, ACK, BYE, CANCEL, INFO, SUBSCRIBE, NOTIFY, OPTIONS"
CATALOG_WATCH_S = 1.0
RESPONSE_TIMEOUT_S = 10.0
PORT_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class CascadeStatus:
    platform_id: str
    server: str
    local: str
    registration: RegistrationStatus
    sessions: list[SessionStatus]
    bytes_sent: int  # media, all sessions since the start
    cameras: int  # in the catalog
    cameras_without_id: list[str]
    subscriptions: dict[str, int]
    alarms: DeliveryStats | None


class CascadeAgent:
    def __init__(
        self,
        platform: PlatformConfig,
        store: Store,
        catalogue: Callable[[], Catalogue],
        kind: Callable[[str], KindLabels | None],
        streams: CameraStreams,
        recordings: Recordings,
    ) -> None:
        assert platform.gb28181 is not None
        self.platform = platform
        self.gb: Gb28181Config = platform.gb28181
        self._store = store
        self._catalogue = catalogue
        self._streams = streams
        self._sn = itertools.count(1)
        self.endpoint = SipEndpoint(self.gb.transport, self._handle, f"GB/T 28181 {platform.id}")
        self._identity: Identity | None = None
        self._server: Address = (self.gb.host, self.gb.port)
        self._server_hosts: set[str] = {self.gb.host}
        self.registration: Registration | None = None
        self.subscriptions = Subscriptions(self.gb, self.identity, self.endpoint)
        self.sessions = MediaSessions(
            self.gb, self.identity, self.endpoint, self.catalog, streams, recordings, self.send_message, self.next_sn
        )
        self._alarms_kind = kind
        self._alarms: AlarmReporter | None = None
        self._main: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.error: str | None = None  # why it is not running, where it cannot
        self._spawned: set[asyncio.Task[None]] = set()
        self._catalog_state: dict[str, tuple[CatalogEntry, bool]] | None = None
        self._catalog_cache: tuple[object, Catalog] | None = None

    # --- life ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._main = asyncio.create_task(self._run(), name=f"gb28181-{self.platform.id}")

    async def _run(self) -> None:
        """Opens our SIP port (again and again, where another program holds it), then starts the work."""
        while True:
            try:
                await self.endpoint.open(self.gb.local_host, self.gb.local_port)
                break
            except OSError as error:
                reason = f"cannot open SIP port {self.gb.local_host}:{self.gb.local_port}: {error.strerror or error}"
                if self.error != reason:
                    log.error("GB/T 28181 %s: %s; trying again every %g s", self.platform.id, reason, PORT_RETRY_S)
                self.error = reason
                await asyncio.sleep(PORT_RETRY_S)
        self.error = None
        self._identity = Identity(self.gb, self.endpoint.local)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(self.gb.host, self.gb.port, type=socket.SOCK_DGRAM)
            address = str(infos[0][4][0])
            self._server = (address, self.gb.port)
            self._server_hosts = {self.gb.host, *(str(info[4][0]) for info in infos)}
        except OSError as error:
            log.warning(
                "GB/T 28181 %s: cannot resolve %s (%s); trying as written", self.platform.id, self.gb.host, error
            )
        self.registration = Registration(self.endpoint, self._identity, self._server, self.next_sn)
        self._alarms = AlarmReporter(
            self.platform,
            self.gb,
            self._store,
            self._catalogue,
            self.catalog,
            self._alarms_kind,
            self.registration.registered,
            self._send_alarm,
            self.next_sn,
        )
        name = f"gb28181-{self.platform.id}"
        self._tasks = [
            asyncio.create_task(self.registration.run(), name=f"{name}-register"),
            asyncio.create_task(self._watch_catalog(), name=f"{name}-catalog"),
            asyncio.create_task(self._alarms.run(), name=f"{name}-alarms"),
        ]

    async def stop(self) -> None:
        if self._main is not None:
            self._main.cancel()
            await asyncio.gather(self._main, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sessions.close_all()
        if self.registration is not None:
            await self.registration.unregister()
        for task in list(self._spawned):
            task.cancel()
        await asyncio.gather(*self._spawned, return_exceptions=True)
        await self.endpoint.close()

    def identity(self) -> Identity:
        assert self._identity is not None, "start() first"
        return self._identity

    def next_sn(self) -> int:
        return next(self._sn)

    def catalog(self) -> Catalog:
        """Built again only when the configuration changed."""
        directory = self._catalogue()
        if self._catalog_cache is None or self._catalog_cache[0] is not directory:
            catalog = build_catalog(self.platform, self.gb.local_id, directory.config, directory.tree)
            self._catalog_cache = (directory, catalog)
        return self._catalog_cache[1]

    def online(self, camera_id: str) -> bool:
        health = self._streams.health(camera_id)
        return health is not None and health.state == CameraState.ONLINE

    def recording(self, camera_id: str) -> bool:
        config = self._catalogue().config
        camera = next((c for c in config.cameras if c.id == camera_id), None)
        return bool(camera and camera.enabled and camera.record and config.recording.enabled)

    def status(self) -> CascadeStatus:
        """Blocking (a store read): call from a worker thread."""
        catalog = self.catalog()
        registration = self.registration.status if self.registration else RegistrationStatus("registering", None, 0)
        sessions = self.sessions.statuses()
        return CascadeStatus(
            self.platform.id,
            f"{self.gb.host}:{self.gb.port}/{self.gb.transport}",
            f"{self.endpoint.local[0]}:{self.endpoint.local[1]}",
            registration,
            sessions,
            self.sessions.bytes_ended + sum(s.bytes_sent for s in sessions),
            len(catalog.cameras),
            catalog.without_id,
            {kind: len(self.subscriptions.active(kind)) for kind in ("Catalog", "Alarm")},
            self._store.uplink.stats(self._alarms.channel) if self._alarms else None,
        )

    # --- sending ------------------------------------------------------------------------------------

    async def send_message(self, body: bytes) -> SipResponse:
        if self.registration is None:
            raise OSError("not started")
        return await self.registration.send(body, RESPONSE_TIMEOUT_S)

    async def _send_alarm(self, body: bytes) -> SipResponse:
        subscribed = self.subscriptions.active("Alarm")
        if subscribed:
            return await self.subscriptions.notify(subscribed[0], body)
        return await self.send_message(body)

    async def _send_all(self, bodies: list[bytes], send: Callable[[bytes], Awaitable[SipResponse]]) -> None:
        """Pages in order, each once the platform took the one before."""
        for body in bodies:
            try:
                answer = await send(body)
            except (SipTimeout, OSError) as error:
                log.warning("GB/T 28181 %s: the platform took no answer: %s", self.platform.id, error)
                return
            if not 200 <= answer.status < 300:
                log.warning("GB/T 28181 %s: an answer refused: %s %s", self.platform.id, answer.status, answer.reason)
                return

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    # --- requests from the platform -----------------------------------------------------------------

    async def _handle(self, request: SipRequest, source: Address) -> SipResponse | None:
        if source[0] not in self._server_hosts:
            log.warning(
                "GB/T 28181 %s: %s from %s, not the platform: refused", self.platform.id, request.method, source[0]
            )
            return None if request.method == "ACK" else response_to(request, 403)
        method = request.method
        if method == "ACK":
            await self.sessions.ack(request)
            return None
        if method == "MESSAGE":
            return await self._message(request)
        if method == "INVITE":
            return await self.sessions.invite(request, source)
        if method == "BYE":
            return await self.sessions.bye(request)
        if method == "INFO":
            return await self.sessions.info(request)
        if method == "CANCEL":
            return self.sessions.cancel(request)
        if method == "SUBSCRIBE":
            return await self._subscribe(request, source)
        if method in ("OPTIONS", "NOTIFY"):
            response = response_to(request, 200)
            response.headers.append(("Allow", ALLOW))
            return response
        response = response_to(request, 405 if method in ALLOW else 501)
        response.headers.append(("Allow", ALLOW))
        return response

    def _command(self, request: SipRequest) -> manscdp.Command | SipResponse:
        try:
            return manscdp.parse(request.body)
        except manscdp.ManscdpError as error:
            log.warning("GB/T 28181 %s: bad %s body: %s", self.platform.id, request.method, error)
            response = response_to(request, 400, "Bad Request - " + str(error).replace("\n", " ")[:100])
            return response

    async def _message(self, request: SipRequest) -> SipResponse:
        command = self._command(request)
        if isinstance(command, SipResponse):
            return command
        if command.root != "Query":
            return response_to(request, 200)  # their notifications and answers; controls we do not take
        catalog = self.catalog()
        gb = self.gb
        ours = command.device_id == gb.local_id
        entry = catalog.camera(command.device_id)
        bodies: list[bytes]
        if command.cmd_type == "Catalog" and ours:
            bodies = queries.catalog_responses(command, gb, catalog, self.online)
        elif command.cmd_type == "DeviceInfo" and (ours or entry):
            bodies = [queries.device_info_response(command, gb, catalog, self.platform.name)]
        elif command.cmd_type == "DeviceStatus" and (ours or entry):
            online = entry is None or (entry.camera_id is not None and self.online(entry.camera_id))
            recording = entry is not None and entry.camera_id is not None and self.recording(entry.camera_id)
            bodies = [queries.device_status_response(command, gb, entry, online, recording)]
        elif command.cmd_type == "RecordInfo" and entry is not None and entry.camera_id is not None:
            try:
                start = manscdp.parse_gb_time(command.get("StartTime") or "")
                end = manscdp.parse_gb_time(command.get("EndTime") or "")
            except manscdp.ManscdpError as error:
                return response_to(request, 400, f"Bad Request - {error}")
            kinds = (command.get("Type") or "all").lower()
            found: list[queries.Record] = []
            if kinds in ("all", "time"):  # we record continuously: no alarm- or manually-started recordings
                segments = await asyncio.to_thread(self._store.recordings.segments, entry.camera_id, start, end)
                found = queries.records(segments, start, end)
            bodies = queries.record_info_responses(command, gb, entry, found)
        elif command.cmd_type in ("Catalog", "DeviceInfo", "DeviceStatus", "RecordInfo"):
            return response_to(request, 404, f"Not Found - no device {command.device_id[:20]!r} here")
        else:
            log.info("GB/T 28181 %s: query %s not served", self.platform.id, command.cmd_type[:40])
            return response_to(request, 200)
        self._spawn(self._send_all(bodies, self.send_message))
        return response_to(request, 200)

    async def _subscribe(self, request: SipRequest, source: Address) -> SipResponse:
        command = self._command(request)
        if isinstance(command, SipResponse):
            return command
        response, new = self.subscriptions.subscribe(request, source, command)
        if new and command.cmd_type == "Catalog":
            subscription = next(s for s in self.subscriptions.active("Catalog") if s.dialog.call_id == request.call_id)
            changes = [(entry, "ADD") for entry in self.catalog().entries]
            bodies = queries.catalog_notify(self.next_sn(), self.gb, changes, self.online)
            self._spawn(
                self._after(
                    response, self._send_all(bodies, functools.partial(self.subscriptions.notify, subscription))
                )
            )
        return response

    async def _after(self, response: SipResponse, then: Awaitable[None]) -> None:
        await asyncio.sleep(0.05)  # the 200 goes first: a NOTIFY must not overtake the dialog it belongs to
        await then

    # --- catalog changes ----------------------------------------------------------------------------

    async def _watch_catalog(self) -> None:
        while True:
            await asyncio.sleep(CATALOG_WATCH_S)
            try:
                await self._catalog_changes()
            except Exception:
                log.exception("GB/T 28181 %s: catalog notification failed", self.platform.id)

    async def _catalog_changes(self) -> None:
        now = {
            entry.gb_id: (entry, entry.camera_id is not None and self.online(entry.camera_id))
            for entry in self.catalog().entries
        }
        before, self._catalog_state = self._catalog_state, now
        if before is None:
            return
        changes: list[tuple[CatalogEntry, str]] = []
        for gb_id, (entry, online) in now.items():
            if gb_id not in before:
                changes.append((entry, "ADD"))
            elif before[gb_id][1] != online:
                changes.append((entry, "ON" if online else "OFF"))
            elif before[gb_id][0] != entry:
                changes.append((entry, "UPDATE"))
        changes += [(entry, "DEL") for gb_id, (entry, _) in before.items() if gb_id not in now]
        if not changes:
            return
        for subscription in self.subscriptions.active("Catalog"):
            bodies = queries.catalog_notify(self.next_sn(), self.gb, changes, self.online)
            await self._send_all(bodies, functools.partial(self.subscriptions.notify, subscription))
