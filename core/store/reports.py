"""Public hazard reports (隐患举报): taken from anyone without a log-in, with their photos, rate-limited per client
address; triaged by the town into a case (`accepted`) or `rejected`; marked for reward once they proved true.

The rate limit counts rows of a table in the same transaction that stores the report, so neither a restart nor
two submissions at once get past it. A triage step is taken against the state read inside its transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.receipts import new_receipt, receipt_hash
from core.store.database import Database

STATES = ("received", "accepted", "rejected")


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    per_client: int = 5  # reports one client address may send within `window_s`
    window_s: float = 3600.0


class RateLimited(Exception):
    def __init__(self, retry_after_s: int, limit: int) -> None:
        super().__init__(f"too many reports from your address: at most {limit} an hour")
        self.retry_after_s = retry_after_s


class ReportStateError(Exception):
    """The triage step does not follow from the report's state (the API answers 409 with this message)."""


@dataclass(frozen=True, slots=True)
class NewPhoto:
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Photo:
    id: int
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    institution_id: str
    description: str
    place: str | None
    contact: str | None
    submitted_at: float
    state: str
    case_id: int | None
    case_state: str | None  # the state of the case it became, read with it
    triaged_at: float | None
    triaged_by: str | None
    reject_reason: str | None
    reward: bool
    reward_at: float | None
    reward_by: str | None
    reward_note: str | None
    photos: int


_COLUMNS = (
    "r.id, r.institution_id, r.description, r.place, r.contact, r.submitted_at, r.state, r.case_id,"
    " c.state AS case_state, r.triaged_at, r.triaged_by, r.reject_reason, r.reward, r.reward_at, r.reward_by,"
    " r.reward_note, (SELECT COUNT(*) FROM public_report_photos p WHERE p.report_id = r.id) AS photos"
)
_FROM = "FROM public_reports r LEFT JOIN cases c ON c.id = r.case_id"
# A client's reports within the window, newest first, as many as its share.
_RECENT = "SELECT at FROM public_report_submissions WHERE client = ? AND at > ? ORDER BY at DESC LIMIT ?"


class ReportRepository:
    def __init__(self, db: Database, policy: ReportPolicy | None = None) -> None:
        self._db = db
        self.policy = policy or ReportPolicy()

    # --- taking a report ----------------------------------------------------------------------

    def submit(
        self,
        *,
        institution_id: str,
        description: str,
        place: str | None,
        contact: str | None,
        photos: Sequence[NewPhoto],
        client: str,
        now: float | None = None,
    ) -> tuple[Report, str]:
        """Store a report with its photos; returns it and its receipt code (shown once, only its hash kept).
        RateLimited when the client address sent its share within the window: then nothing is stored."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            cur.execute("DELETE FROM public_report_submissions WHERE at <= ?", (now - self.policy.window_s,))
            self._check_rate(cur, client, now)
            while True:
                receipt = new_receipt()
                hashed = receipt_hash(receipt)
                if not cur.execute("SELECT 1 FROM public_reports WHERE receipt_hash = ?", (hashed,)).fetchone():
                    break
            cur.execute(
                "INSERT INTO public_reports (receipt_hash, institution_id, description, place, contact, submitted_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (hashed, institution_id, description, place, contact, now, now),
            )
            report_id = int(cur.lastrowid or 0)
            for photo in photos:
                cur.execute(
                    "INSERT INTO public_report_photos (report_id, content_type, size, data) VALUES (?, ?, ?, ?)",
                    (report_id, photo.content_type, len(photo.data), photo.data),
                )
            cur.execute("INSERT INTO public_report_submissions (client, at) VALUES (?, ?)", (client, now))
            return _get(cur, report_id), receipt

    def check_rate(self, client: str, now: float | None = None) -> None:
        """RateLimited when `client` may send no report now: asked before the photos are checked, so a client
        over its share costs no decoding (`submit` asks again, in its transaction)."""
        now = time.time() if now is None else now
        self._refuse_over_share(self._db.read(_RECENT, self._recent_params(client, now)), now)

    def _check_rate(self, cur: sqlite3.Cursor, client: str, now: float) -> None:
        self._refuse_over_share(cur.execute(_RECENT, self._recent_params(client, now)).fetchall(), now)

    def _recent_params(self, client: str, now: float) -> tuple[object, ...]:
        return (client, now - self.policy.window_s, self.policy.per_client)

    def _refuse_over_share(self, recent: Sequence[sqlite3.Row], now: float) -> None:
        policy = self.policy
        if len(recent) >= policy.per_client:
            # Free again once the oldest report of the window leaves it.
            retry = float(recent[-1]["at"]) + policy.window_s - now
            raise RateLimited(max(1, int(retry + 0.999)), policy.per_client)

    # --- reading ------------------------------------------------------------------------------

    def get(self, report_id: int) -> Report | None:
        rows = self._db.read(f"SELECT {_COLUMNS} {_FROM} WHERE r.id = ?", (report_id,))
        return _report(rows[0]) if rows else None

    def by_receipt(self, receipt: str) -> Report | None:
        """The report of a canonical receipt code (core.receipts.normalise)."""
        rows = self._db.read(f"SELECT {_COLUMNS} {_FROM} WHERE r.receipt_hash = ?", (receipt_hash(receipt),))
        return _report(rows[0]) if rows else None

    def find(
        self, institutions: Sequence[str], state: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[Report]:
        """Reports of `institutions` (the caller's scope), newest first."""
        if not institutions:
            return []
        where = [f"r.institution_id IN ({', '.join('?' * len(institutions))})"]
        params: list[object] = list(institutions)
        if state is not None:
            where.append("r.state = ?")
            params.append(state)
        if before_id is not None:
            where.append("r.id < ?")
            params.append(before_id)
        params.append(limit)
        rows = self._db.read(
            f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(where)} ORDER BY r.id DESC LIMIT ?", tuple(params)
        )
        return [_report(row) for row in rows]

    def photos(self, report_id: int) -> list[Photo]:
        rows = self._db.read(
            "SELECT id, content_type, size FROM public_report_photos WHERE report_id = ? ORDER BY id", (report_id,)
        )
        return [Photo(int(r["id"]), r["content_type"], int(r["size"])) for r in rows]

    def photo_data(self, report_id: int, photo_id: int) -> tuple[str, bytes] | None:
        rows = self._db.read(
            "SELECT content_type, data FROM public_report_photos WHERE id = ? AND report_id = ?", (photo_id, report_id)
        )
        return (rows[0]["content_type"], bytes(rows[0]["data"])) if rows else None

    def case_opened_for(self, report_id: int) -> int | None:
        """A case already opened from this report: an acceptance cut short between opening the case and
        marking the report is finished with it rather than opening a second."""
        rows = self._db.read(
            "SELECT id FROM cases WHERE source = 'public_report' AND source_id = ? ORDER BY id LIMIT 1",
            (str(report_id),),
        )
        return int(rows[0]["id"]) if rows else None

    # --- triage -------------------------------------------------------------------------------

    def accepted(self, report_id: int, case_id: int, by: str, now: float | None = None) -> Report:
        now = time.time() if now is None else now
        with self._db.write() as cur:
            _expect(cur, report_id, "received", "accepted")
            cur.execute(
                "UPDATE public_reports SET state = 'accepted', case_id = ?, triaged_at = ?, triaged_by = ?,"
                " updated_at = ? WHERE id = ?",
                (case_id, now, by, now, report_id),
            )
            return _get(cur, report_id)

    def rejected(self, report_id: int, reason: str, by: str, now: float | None = None) -> Report:
        now = time.time() if now is None else now
        with self._db.write() as cur:
            _expect(cur, report_id, "received", "rejected")
            cur.execute(
                "UPDATE public_reports SET state = 'rejected', reject_reason = ?, triaged_at = ?, triaged_by = ?,"
                " updated_at = ? WHERE id = ?",
                (reason, now, by, now, report_id),
            )
            return _get(cur, report_id)

    def rewarded(self, report_id: int, note: str | None, by: str, now: float | None = None) -> Report:
        """Marked for reward: it was accepted and its case verified (the hazard was real and put right)."""
        now = time.time() if now is None else now
        with self._db.write() as cur:
            report = _get(cur, report_id)
            if report.reward:
                raise ReportStateError(f"report {report_id} is already marked for reward")
            if report.state != "accepted" or report.case_state != "verified":
                now_is = report.state if report.case_state is None else f"{report.state}, its case {report.case_state}"
                raise ReportStateError(
                    f"report {report_id} is {now_is}: a reward needs a report whose case was verified"
                )
            cur.execute(
                "UPDATE public_reports SET reward = 1, reward_at = ?, reward_by = ?, reward_note = ?, updated_at = ?"
                " WHERE id = ?",
                (now, by, note, now, report_id),
            )
            return _get(cur, report_id)


def _expect(cur: sqlite3.Cursor, report_id: int, state: str, action: str) -> None:
    row = cur.execute("SELECT state FROM public_reports WHERE id = ?", (report_id,)).fetchone()
    if row is None:
        raise LookupError(f"no report {report_id}")
    if row["state"] != state:
        raise ReportStateError(f"report {report_id} is {row['state']}: only a {state} report can be {action}")


def _get(cur: sqlite3.Cursor, report_id: int) -> Report:
    row = cur.execute(f"SELECT {_COLUMNS} {_FROM} WHERE r.id = ?", (report_id,)).fetchone()
    if row is None:
        raise LookupError(f"no report {report_id}")
    return _report(row)


def _report(row: sqlite3.Row) -> Report:
    return Report(
        id=int(row["id"]),
        institution_id=row["institution_id"],
        description=row["description"],
        place=row["place"],
        contact=row["contact"],
        submitted_at=float(row["submitted_at"]),
        state=row["state"],
        case_id=row["case_id"],
        case_state=row["case_state"],
        triaged_at=row["triaged_at"],
        triaged_by=row["triaged_by"],
        reject_reason=row["reject_reason"],
        reward=bool(row["reward"]),
        reward_at=row["reward_at"],
        reward_by=row["reward_by"],
        reward_note=row["reward_note"],
        photos=int(row["photos"]),
    )
