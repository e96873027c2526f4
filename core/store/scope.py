"""The caller's scope in a listing query: which institutions' rows it may see."""

from __future__ import annotations

from collections.abc import Sequence


def institutions_clause(alias: str, institutions: Sequence[str]) -> str:
    """`alias.institution_id IN (?, …)` for a non-empty list of institutions.

    A scope of several institutions filters, it must not drive the plan: the `+` keeps SQLite off that index
    (else it sorts every row in scope for a page of 100; bench/api.py); one institution may use it.
    """
    plus = "+" if len(institutions) > 1 else ""
    return f"{plus}{alias}.institution_id IN ({', '.join('?' * len(institutions))})"
