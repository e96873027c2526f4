"""Registration with the upper platform (GB/T 28181 9.1): REGISTER answered by digest (with or without qop),
refreshed before it expires, kept alive by Keepalive MESSAGEs, registered again where the platform stops
answering them (N misses) or refuses one (a 4xx: it forgot us), and withdrawn (`Expires: 0`) on shutdown.

A refusal (a wrong password) or a platform that does not answer is tried again after a back-off that grows to
the configured longest; never in a fast loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from uplink.gb28181 import manscdp
from uplink.gb28181.identity import Identity
from uplink.gb28181.sip.digest import DigestError, authorization, parse_challenge
from uplink.gb28181.sip.endpoint import SipEndpoint, SipTimeout
from uplink.gb28181.sip.message import SipRequest, SipResponse, new_call_id, new_tag
from uplink.gb28181.sip.transport import Address

log = logging.getLogger(__name__)

RegistrationState = Literal["registering", "registered", "refused", "unreachable", "stopped"]
REQUEST_TIMEOUT_S = 10.0
UNREGISTER_TIMEOUT_S = 3.0


class Refused(Exception):
    """The platform will not register us as we are; the message says why."""


@dataclass(frozen=True, slots=True)
class RegistrationStatus:
    state: RegistrationState
    reason: str | None
    since: float
    registered_at: float | None = None
    expires_at: float | None = None
    last_keepalive_at: float | None = None  # when the platform last answered one
    keepalive_misses: int = 0
    attempts: int = 0  # REGISTER exchanges since the start


class Registration:
    def __init__(self, endpoint: SipEndpoint, identity: Identity, server: Address, next_sn: Callable[[], int]) -> None:
        self._endpoint = endpoint
        self._identity = identity
        self._gb = identity.gb
        self._server = server
        self._next_sn = next_sn
        self._call_id = new_call_id(identity.local[0])
        self._tag = new_tag()
        self._cseq = 0
        self._message_cseq = 0
        self.registered = asyncio.Event()
        self.status = RegistrationStatus("registering", None, time.time())

    def _set(self, state: RegistrationState, reason: str | None = None, **changes: object) -> None:
        if state != self.status.state:
            changes["since"] = time.time()
        self.status = replace(self.status, state=state, reason=reason, **changes)  # type: ignore[arg-type]
        if state == "registered":
            self.registered.set()
        else:
            self.registered.clear()

    async def run(self) -> None:
        """Register and keep registered until cancelled."""
        failures = 0
        backoff = self._gb.register_backoff_s
        while True:
            try:
                granted = await self._register(self._gb.expires_s)
            except (Refused, DigestError) as error:
                self._set("refused", str(error))
            except (SipTimeout, OSError) as error:
                self._set("unreachable", str(error) or type(error).__name__)
            else:
                failures = 0
                now = time.time()
                why = self.status.reason  # what made us register again, shown until the next loss
                again = f"registered again after: {why}" if why and not why.startswith("registered again") else why
                self._set("registered", again, registered_at=now, expires_at=now + granted, keepalive_misses=0)
                log.info("GB/T 28181 %s: registered with %s for %d s", self._gb.local_id, self._server, granted)
                lost = await self._keep_alive(refresh_after=max(granted - 30, granted * 0.5))
                if lost is not None:
                    log.warning("GB/T 28181 %s: %s; registering again", self._gb.local_id, lost)
                    self._set("registering", lost)
                continue
            wait = backoff[min(failures, len(backoff) - 1)]
            failures += 1
            log.warning("GB/T 28181 %s: %s; trying again in %g s", self._gb.local_id, self.status.reason, wait)
            await asyncio.sleep(wait)

    async def _keep_alive(self, refresh_after: float) -> str | None:
        """Keepalives until the registration is due for refresh (None) or the platform is lost (why)."""
        refresh_at = time.monotonic() + refresh_after
        misses = 0
        while True:
            wait = min(self._gb.keepalive_s, refresh_at - time.monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
            if time.monotonic() >= refresh_at:
                return None
            body = manscdp.encode(
                "Notify",
                [("CmdType", "Keepalive"), ("SN", self._next_sn()), ("DeviceID", self._gb.local_id), ("Status", "OK")],
                self._gb.charset,
            )
            try:
                answer = await self.send(body, timeout=min(REQUEST_TIMEOUT_S, self._gb.keepalive_s))
            except (SipTimeout, OSError):
                misses += 1
                self.status = replace(self.status, keepalive_misses=misses)
                if misses >= self._gb.keepalive_misses:
                    return f"{misses} keepalives unanswered"
                continue
            if 200 <= answer.status < 300:
                misses = 0
                self.status = replace(self.status, keepalive_misses=0, last_keepalive_at=time.time())
            elif 400 <= answer.status < 500:
                return f"a keepalive refused with {answer.status} {answer.reason}"

    async def send(self, body: bytes, timeout: float = REQUEST_TIMEOUT_S) -> SipResponse:
        """A MANSCDP MESSAGE to the platform."""
        self._message_cseq += 1
        request = self._identity.message(body, self._message_cseq)
        return await self._endpoint.request(request, self._server, timeout)

    async def _register(self, expires: int, timeout: float = REQUEST_TIMEOUT_S) -> int:
        """One REGISTER exchange (answering a challenge); the expiry the platform granted."""
        if self.status.state != "registered":
            self._set("registering", self.status.reason)
        answer = await self._exchange(expires, None, timeout)
        if answer.status in (401, 407):
            header = answer.header("www-authenticate" if answer.status == 401 else "proxy-authenticate")
            if header is None:
                raise Refused(f"{answer.status} without a challenge")
            challenge = parse_challenge(header)
            uri = self._identity.server_uri
            credentials = authorization(
                challenge, "REGISTER", uri, self._gb.local_id, self._gb.password.get_secret_value()
            )
            answer = await self._exchange(expires, credentials, timeout, proxy=answer.status == 407)
            if answer.status in (401, 403, 407):
                raise Refused(
                    f"the platform refused our id and password (wrong password?): {answer.status} {answer.reason}"
                )
        if answer.status == 423 and expires:  # Interval Too Brief: ask again for what it allows
            minimum = int(answer.header("min-expires") or 0)
            if minimum > expires:
                return await self._register(minimum, timeout)
        if not 200 <= answer.status < 300:
            raise Refused(f"REGISTER answered {answer.status} {answer.reason}")
        try:
            return int(answer.header("expires") or expires)
        except ValueError:
            return expires

    async def _exchange(
        self, expires: int, credentials: str | None, timeout: float, proxy: bool = False
    ) -> SipResponse:
        self._cseq += 1
        identity = self._identity
        request: SipRequest = identity.request(
            "REGISTER",
            identity.server_uri,
            f"<{identity.aor}>;tag={self._tag}",
            f"<{identity.aor}>",
            self._call_id,
            self._cseq,
        )
        request.headers += [("Contact", identity.contact), ("Expires", str(expires))]
        if credentials is not None:
            request.headers.append(("Proxy-Authorization" if proxy else "Authorization", credentials))
        self.status = replace(self.status, attempts=self.status.attempts + 1)
        return await self._endpoint.request(request, self._server, timeout)

    async def unregister(self) -> None:
        """Withdraw the registration (best effort, briefly): the platform shows us offline at once."""
        if self.status.state != "registered":
            self._set("stopped")
            return
        try:
            await asyncio.wait_for(self._register(0, UNREGISTER_TIMEOUT_S), UNREGISTER_TIMEOUT_S * 2)
        except (Refused, DigestError, SipTimeout, OSError, TimeoutError) as error:
            log.info("GB/T 28181 %s: unregistering: %s", self._gb.local_id, error or type(error).__name__)
        self._set("stopped")
