"""Who we are to one upper platform, and the requests we start towards it (outside any dialog)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config.uplink import Gb28181Config
from core.version import VERSION
from uplink.gb28181.manscdp import CONTENT_TYPE
from uplink.gb28181.sip.message import SipRequest, new_branch, new_call_id, new_tag

USER_AGENT = f"vms/{VERSION}"
MAX_FORWARDS = "70"


@dataclass(frozen=True)
class Identity:
    gb: Gb28181Config
    local: tuple[str, int]  # where our SIP socket listens (the port the OS gave, where configured 0)

    @property
    def aor(self) -> str:
        return f"sip:{self.gb.local_id}@{self.gb.realm}"

    @property
    def server_uri(self) -> str:
        return f"sip:{self.gb.server_id}@{self.gb.realm}"

    @property
    def contact(self) -> str:
        return f"<sip:{self.gb.local_id}@{self.local[0]}:{self.local[1]}>"

    def via(self) -> str:
        return f"SIP/2.0/{self.gb.transport.upper()} {self.local[0]}:{self.local[1]};rport;branch={new_branch()}"

    def request(
        self, method: str, uri: str, from_: str, to: str, call_id: str, cseq: int, body: bytes = b"", content: str = ""
    ) -> SipRequest:
        request = SipRequest(method=method, uri=uri)
        request.headers = [
            ("Via", self.via()),
            ("From", from_),
            ("To", to),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {method}"),
            ("Max-Forwards", MAX_FORWARDS),
            ("User-Agent", USER_AGENT),
        ]
        if body:
            request.headers.append(("Content-Type", content))
            request.body = body
        return request

    def message(self, body: bytes, cseq: int) -> SipRequest:
        """A MANSCDP MESSAGE to the platform (a response to its query, a keepalive, an alarm)."""
        return self.request(
            "MESSAGE",
            self.server_uri,
            f"<{self.aor}>;tag={new_tag()}",
            f"<{self.server_uri}>",
            new_call_id(self.local[0]),
            cseq,
            body,
            CONTENT_TYPE,
        )
