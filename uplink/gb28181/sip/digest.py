"""HTTP digest authentication as SIP uses it (RFC 2617 / RFC 8760): the answer to a REGISTER's 401 challenge,
with `qop=auth` where the platform offers it and the RFC 2069 form where it does not."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_PARAM = re.compile(r'([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class DigestError(ValueError):
    """A challenge we cannot answer; the message says why."""


@dataclass(frozen=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None


def parse_challenge(header: str) -> Challenge:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"the platform asks for {scheme or 'nothing'} authentication, not Digest")
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(rest)}
    if "nonce" not in params:
        raise DigestError("the challenge has no nonce")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in _HASHES:
        raise DigestError(f"digest algorithm {algorithm} is not supported")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    if qop and "auth" not in qop:
        raise DigestError(f"digest qop {','.join(qop)} is not supported")
    return Challenge(params.get("realm", ""), params["nonce"], algorithm, qop, params.get("opaque"))


def _hex(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode("utf-8")).hexdigest()


def digest_response(
    challenge: Challenge, method: str, uri: str, username: str, password: str, nc: int = 1, cnonce: str | None = None
) -> tuple[str, str | None]:
    """The `response` value (and the cnonce used, where qop applies)."""
    ha1 = _hex(challenge.algorithm, f"{username}:{challenge.realm}:{password}")
    ha2 = _hex(challenge.algorithm, f"{method}:{uri}")
    if not challenge.qop:
        return _hex(challenge.algorithm, f"{ha1}:{challenge.nonce}:{ha2}"), None
    cnonce = cnonce or secrets.token_hex(8)
    return _hex(challenge.algorithm, f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:auth:{ha2}"), cnonce


def authorization(challenge: Challenge, method: str, uri: str, username: str, password: str, nc: int = 1) -> str:
    """The Authorization header's value answering `challenge`."""
    response, cnonce = digest_response(challenge, method, uri, username, password, nc)
    parts = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if cnonce is not None:
        parts += ["qop=auth", f"nc={nc:08x}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)
