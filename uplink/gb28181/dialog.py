"""Our side of a dialog the platform started with an INVITE or a SUBSCRIBE: what our requests within it carry."""

from __future__ import annotations

from dataclasses import dataclass

from uplink.gb28181.identity import Identity
from uplink.gb28181.sip.message import SipRequest, new_tag
from uplink.gb28181.sip.transport import Address


def _uri(header: str) -> str:
    """The URI of a From, To or Contact value (`"name" <sip:…>;tag=x` → `sip:…`)."""
    if "<" in header and ">" in header:
        return header[header.index("<") + 1 : header.index(">")]
    return header.split(";")[0].strip()


@dataclass
class Dialog:
    call_id: str
    local: str  # our From in it: their To, with our tag
    remote: str  # their From, with their tag
    target: str  # the URI our requests go to: their Contact's
    peer: Address  # where the request came from, and our requests in it go
    cseq: int = 0

    @classmethod
    def accept(cls, request: SipRequest, peer: Address) -> tuple[Dialog, str]:
        """The dialog a request opens, and our tag for the To of our answers."""
        tag = new_tag()
        local = request.header("to") or ""
        if ";tag=" not in local:
            local = f"{local};tag={tag}"
        remote = request.header("from") or ""
        target = _uri(request.header("contact") or remote)
        return cls(request.call_id, local, remote, target, peer), tag

    @property
    def local_tag(self) -> str:
        return self.local.rsplit(";tag=", 1)[-1]

    def request(
        self,
        identity: Identity,
        method: str,
        body: bytes = b"",
        content: str = "",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> SipRequest:
        self.cseq += 1
        request = identity.request(method, self.target, self.local, self.remote, self.call_id, self.cseq, body, content)
        request.headers += list(headers)
        request.headers.append(("Contact", identity.contact))
        return request
