"""One HTTP request to a notifier, built from a notice, and how its answer is judged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


@dataclass(frozen=True, slots=True)
class Outgoing:
    method: str
    url: str  # may carry a token or key: never logged, stored or shown
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    # A group robot answers 200 with {"errcode": 0} on success and another errcode (a bad signature, a rate
    # limit) on refusal: the status alone does not say.
    robot: bool = False


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def with_query(url: str, params: list[tuple[str, str]]) -> str:
    """`url` with `params` added to its query, each URL-encoded."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit(parts._replace(query=urlencode(query)))


def answer_problem(status: int, body: bytes, robot: bool) -> str | None:
    """Why an answer is not a delivery, or None when it is."""
    if not 200 <= status < 300:
        return f"HTTP {status}"
    if not robot:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return "the robot's answer is not JSON"
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        message = answer.get("errmsg") if isinstance(answer, dict) else None
        return f"refused by the robot: errcode {code}: {str(message)[:200]}"
    return None
