"""The platform's subscriptions (GB/T 28181 9.11): to our catalog, told of cameras added, removed, gone on or
offline; and to our alarms, which then go as NOTIFY in its dialog rather than as MESSAGE."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.config.uplink import Gb28181Config
from uplink.gb28181 import manscdp
from uplink.gb28181.dialog import Dialog
from uplink.gb28181.identity import Identity
from uplink.gb28181.sip.endpoint import SipEndpoint
from uplink.gb28181.sip.message import SipRequest, SipResponse, response_to
from uplink.gb28181.sip.transport import Address

DEFAULT_EXPIRES_S = 3600
MAX_EXPIRES_S = 86400
KINDS = ("Catalog", "Alarm")


@dataclass
class Subscription:
    kind: str  # Catalog | Alarm
    event: str  # the Event header as the platform wrote it, echoed in our NOTIFYs
    dialog: Dialog
    expires_at: float

    @property
    def remaining_s(self) -> int:
        return max(0, int(self.expires_at - time.time()))


class Subscriptions:
    def __init__(self, gb: Gb28181Config, identity: Callable[[], Identity], endpoint: SipEndpoint) -> None:
        self._gb = gb
        self._identity = identity
        self._endpoint = endpoint
        self._by_call: dict[str, Subscription] = {}

    def active(self, kind: str) -> list[Subscription]:
        now = time.time()
        for call_id in [c for c, s in self._by_call.items() if s.expires_at <= now]:
            del self._by_call[call_id]
        return [s for s in self._by_call.values() if s.kind == kind]

    def subscribe(self, request: SipRequest, source: Address, query: manscdp.Command) -> tuple[SipResponse, bool]:
        """Answers a SUBSCRIBE; and whether it is a new subscription (to be sent the current state)."""
        if query.cmd_type not in KINDS:
            return response_to(request, 489, "Bad Event"), False
        try:
            expires = min(int(request.header("expires") or DEFAULT_EXPIRES_S), MAX_EXPIRES_S)
        except ValueError:
            return response_to(request, 400, "Bad Request - bad Expires"), False
        event = request.header("event") or query.cmd_type
        current = self._by_call.get(request.call_id)
        if request.to_tag:  # a refresh, or the end, of one we have
            if current is None or current.dialog.local_tag != request.to_tag:
                return response_to(request, 481), False
            if expires == 0:
                del self._by_call[request.call_id]
            else:
                current.expires_at = time.time() + expires
            return self._answer(request, None, query, expires), False
        dialog, tag = Dialog.accept(request, source)
        if expires > 0:
            self._by_call[request.call_id] = Subscription(query.cmd_type, event, dialog, time.time() + expires)
        return self._answer(request, tag, query, expires), expires > 0

    def _answer(self, request: SipRequest, tag: str | None, query: manscdp.Command, expires: int) -> SipResponse:
        response = response_to(request, 200, to_tag=tag)
        response.headers += [
            ("Expires", str(expires)),
            ("Contact", self._identity().contact),
            ("Content-Type", manscdp.CONTENT_TYPE),
        ]
        response.body = manscdp.encode(
            "Response",
            [("CmdType", query.cmd_type), ("SN", query.sn), ("DeviceID", self._gb.local_id), ("Result", "OK")],
            self._gb.charset,
        )
        return response

    async def notify(self, subscription: Subscription, body: bytes, timeout: float = 10.0) -> SipResponse:
        state = f"active;expires={subscription.remaining_s}"
        request = subscription.dialog.request(
            self._identity(),
            "NOTIFY",
            body,
            manscdp.CONTENT_TYPE,
            (("Event", subscription.event), ("Subscription-State", state)),
        )
        answer = await self._endpoint.request(request, subscription.dialog.peer, timeout)
        if answer.status == 481:  # the platform forgot it
            self._by_call.pop(subscription.dialog.call_id, None)
        return answer
