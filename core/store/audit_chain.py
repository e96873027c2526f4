"""The audit log's hash chain: each row's hash covers the previous row's hash and this row's fields, so a row
changed, removed or inserted anywhere but at the end breaks every link after it.

The fields are written as a JSON array in a fixed order (floats as Python writes them, which reads back exactly
from SQLite's REAL), so a verifier in any language can recompute the chain from an export of the table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

# The previous hash of the first row: there is none, and 64 zeros say so in the hash's own shape.
GENESIS = "0" * 64

# The columns the hash covers, in this order.
CHAINED_COLUMNS = (
    "id",
    "at",
    "user_id",
    "username",
    "action",
    "target",
    "detail",
    "client",
    "range_start",
    "range_end",
)

Field = str | int | float | None


def canonical(fields: Sequence[Field]) -> bytes:
    """One row's fields (in CHAINED_COLUMNS order) as the bytes the hash covers."""
    if len(fields) != len(CHAINED_COLUMNS):
        raise ValueError(f"an audit row has {len(CHAINED_COLUMNS)} chained fields, not {len(fields)}")
    return json.dumps(list(fields), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def link(previous: str, fields: Sequence[Field]) -> str:
    """The hash of a row whose predecessor's hash is `previous` (GENESIS for the first row)."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(fields)).hexdigest()
