"""Cases, violations and statistics over 1,000,000 rows: the API of a real `vms run` process on a generated year.

- **Data**: a store with N violations and N cases (1,000,000 by default) spread over the past year, 1 bureau,
  10 towns, 100 institutions, 400 cameras (gate, duty room, evacuation route, kitchen each), realistic kinds,
  states, severities and deadlines; the violations' `case_violations` links (a tenth of the violations join the
  case of an earlier one); snapshots for the last 30 days' violations; camera health samples (one a minute per
  camera over `--health-days`); the recordings index over each camera's retention (hour-long segments, empty
  files so that start-up reconciliation keeps them); a year of inspections. Written straight into the SQLite file
  after `Store.open` has migrated it, cached under `bench/.media/` keyed by the parameters and the migrations, and
  copied for each run (the service writes to it). The health samples are written minute by minute for every camera,
  as the service writes them (a camera's samples spread over the table).
- **Idle**: the service's CPU with no request (its 400 cameras in back-off) and its threads, once the start-up's
  violations are taken in.
- **Listing and filtering**: 20 concurrent clients (asyncio + httpx) issue a mix of twelve `GET /api/cases` and
  `GET /api/violations` queries (100 rows each) as the bureau's administrator without pause (a closed loop: 20
  requests always in flight) and with pauses of 1 s on average (before the first query too), as a town officer,
  and one client alone (each kind 5 times); beside them, the same SQL (the store's own repository calls, so the
  very same statements) from 20 threads, each its own SQLite connection, and one at a time: the floor. Latency per
  query kind (p50, p95, p99), the ratio of the API's to the floor's, and EXPLAIN QUERY PLAN of each statement; and
  the floor again with the scope's list of institutions kept out of the plan (`+institution_id IN (…)`), the change
  proposed in docs/performance.md.
- **A year's report of one town**: `GET /api/statistics?unit=<town>&period=<year>` and its XLSX export, cold (the
  database file dropped from the page cache with posix_fadvise first) and warm.
- **Dashboard first paint**: real Chromium opening 首页 (`/ui/#/home`) logged in: first paint and first
  contentful paint (`performance.getEntriesByType('paint')`) and the time until its units table and its three
  charts are drawn, from navigation start.

    .venv/bin/python bench/api.py [--rows 1000000] [--seconds 25] [--clients 20] [--write]
    .venv/bin/python bench/api.py --rows 20000 --health-days 1 --seconds 5      # a smoke run

Figures go to docs/performance.md ("Cases, violations and statistics over 1,000,000 rows").
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.roles import Role
from core.store import Store
from core.store.cases import CaseFilter
from core.store.violations import ViolationFilter
from media.segment_path import segment_path
from tests.running_service import ADMIN_PASSWORD, RunningService

MEDIA = ROOT / "bench" / ".media"
RESULTS = ROOT / "bench" / "results"
FORMAT = 5  # bump when the generated data changes
DAY = 86400.0
YEAR = 365 * DAY
BEIJING = dt.timezone(dt.timedelta(hours=8))
TARGET_P95_MS = 50.0
TARGET_REPORT_S = 5.0
TARGET_PAINT_S = 1.0
OFFICER = "bench-officer"
OFFICER_PASSWORD = "bench-officer-password"

ROLES = ("gate", "duty_room", "evacuation_route", "kitchen")
ROLE_NAMES = {"gate": "大门", "duty_room": "值班室", "evacuation_route": "一楼疏散通道", "kitchen": "厨房"}
TAMPER = [("covered_lens", 3), ("defocus", 2), ("camera_moved", 1), ("video_loss", 4)]
KINDS_BY_ROLE: dict[str, list[tuple[str, int]]] = {
    "gate": [("fall", 2), *TAMPER],
    "duty_room": [("duty_absent", 30), ("fall", 2), *TAMPER],
    "evacuation_route": [("blocked_route", 30), ("fall", 3), *TAMPER],
    "kitchen": [
        ("after_hours_presence", 8),
        ("suspected_rodents", 6),
        ("no_chef_hat", 10),
        ("no_mask", 10),
        ("smoking", 3),
        ("too_dark", 3),
        *TAMPER,
    ],
}
SEVERITY = {
    "fall": "urgent",
    "duty_absent": "major",
    "blocked_route": "major",
    "after_hours_presence": "major",
    "suspected_rodents": "major",
    "smoking": "major",
    "covered_lens": "major",
    "camera_moved": "major",
    "video_loss": "major",
    "no_chef_hat": "minor",
    "no_mask": "minor",
    "defocus": "minor",
    "too_dark": "minor",
}
ZONES = {
    "blocked_route": ("通道地面", "[[0.3, 0.45], [0.7, 0.45], [0.95, 1.0], [0.05, 1.0]]"),
    "duty_absent": ("值班台", "[[0.2, 0.3], [0.8, 0.3], [0.8, 1.0], [0.2, 1.0]]"),
}
HAZARDS = [
    ("gas_alarm_missing", "major"),
    ("electrical_fire_alarm_missing", "major"),
    ("sprinklers_faulty", "major"),
    ("evacuation_route_blocked", "urgent"),
    ("kitchen_camera_fault", "minor"),
    ("other_hazard", "minor"),
]
DEADLINE_H = {"urgent": 24, "major": 72, "minor": 168}
RETENTION_H = {"kitchen": 168}
RUNNING_STATES = ("open", "acknowledged", "rectifying")


# --- the organisation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Org:
    towns: list[str]
    institutions: dict[str, str]  # institution -> town
    cameras: list[tuple[str, str, str]]  # (camera, institution, role)


def organisation(towns: int, institutions: int, cameras: int) -> Org:
    town_ids = [f"t{t + 1:02d}" for t in range(towns)]
    inst = {f"{town_ids[i % towns]}-i{i // towns + 1:02d}": town_ids[i % towns] for i in range(institutions)}
    inst_ids = sorted(inst)
    cams = []
    for c in range(cameras):
        institution = inst_ids[c % institutions]
        role = ROLES[(c // institutions) % len(ROLES)]
        n = c // (institutions * len(ROLES))
        cams.append((f"{institution}-{role}" + (f"-{n + 1}" if n else ""), institution, role))
    return Org(town_ids, inst, sorted(cams))


def service_config(org: Org) -> dict[str, Any]:
    """Every camera enabled (so that the statistics count their health and recordings, as they would), its source
    a closed port of this machine: refused at once, tried again only after an hour, so that ingest costs nothing."""
    towns = []
    for t, town in enumerate(org.towns):
        institutions = [
            {"id": i, "name": f"第{t + 1}镇第{i[-2:]}养老院", "kind": "elderly_care"}
            for i in sorted(org.institutions)
            if org.institutions[i] == town
        ]
        towns.append({"id": town, "name": f"第{t + 1}镇", "kind": "town", "institutions": institutions})
    return {
        "organisation": {"id": "bench", "name": "基准市民政局", "towns": towns},
        "ingest": {"open_timeout_s": 1, "backoff_s": [3600]},
        "cameras": [
            {
                "id": cam,
                "name": ROLE_NAMES[role],
                "institution": inst,
                "role": role,
                "source": {"url": f"rtsp://127.0.0.1:9/{cam}"},
            }
            for cam, inst, role in org.cameras
        ],
    }


# --- the data ----------------------------------------------------------------------------------------------------


@dataclass
class Params:
    rows: int
    towns: int
    institutions: int
    cameras: int
    health_days: int

    def key(self) -> str:
        """The parameters, and the schema: a new migration (an index) makes new data."""
        schema = hashlib.sha256()
        for path in sorted((ROOT / "core" / "store" / "migrations").glob("*.sql")):
            schema.update(path.name.encode() + path.read_bytes())
        return (
            f"api-v{FORMAT}-r{self.rows}-t{self.towns}-i{self.institutions}-c{self.cameras}-h{self.health_days}"
            f"-s{schema.hexdigest()[:8]}"
        )


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(params: Params, folder: Path) -> dict[str, Any]:
    """The data directory (`folder/data`: vms.db and recordings/) and what was generated."""
    began = time.monotonic()
    rng = random.Random(20261202)
    org = organisation(params.towns, params.institutions, params.cameras)
    data = folder / "data"
    db_path = data / "vms.db"
    # The administrator and the town officer with real password hashes; the rest directly.
    store = Store.open(db_path)
    # The service creates its administrator only in an empty users table: made here, as it would.
    store.users.create("admin", ADMIN_PASSWORD, "bench", role=Role.ADMIN)
    store.users.create(OFFICER, OFFICER_PASSWORD, org.towns[0], role=Role.TOWN_OFFICER)
    store.db.close()

    conn = sqlite3.connect(str(db_path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    now = time.time()
    start = now - YEAR
    # Indexes dropped while loading and made again after, as the migrations (and 0013, if any) defined them.
    tables = ("violations", "violation_snapshots", "cases", "case_violations", "camera_health_samples",
              "recording_segments", "inspections")  # fmt: skip
    indexes = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({', '.join('?' * len(tables))})",
        tables,
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")

    # Users: a safety manager per institution (never logs in), the cases' assignee.
    managers = {}
    for inst in sorted(org.institutions):
        cur = conn.execute(
            "INSERT INTO users (username, display_name, password_hash, org_unit_id, role, created_at)"
            " VALUES (?, ?, 'x', ?, 'safety_manager', ?)",
            (f"sm-{inst}", f"安全管理员 {inst}", inst, start),
        )
        managers[inst] = int(cur.lastrowid or 0)
    for cam, inst, role in org.cameras:
        conn.execute(
            "INSERT INTO cameras (id, institution_id, name, role, enabled, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)",
            (cam, inst, ROLE_NAMES[role], role, start, start),
        )

    # Violations and cases, in time order (ids follow time, as they do in the service).
    weights = [rng.paretovariate(1.2) for _ in org.cameras]
    picks = rng.choices(range(len(org.cameras)), weights=weights, k=params.rows)
    kinds_of = {role: ([k for k, _ in ks], [w for _, w in ks]) for role, ks in KINDS_BY_ROLE.items()}
    snapshot = b"\xff\xd8\xff\xe0" + bytes(1020)  # a placeholder JPEG body of 1 KiB
    last_case: dict[tuple[str, str], int] = {}
    violation_rows: list[tuple[Any, ...]] = []
    case_rows: list[tuple[Any, ...]] = []
    link_rows: list[tuple[Any, ...]] = []
    snapshot_rows: list[tuple[Any, ...]] = []
    counts = {"violations": 0, "cases": 0, "links": 0, "snapshots": 0}
    case_id = 0

    def flush() -> None:
        conn.executemany(
            "INSERT INTO violations (id, camera_id, institution_id, type, zone, zone_points, state, onset_at,"
            " started_at, ended_at, end_reason, confidence, bbox, clip_start, clip_end, clip_status, clip_ref,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            violation_rows,
        )
        conn.executemany(
            "INSERT INTO cases (id, institution_id, camera_id, kind, zone, severity, description, source, source_id,"
            " state, assignee_id, opened_at, opened_by, deadline_at, rectifying_at, closed_at, dismiss_reason,"
            " overdue_at, escalated_at, escalated_to, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            case_rows,
        )
        conn.executemany("INSERT INTO case_violations (violation_id, case_id, linked_at) VALUES (?, ?, ?)", link_rows)
        conn.executemany("INSERT INTO violation_snapshots (violation_id, jpeg) VALUES (?, ?)", snapshot_rows)
        counts["violations"] += len(violation_rows)
        counts["cases"] += len(case_rows)
        counts["links"] += len(link_rows)
        counts["snapshots"] += len(snapshot_rows)
        for rows in (violation_rows, case_rows, link_rows, snapshot_rows):
            rows.clear()

    def new_case(
        at: float, inst: str, cam: str | None, kind: str, zone: str | None, severity: str, source: str, ref: str
    ) -> int:
        nonlocal case_id
        case_id += 1
        age = now - at
        deadline = at + DEADLINE_H[severity] * 3600
        closed_share = 0.98 * min(1.0, age / (7 * DAY))
        rectifying_at = closed_at = dismiss = overdue_at = escalated_to = None
        if rng.random() < closed_share:
            state = "verified" if rng.random() < 0.84 else "dismissed"
        else:
            state = rng.choices(("open", "acknowledged", "rectifying", "rectified"), (3, 2, 3, 1))[0]
        if state in ("rectifying", "rectified", "verified"):
            rectifying_at = min(now, at + rng.uniform(0.5, 24) * 3600)
        if state == "verified":
            closed_at = min(now, (rectifying_at or at) + rng.uniform(1, 96) * 3600)
        elif state == "dismissed":
            closed_at = min(now, at + rng.uniform(0.2, 48) * 3600)
            dismiss = "误报：画面中为正常作业"
        if (state in RUNNING_STATES and deadline < now) or (closed_at is not None and closed_at > deadline):
            overdue_at = deadline + 30
            escalated_to = org.institutions[inst]
        updated = max(x for x in (at, rectifying_at, closed_at, overdue_at) if x is not None)
        opened_by = None if source == "violation" else "inspector"
        description = None if source == "violation" else "现场检查发现的隐患，需限期整改"
        case_rows.append(
            (case_id, inst, cam, kind, zone, severity, description, source, ref, state, managers[inst], at,
             opened_by, deadline, rectifying_at, closed_at, dismiss, overdue_at, overdue_at, escalated_to, updated)
        )  # fmt: skip
        return case_id

    span = now - 600 - start  # the last 10 minutes: a few violations still running
    for vid in range(1, params.rows + 1):
        at = start + span * (vid - 1 + rng.random()) / params.rows
        cam, inst, role = org.cameras[picks[vid - 1]]
        names, kind_weights = kinds_of[role]
        kind = rng.choices(names, kind_weights)[0]
        zone, points = ZONES.get(kind, (None, None))
        active = now - at < 1200 and rng.random() < 0.5
        ended = None if active else at + rng.uniform(20, 1800)
        violation_rows.append(
            (vid, cam, inst, kind, zone, points, "active" if active else "ended", at - 60, at, ended,
             None if active else "cleared", round(rng.uniform(0.5, 0.99), 3), "[0.31, 0.52, 0.22, 0.3]", at - 30,
             None if active else ended + 10, "waiting" if active else "ready", None, ended or at)
        )  # fmt: skip
        if now - at < 30 * DAY:
            snapshot_rows.append((vid, snapshot))
        # Cases: a tenth of the violations join the case of an earlier one of the same camera and kind; as many
        # cases again come from spot checks and public reports.
        joined = last_case.get((cam, kind))
        if joined is not None and rng.random() < 0.1:
            link_rows.append((vid, joined, at))
        else:
            cid = new_case(at, inst, cam, kind, zone, SEVERITY[kind], "violation", str(vid))
            last_case[(cam, kind)] = cid
            link_rows.append((vid, cid, at))
        if rng.random() < 0.1:
            hazard, severity = rng.choice(HAZARDS)
            source = "spot_check" if rng.random() < 0.7 else "public_report"
            hazard_inst = org.cameras[rng.randrange(len(org.cameras))][1]
            new_case(at, hazard_inst, None, hazard, None, severity, source, str(vid))
        if len(violation_rows) >= 50_000:
            flush()
    flush()

    # Camera health: one sample a minute over the last `health_days`, outages now and then; written minute by
    # minute for every camera, as the service writes them, so that a camera's samples lie spread over the table.
    def samples() -> Iterator[tuple[Any, ...]]:
        first = int((now - params.health_days * DAY) // 60) * 60
        offline_until = dict.fromkeys((cam for cam, _, _ in org.cameras), 0.0)
        for at in range(first, int(now), 60):
            for cam, _, _ in org.cameras:
                if at >= offline_until[cam] and rng.random() < 0.0004:
                    offline_until[cam] = at + rng.uniform(300, 7200)
                online = at >= offline_until[cam]
                yield (cam, float(at), "online" if online else "offline", 25.0 if online else 0.0,
                       4.0e6 if online else 0.0, 0, 0.04 if online else None)  # fmt: skip

    health = 0
    for batch in _chunks(samples()):
        conn.executemany(
            "INSERT INTO camera_health_samples (camera_id, at, state, fps, bitrate_bps, reconnects,"
            " last_packet_age_s) VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        health += len(batch)

    # Recordings over each camera's retention: hour-long segments (the index is what the statistics read), a few
    # hours missing; each an empty file, so that start-up reconciliation keeps its row.
    recordings = data / "recordings"
    segments = 0
    for cam, _, role in org.cameras:
        hours = RETENTION_H.get(role, 24)
        first = (int(now // 3600) - hours) * 3600
        rows = []
        for h in range(hours):
            if rng.random() < 0.03:
                continue
            begin = float(first + h * 3600)
            path = segment_path(cam, begin)
            (recordings / path).parent.mkdir(parents=True, exist_ok=True)
            (recordings / path).touch()
            rows.append((cam, path, begin, begin + 3600, 1_800_000_000, 1200, "h264", 1920, 1080, "bench", "0.000",
                         "closed"))  # fmt: skip
        conn.executemany(
            "INSERT INTO recording_segments (camera_id, path, start_ts, end_ts, size_bytes, init_size, codec, width,"
            " height, params, keyframes, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        segments += len(rows)

    # Inspections: each institution monthly by its town, each town quarterly by the bureau, most of them done.
    inspections = 0
    day = dt.datetime.fromtimestamp(start, BEIJING).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while day.timestamp() < now:
        month = f"{day:%Y-%m}"
        for inst in sorted(org.institutions):
            if rng.random() < 0.9:
                at = day.timestamp() + rng.uniform(0, 20) * DAY
                if at < now:
                    conn.execute(
                        "INSERT INTO inspections (unit_id, level, period, mode, inspector, started_at, finished_at)"
                        " VALUES (?, 'institution', ?, 'on_site', 'town officer', ?, ?)",
                        (inst, month, at, at + 3600),
                    )
                    inspections += 1
        if day.month in (1, 4, 7, 10):
            for town in org.towns:
                at = day.timestamp() + rng.uniform(0, 60) * DAY
                if at < now:
                    conn.execute(
                        "INSERT INTO inspections (unit_id, level, period, mode, inspector, started_at, finished_at)"
                        " VALUES (?, 'town', ?, 'remote', 'inspector', ?, ?)",
                        (town, f"{day.year}-Q{(day.month - 1) // 3 + 1}", at, at + 3600),
                    )
                    inspections += 1
        day = (day + dt.timedelta(days=32)).replace(day=1)

    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return {
        "generated_at": now,
        "generated_utc": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "seconds": round(time.monotonic() - began, 1),
        "violations": counts["violations"],
        "cases": counts["cases"],
        "case_violations": counts["links"],
        "snapshots": counts["snapshots"],
        "health_samples": health,
        "recording_segments": segments,
        "inspections": inspections,
        "db_bytes": db_path.stat().st_size,
        "max_case_id": case_id,
    }


def cached_data(params: Params) -> tuple[Path, dict[str, Any]]:
    folder = MEDIA / params.key()
    meta = folder / "meta.json"
    if meta.exists():
        return folder / "data", json.loads(meta.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    partial = MEDIA / (params.key() + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    print(f"generating {params.key()} …", flush=True)
    info = generate(params, partial)
    (partial / "meta.json").write_text(json.dumps(info, indent=1))
    partial.rename(folder)
    return folder / "data", info


def evict(path: Path) -> None:
    """Drop a file's pages from the OS page cache (clean pages only): the next read comes from disk."""
    for name in (path, path.with_name(path.name + "-wal")):
        if name.exists():
            fd = os.open(name, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


# --- the query mix -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    path: str
    params: dict[str, str]


@dataclass
class Scope:
    institutions: list[str]
    cameras: list[str]
    max_case_id: int
    max_violation_id: int
    start: float
    end: float


VIOLATION_TYPES = sorted({k for ks in KINDS_BY_ROLE.values() for k, _ in ks})
CASE_KINDS = sorted(VIOLATION_TYPES + [h for h, _ in HAZARDS])


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


QUERIES: list[tuple[str, Callable[[random.Random, Scope], tuple[str, dict[str, str]]]]] = [
    ("cases", lambda r, s: ("/api/cases", {})),
    ("cases state=open", lambda r, s: ("/api/cases", {"state": "open"})),
    ("cases institution=", lambda r, s: ("/api/cases", {"institution": r.choice(s.institutions)})),
    ("cases overdue=true", lambda r, s: ("/api/cases", {"overdue": "true"})),
    ("cases kind=", lambda r, s: ("/api/cases", {"kind": r.choice(CASE_KINDS)})),
    ("cases before_id= (page)", lambda r, s: ("/api/cases", {"before_id": str(r.randint(2, s.max_case_id))})),
    ("violations", lambda r, s: ("/api/violations", {})),
    ("violations type=", lambda r, s: ("/api/violations", {"type": r.choice(VIOLATION_TYPES)})),
    ("violations camera=", lambda r, s: ("/api/violations", {"camera": r.choice(s.cameras)})),
    (
        "violations since..until (a day)",
        lambda r, s: (
            "/api/violations",
            {"since": _iso(t := r.uniform(s.start, s.end - DAY)), "until": _iso(t + DAY)},
        ),
    ),
    ("violations state=active", lambda r, s: ("/api/violations", {"state": "active"})),
    ("violations state=ended", lambda r, s: ("/api/violations", {"state": "ended"})),
]


def store_call(store: Store, scope: Scope, path: str, params: dict[str, str], now: float) -> int:
    """The repository call the route makes for these parameters (the same SQL), without HTTP."""
    if path == "/api/cases":
        institutions = scope.institutions
        if "institution" in params:
            institutions = [i for i in institutions if i == params["institution"]]
        found = store.cases.find(
            CaseFilter(
                institutions,
                params.get("state"),
                params.get("kind"),
                True if params.get("overdue") == "true" else None,
                now=now,
                limit=100,
                before_id=int(params["before_id"]) if "before_id" in params else None,
            )
        )
        return len(found)
    since = dt.datetime.fromisoformat(params["since"]).timestamp() if "since" in params else None
    until = dt.datetime.fromisoformat(params["until"]).timestamp() if "until" in params else None
    return len(
        store.violations.find(
            ViolationFilter(
                institutions=scope.institutions,
                camera_id=params.get("camera"),
                type=params.get("type"),
                state=params.get("state"),
                since=since,
                until=until,
                limit=100,
            )
        )
    )


@dataclass
class Samples:
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    def add(self, kind: str, ms: float) -> None:
        self.by_kind.setdefault(kind, []).append(ms)

    def all(self) -> list[float]:
        return [x for xs in self.by_kind.values() for x in xs]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def api_load(
    base_url: str, token: str, scope: Scope, clients: int, seconds: float, seed: int, think: float = 0.0
) -> Samples:
    """`clients` concurrent clients, each issuing the next query when the last has answered (after a pause of
    `think` seconds on average, exponentially distributed; 0: none, a closed loop)."""
    samples = Samples()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits
    ) as http:

        async def client(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            if think:
                # Users who pause do not all ask at the same instant: each starts as if in the middle of a pause,
                # not in a burst of `clients` requests at once (which alone, a twentieth of a 25 s window, set
                # the p95 before).
                await asyncio.sleep(min(rng.expovariate(1 / think), 10 * think))
            while time.monotonic() < deadline:
                kind, make = QUERIES[rng.randrange(len(QUERIES))]
                path, params = make(rng, scope)
                began = time.perf_counter()
                response = await http.get(path, params=params)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    samples.errors += 1
                    if samples.errors <= 3:
                        print(f"  {kind}: {response.status_code} {response.text[:200]}", flush=True)
                    continue
                samples.add(kind, elapsed)
                if think:
                    await asyncio.sleep(min(rng.expovariate(1 / think), 10 * think))

        began = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        samples.seconds = time.monotonic() - began
    return samples


def floor_load(db_path: Path, scope: Scope, threads: int, seconds: float, seed: int) -> Samples:
    samples = Samples()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        store = Store.open(db_path)
        rng = random.Random(seed * 1000 + n)
        mine: list[tuple[str, float]] = []
        while time.monotonic() < deadline:
            kind, make = QUERIES[rng.randrange(len(QUERIES))]
            path, params = make(rng, scope)
            began = time.perf_counter()
            store_call(store, scope, path, params, time.time())
            mine.append((kind, (time.perf_counter() - began) * 1000))
        store.db.close()
        with lock:
            for kind, ms in mine:
                samples.add(kind, ms)

    began = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    samples.seconds = time.monotonic() - began
    return samples


def one_by_one(call: Callable[[str, dict[str, str]], None], scope: Scope, repeat: int, seed: int) -> Samples:
    """Every query kind `repeat` times, one at a time: what a query costs with nothing else waiting."""
    samples = Samples()
    rng = random.Random(seed)
    began = time.monotonic()
    for _ in range(repeat):
        for kind, make in QUERIES:
            path, params = make(rng, scope)
            start = time.perf_counter()
            call(path, params)
            samples.add(kind, (time.perf_counter() - start) * 1000)
    samples.seconds = time.monotonic() - began
    return samples


def unindexed_scope(sql: str) -> str:
    """The statement with its list of several institutions marked as no index to use (SQLite's unary `+`)."""
    for alias in ("c", "v"):
        sql = sql.replace(f" {alias}.institution_id IN (?, ", f" +{alias}.institution_id IN (?, ")
    return sql


def query_plans(db_path: Path, scope: Scope) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of the statement each query kind runs (captured from the repository call)."""
    store = Store.open(db_path)
    conn = store.db._reader()  # reads run on the reading thread's own connection (core/store/database.py)
    plans: dict[str, list[str]] = {}
    rng = random.Random(7)
    for kind, make in QUERIES:
        path, params = make(rng, scope)
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        store_call(store, scope, path, params, time.time())
        conn.set_trace_callback(None)
        sql = next(s for s in seen if s.lstrip().upper().startswith("SELECT"))
        plans[kind] = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    store.db.close()
    return plans


# --- the runs ----------------------------------------------------------------------------------------------------


def timed_get(http: httpx.Client, path: str, params: dict[str, str]) -> tuple[float, int]:
    began = time.perf_counter()
    response = http.get(path, params=params)
    response.raise_for_status()
    return time.perf_counter() - began, len(response.content)


def settle(http: httpx.Client) -> None:
    """Wait out the service's start-up work on the database (the health history's first prune scans every
    sample): until a request answers quickly three times in a row."""
    quick = 0
    deadline = time.monotonic() + 300
    while quick < 3 and time.monotonic() < deadline:
        seconds, _ = timed_get(http, "/api/me", {})  # its session is read from the database
        quick = quick + 1 if seconds < 0.05 else 0
        time.sleep(1)


def idle_cost(pid: int, seconds: float = 10.0, after_s: float = 15.0) -> tuple[float, int]:
    """The service's CPU (share of one core) over `seconds` with no request, and its threads; `after_s` first,
    for the cameras' start-up violations to be taken in."""
    time.sleep(after_s)
    process = psutil.Process(pid)
    family = [process, *process.children(recursive=True)]  # its worker processes, which run the cameras
    before, began = sum(sum(p.cpu_times()[:2]) for p in family), time.monotonic()  # user + system
    time.sleep(seconds)
    after = sum(sum(p.cpu_times()[:2]) for p in family)
    return (after - before) / (time.monotonic() - began), sum(p.num_threads() for p in family)


def dashboard(base_url: str, db_path: Path, loads: int) -> list[dict[str, Any]]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.rig.browser import chromium, log_in

    driver = chromium()
    results = []
    try:
        log_in(driver, base_url + "/ui/#/home", "admin", ADMIN_PASSWORD)
        WebDriverWait(driver, 60, poll_frequency=0.1).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#dash-units tbody tr")
        )
        for n in range(loads):
            driver.get("about:blank")
            if n == 0:
                evict(db_path)
            driver.get(base_url + "/ui/#/home")
            # From the page itself: when the units table and the three charts' canvases are there.
            drawn = driver.execute_async_script(
                """
                const done = arguments[arguments.length - 1];
                const ready = () => document.querySelector('#dash-units tbody tr')
                  && ['rates', 'states', 'kinds'].every((n) => document.querySelector(`#dash-chart-${n} canvas`));
                if (ready()) { done({at: performance.now(), late: true}); return; }
                const seen = new MutationObserver(() => {
                  if (ready()) { seen.disconnect(); done({at: performance.now(), late: false}); }
                });
                seen.observe(document.body, {childList: true, subtree: true});
                """
            )
            paints = driver.execute_script(
                "return Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]))"
            )
            # Where the time went: the API calls and the chart library, start and end from navigation start.
            fetched = driver.execute_script(
                "return performance.getEntriesByType('resource').filter((e) => /\\/api\\/|echarts/.test(e.name))"
                ".map((e) => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseEnd)])"
            )
            results.append(
                {
                    "first_paint_ms": paints.get("first-paint", float("nan")),
                    "first_contentful_paint_ms": paints.get("first-contentful-paint", float("nan")),
                    "drawn_ms": drawn["at"],
                    "cold": n == 0,
                    "requests": fetched,
                }
            )
    finally:
        driver.quit()
    return results


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="violations, and cases (default 1,000,000)")
    parser.add_argument("--towns", type=int, default=10)
    parser.add_argument("--institutions", type=int, default=100)
    parser.add_argument("--cameras", type=int, default=400)
    parser.add_argument("--health-days", type=int, default=30, help="camera health samples kept (one a minute)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=25, help="the administrator's listing window")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between a client's queries in the second window (s)"
    )
    parser.add_argument("--scoped-seconds", type=float, default=12, help="the town officer's window")
    parser.add_argument("--floor-seconds", type=float, default=12, help="the SQL floor's window")
    parser.add_argument("--paints", type=int, default=5, help="dashboard loads in Chromium (the first cold)")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--listing-only", action="store_true", help="the listing alone: no report, no browser")
    parser.add_argument("--generate-only", action="store_true", help="make (or find) the cached data and stop")
    parser.add_argument("--write", action="store_true", help="also write the results to bench/results/api-*.json")
    args = parser.parse_args()

    params = Params(args.rows, args.towns, args.institutions, args.cameras, args.health_days)
    org = organisation(args.towns, args.institutions, args.cameras)
    source, info = cached_data(params)
    print(f"data: {params.key()} (generated {info['generated_utc']} UTC in {info['seconds']} s)")
    print(
        f"  {info['violations']:,} violations, {info['cases']:,} cases, {info['case_violations']:,} links,"
        f" {info['health_samples']:,} health samples, {info['recording_segments']:,} segments,"
        f" {info['inspections']:,} inspections; {info['db_bytes'] / 2**30:.2f} GiB"
    )
    if args.generate_only:
        return 0
    results: dict[str, Any] = {"params": vars(args), "data": info, "load_before": load_average()}
    work = Path(tempfile.mkdtemp(prefix="vms-bench-api-"))
    service: RunningService | None = None
    try:
        shutil.copytree(source, work / "data")
        db_path = work / "data" / "vms.db"
        service = RunningService(work, service_config(org))
        # The report is timed for the busiest town (most cases: the violations per camera are skewed) and the
        # town officer's own.
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            per_town: dict[str, int] = {}
            for institution, count in conn.execute("SELECT institution_id, COUNT(*) FROM cases GROUP BY 1"):
                per_town[org.institutions[institution]] = per_town.get(org.institutions[institution], 0) + count
        report_towns = sorted(per_town, key=per_town.__getitem__, reverse=True)[:1]
        report_towns += [org.towns[0]] if org.towns[0] not in report_towns else []
        evict(db_path)
        began = time.monotonic()
        service.start(timeout=300)
        results["start_s"] = round(time.monotonic() - began, 2)
        admin = service.client()
        admin.timeout = httpx.Timeout(120)
        settle(admin)
        results["settled_s"] = round(time.monotonic() - began, 2)
        print(f"vms run answered after {results['start_s']} s, settled after {results['settled_s']} s;"
              f" load average {load_average()}", flush=True)  # fmt: skip
        results["idle_cpu"], results["threads"] = idle_cost(service.pid)
        print(f"idle: {results['idle_cpu']:.1%} of a core, {results['threads']} threads", flush=True)
        officer = service.client(OFFICER, OFFICER_PASSWORD)
        officer.timeout = httpx.Timeout(120)
        year = str(dt.datetime.now(BEIJING).year)
        town = org.towns[0]

        # A year's report of one town, cold and warm; the workbook likewise.
        report: dict[str, dict[str, list[float]]] = {}
        for report_town in [] if args.listing_only else report_towns:
            report[report_town] = {"json": [], "xlsx": []}
            for name, path in (("json", "/api/statistics"), ("xlsx", "/api/statistics/export.xlsx")):
                # Three cold (the database dropped from the page cache before each), then three warm.
                times = report[report_town][name]
                for n in range(6):
                    if n < 3:
                        evict(db_path)
                    seconds, size = timed_get(admin, path, {"unit": report_town, "period": year})
                    times.append(seconds)
                print(f"report {report_town} ({per_town[report_town]:,} cases in all) {name}: cold"
                      f" {' '.join(f'{x:.2f}' for x in times[:3])} s, warm {' '.join(f'{x:.2f}' for x in times[3:])} s"
                      f" ({size:,} bytes)", flush=True)  # fmt: skip
        results["report"] = report
        results["cases_per_town"] = per_town
        if not args.listing_only:
            seconds, _ = timed_get(admin, "/api/statistics", {"unit": "bench", "period": year})
            results["report_bureau_year_warm_s"] = seconds
            print(f"report json, the bureau's year (warm): {seconds:.2f} s", flush=True)

        if not args.no_browser and not args.listing_only:
            paints = dashboard(service.base_url, db_path, args.paints)
            results["dashboard"] = paints
            for p in paints:
                print(
                    f"dashboard{' (cold)' if p['cold'] else ''}: first paint {p['first_paint_ms']:.0f} ms,"
                    f" FCP {p['first_contentful_paint_ms']:.0f} ms, table and charts {p['drawn_ms']:.0f} ms",
                    flush=True,
                )
                for name, start, end in p["requests"] if p["cold"] or p is paints[-1] else []:
                    print(f"    {start:5d}–{end:5d} ms  {name[:100]}")

        # Listing and filtering.
        max_violation = info["violations"]
        everyone = Scope(sorted(org.institutions), [c for c, _, _ in org.cameras], info["max_case_id"],
                         max_violation, info["generated_at"] - YEAR, info["generated_at"])  # fmt: skip
        town_institutions = sorted(i for i, t in org.institutions.items() if t == town)
        scoped = Scope(town_institutions, [c for c, i, _ in org.cameras if i in town_institutions],
                       info["max_case_id"], max_violation, everyone.start, everyone.end)  # fmt: skip
        token = admin.headers["Authorization"].removeprefix("Bearer ")
        officer_token = officer.headers["Authorization"].removeprefix("Bearer ")
        asyncio.run(api_load(service.base_url, token, everyone, args.clients, 3, seed=99))  # warm-up
        runs: dict[str, Samples] = {}
        print(f"listing: {args.clients} clients × {args.seconds} s (administrator) …", flush=True)
        runs["api"] = asyncio.run(api_load(service.base_url, token, everyone, args.clients, args.seconds, seed=1))
        print(
            f"listing: {args.clients} clients × {args.seconds} s, {args.think} s pauses (administrator) …", flush=True
        )
        runs["api_think"] = asyncio.run(
            api_load(service.base_url, token, everyone, args.clients, args.seconds, seed=4, think=args.think)
        )
        print(f"listing: {args.clients} clients × {args.scoped_seconds} s (town officer) …", flush=True)
        runs["api_town"] = asyncio.run(
            api_load(service.base_url, officer_token, scoped, args.clients, args.scoped_seconds, seed=2)
        )
        print("listing: 1 client, each query kind 5 times (administrator) …", flush=True)
        runs["api_one"] = one_by_one(lambda path, params: timed_get(admin, path, params) and None, everyone, 5, 3)
        results["load_during"] = load_average()
        service_log = service.log()
        service.stop()
        print(f"floor: {args.clients} threads × {args.floor_seconds} s, the same SQL on SQLite …", flush=True)
        runs["floor"] = floor_load(db_path, everyone, args.clients, args.floor_seconds, seed=1)
        floor_store = Store.open(db_path)
        runs["floor_one"] = one_by_one(
            lambda path, params: store_call(floor_store, everyone, path, params, time.time()) and None, everyone, 5, 3
        )
        # The change proposed where the floor is slow: a list of several institutions kept out of the plan
        # (`+institution_id IN (…)`: a filter, not an index), so that SQLite walks the newest rows.
        read = floor_store.db.read
        floor_store.db.read = lambda sql, params=(): read(unindexed_scope(sql), params)  # type: ignore[method-assign]
        for name, scope in (("floor_plus", everyone), ("floor_plus_town", scoped)):
            runs[name] = one_by_one(
                lambda path, params, scope=scope: store_call(floor_store, scope, path, params, time.time()) and None,
                scope,
                5,
                3,
            )
        floor_store.db.close()
        plans = query_plans(db_path, everyone)
        results["plans"] = plans
        results["listing"] = {
            name: {"seconds": s.seconds, "errors": s.errors, "by_kind": s.by_kind} for name, s in runs.items()
        }
        results["load_after"] = load_average()
        if "Traceback" in service_log:
            print("the service logged a traceback:\n" + service_log[-3000:])
    finally:
        if service is not None:
            service.stop()
        shutil.rmtree(work, ignore_errors=True)

    # --- the summary ---
    print()
    print(f"## Listing and filtering, {args.clients} concurrent clients ({info['violations']:,} violations, "
          f"{info['cases']:,} cases)")  # fmt: skip
    head = ("query", "n", "p50", "p95", "p99", "floor p95", "**p95 / floor**", "paused: p95", "1 client: p50",
            "floor, 1 thread: p50", "p50 / floor", "town officer: p95", "floor with `+`: p50 (town)")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for kind, _ in QUERIES:
        api, floor = runs["api"].by_kind.get(kind, []), runs["floor"].by_kind.get(kind, [])
        one, town_run = runs["api_one"].by_kind.get(kind, []), runs["api_town"].by_kind.get(kind, [])
        paused, floor_one = runs["api_think"].by_kind.get(kind, []), runs["floor_one"].by_kind.get(kind, [])
        print(
            f"| {kind} | {len(api)} | {pct(api, 50):.1f} | {pct(api, 95):.1f} | {pct(api, 99):.1f} |"
            f" {pct(floor, 95):.1f} | **{pct(api, 95) / pct(floor, 95):.1f}** | {pct(paused, 95):.1f} |"
            f" {pct(one, 50):.1f} | {pct(floor_one, 50):.1f} | {pct(one, 50) / pct(floor_one, 50):.1f} |"
            f" {pct(town_run, 95):.1f} | {pct(runs['floor_plus'].by_kind.get(kind, []), 50):.1f}"
            f" ({pct(runs['floor_plus_town'].by_kind.get(kind, []), 50):.1f}) |"
        )
    for name, label in (("api", "administrator"), ("api_think", f"administrator, {args.think} s pauses"),
                        ("api_town", "town officer"), ("api_one", "one client"),
                        ("floor", "SQL floor, 20 threads"), ("floor_one", "SQL floor, one at a time")):  # fmt: skip
        s = runs[name]
        everything = s.all()
        verdict = ""
        if name in ("api", "api_think", "api_town"):
            met = "met" if pct(everything, 95) <= TARGET_P95_MS else "NOT met"
            verdict = f"  (target p95 ≤ {TARGET_P95_MS:.0f} ms: {met})"
        print(
            f"- {label}: {len(everything)} queries in {s.seconds:.1f} s ({len(everything) / s.seconds:.0f}/s),"
            f" p50 {pct(everything, 50):.1f} ms, p95 {pct(everything, 95):.1f} ms, p99 {pct(everything, 99):.1f} ms,"
            f" errors {s.errors}{verdict}"
        )
    print()
    print("## Query plans")
    for kind, plan in plans.items():
        print(f"- {kind}: " + " / ".join(plan))
    print()
    print(f"## A year's report of one town ({year}) — target ≤ {TARGET_REPORT_S:.0f} s")
    for report_town, by_format in report.items():
        for name, xs in by_format.items():
            print(
                f"- {report_town} ({per_town[report_town]:,} cases in all), {name}: cold median"
                f" {statistics.median(xs[:3]):.2f} s (max {max(xs[:3]):.2f}),"
                f" warm median {statistics.median(xs[3:]):.2f} s"
            )
    if "dashboard" in results:
        paints = results["dashboard"]
        warm = [p for p in paints if not p["cold"]]
        print()
        print(f"## Dashboard (首页, the bureau, this month) — target first paint ≤ {TARGET_PAINT_S:.0f} s")
        for label, rows in (("cold", [p for p in paints if p["cold"]]), ("warm", warm)):
            if rows:
                print(
                    f"- {label}: first paint median {statistics.median(p['first_paint_ms'] for p in rows):.0f} ms,"
                    f" FCP {statistics.median(p['first_contentful_paint_ms'] for p in rows):.0f} ms,"
                    f" tables and charts drawn {statistics.median(p['drawn_ms'] for p in rows):.0f} ms"
                    f" (max {max(p['drawn_ms'] for p in rows):.0f})"
                )
    print()
    print(f"load average before {results['load_before']}, during {results.get('load_during')}, after "
          f"{results.get('load_after')}")  # fmt: skip
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"api-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
        out.write_text(json.dumps(results, indent=1, default=str))
        print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
