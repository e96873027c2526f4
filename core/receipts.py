"""Receipt codes (回执码): what a person who reported a hazard without an account writes down to follow it.

Ten symbols of an alphabet with no 0/O nor 1/I, so a code copied by hand off a phone's screen reads back the
same; 32 symbols carry 5 bits each, 50 bits in all: guessing someone's code is hopeless, and what a code
shows (a state, not the report) is little. Only its hash is stored, like a session token.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 10
# What a person may type: either case, with the hyphen we print in the middle or spaces anywhere.
PATTERN = r"^[0-9A-Za-z\- ]{10,14}$"
_SEPARATORS = re.compile(r"[\s\-]")


def new_receipt() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str | None:
    """The code a person typed, in its canonical form; None when it cannot be one of ours."""
    code = _SEPARATORS.sub("", typed).upper()
    if len(code) != LENGTH or any(symbol not in ALPHABET for symbol in code):
        return None
    return code


def display(code: str) -> str:
    """Grouped for reading aloud and writing down: ABCDE-FGHJK."""
    return f"{code[:5]}-{code[5:]}"


def receipt_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()
