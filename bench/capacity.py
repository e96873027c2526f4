"""Capacity: how many 1080p25 cameras this box records and watches, with the camera server on the same box, and
the open-source NVR a user would pick instead on the same cameras, one after the other in one run.

    .venv/bin/python bench/capacity.py 48 72 96 [--seconds 60] [--warmup 20] [--peers motion,zoneminder]
                                                [--analysis-intervals 0,4]

For each N, the project's GStreamer RTSP server serves N cameras (a pre-encoded 1080p25 H.264 Main clip, no
B-frames, ~4 Mbit/s, 2 s GOP, looped in real time; `--camera-servers` processes of it, 4 by default, each serving
a share, as real cameras each answer on their own where one server process answers every session in turn) and:

- **vms**: one `vms run` records every camera (60 s segments, no re-encoding) and runs on each the blocked-route
  detector over a drawn zone and the camera-health detectors (covered, moved, defocused, dark, video loss): what
  an evacuation-route camera runs. Measured over the window: its CPU (share of one core) per camera and in all, its
  RSS, the whole box's CPU use (every process, `/proc/stat`: the camera server and this script included), and per
  camera the packets received against the nominal 25 a second, the packets the recorder or the detectors dropped,
  the frames the detectors skipped for being late and whether a camera's analysis fell behind. N **holds** when
  every camera is recording, none lost or dropped a packet, none is behind, and the box is not saturated (at
  least 10 % of its CPU idle).
  With `--analysis-intervals`, vms runs once per value, the cameras' `analysis_interval_s` set to it (0, the
  default: every key frame, one per 2 s GOP; 4: every other one). After each vms window one worker is killed
  with kill -9: how long until its cameras are connected and recording again, which of them was the last to record
  and how the API showed it just before (health, packets, key frame, recorder state and queue), and what the other
  cameras lost meanwhile.
- **Motion 4.5** (Debian's `motion`; `apt-get install motion`), the same N cameras: continuous movies
  (`emulate_motion on`) written by packet passthrough (`movie_passthrough on`, 60 s movies), its motion detection at
  the camera's full picture, as it works. CPU and RSS per camera, the box's CPU, and the bytes of movie written
  against what vms wrote. Motion decodes every frame of every camera for its detection: the difference is what
  decoding key frames only is worth.
- **ZoneMinder 1.36** (`apt-get install zoneminder mariadb-server`; the bench starts a MariaDB server of its own
  on the default socket, so none may run): a Record monitor per camera with camera passthrough and decoding off, a
  `zmc` each (see `zoneminder_run`). It records and analyses nothing: the cost of recording alone.

Figures go to docs/performance.md ("Capacity").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import ADMIN_PASSWORD, FPS, cpu_and_rss, start_vms, stop_processes

from tests.rig.media import clip_cache_dir, make_clip
from tests.rig.rtsp import RtspServer

ROUTE = [[0.30, 0.45], [0.70, 0.45], [0.95, 1.0], [0.05, 1.0]]  # the example configuration's route floor
IDLE_FLOOR = 0.10  # the box counts as saturated with less than this share of its CPU idle


@dataclass
class Run:
    """One recorder's figures over the window."""

    name: str
    cameras: int
    window_s: float
    cpu_cores: float  # its processes' CPU, in cores
    rss_mb: float
    box_busy: float  # share of the whole box's CPU in use (every process)
    bytes_written: int

    @property
    def cpu_pct_per_camera(self) -> float:
        return self.cpu_cores / self.cameras * 100


@dataclass
class VmsHealth:
    recording: int  # cameras whose recorder is recording
    received_share: float  # packets received, all cameras, against the nominal rate
    short_cameras: int  # cameras that received under 95 % of the nominal rate
    recorder_dropped: int  # in the window, as each count below
    detector_dropped: int
    frames_skipped: int
    behind: int  # cameras whose analysis dropped or skipped in the window
    warmup_behind: int  # cameras whose analysis dropped or skipped while they all connected at once
    analysing: int  # cameras whose detectors are running
    workers: int  # worker processes running the cameras


@dataclass
class WorkerKill:
    """After the window: one worker killed with kill -9, its cameras back, and what the others lost meanwhile."""

    victims: int  # the killed worker's cameras
    noticed_s: float | None  # from the kill until the service took the worker for dead (its `last_exit_at`)
    reconnected_s: float | None  # from the kill until the last of them was connected again (None: not in 30 s)
    reconnected_median_s: float | None  # ... until half of them were
    reconnected_within_2s: int  # of them connected again within 2 s of the kill (the restart back-off is 0 s)
    recording_s: float | None  # ... until the API showed the last of them recording again (polled: reports 1 s apart)
    recorded_from_s: float | None  # ... until the first frame of the last victim's new segment (the recorder's clock)
    slowest: str | None  # the last victim to record again, and how it looked a poll before it did
    others: int
    others_dropped: int  # packets the other cameras' recorders dropped in that time
    others_reconnected: int  # other cameras that reconnected in that time
    # With --open-burst, after it: as many cameras as the victims, of the same server but read by nothing yet,
    # connected at once by vms's source alone in a process of its own (bench/open_burst.py) while vms runs all N:
    # the set-up alone, under at least the kill's load. Seconds to the last connection, the median, the last key frame.
    burst_connected_s: float | None = None
    burst_connected_median_s: float | None = None
    burst_keyframe_s: float | None = None


class BoxCpu:
    """The whole machine's CPU use between two readings (`/proc/stat`)."""

    def __init__(self) -> None:
        self._start = psutil.cpu_times()

    def busy(self) -> float:
        end = psutil.cpu_times()
        total = sum(end) - sum(self._start)
        idle = (end.idle + end.iowait) - (self._start.idle + self._start.iowait)
        return 1 - idle / total if total > 0 else 0.0


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(name: str, cameras: int, processes: list[psutil.Process], folder: Path, seconds: float) -> Run:
    """The window: these processes' CPU and RSS, the box's CPU, and what was written under `folder`."""
    written_before = folder_bytes(folder)
    before, box, started = cpu_and_rss(processes), BoxCpu(), time.monotonic()
    time.sleep(seconds)
    busy, elapsed = box.busy(), time.monotonic() - started
    after, written = cpu_and_rss(processes), folder_bytes(folder) - written_before
    return Run(name, cameras, elapsed, (after.cpu_s - before.cpu_s) / elapsed, after.rss_bytes / 2**20, busy, written)


def cameras(base: str, token: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{base}/api/cameras", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    answer.raise_for_status()
    return answer.json()  # type: ignore[no-any-return]


def _number(view: object, *path: str) -> int:
    for key in path:
        if not isinstance(view, dict):
            return 0
        view = view.get(key)
    return int(view) if isinstance(view, int | float) else 0


def _moment(view: object, *path: str) -> float:
    for key in path:
        if not isinstance(view, dict):
            return 0.0
        view = view.get(key)
    return float(view) if isinstance(view, int | float) else 0.0


def kill_a_worker(base: str, token: str) -> WorkerKill | None:
    """kill -9 the first worker process; poll the cameras until its cameras record again."""
    headers = {"Authorization": f"Bearer {token}"}
    workers = httpx.get(f"{base}/api/workers", headers=headers, timeout=60).json()
    if not workers:
        return None
    victims = set(workers[0]["cameras"])
    before = {str(v["id"]): v for v in cameras(base, token)}
    os.kill(workers[0]["pid"], signal.SIGKILL)
    killed = time.time()
    connected = recording = None
    delays: list[float] = []
    waiting: dict[str, dict[str, object]] = {}  # victims not recording yet, as last seen
    while time.time() - killed < 30 and recording is None:
        time.sleep(0.2)
        views = {str(v["id"]): v for v in cameras(base, token)}
        back = [v for cid, v in views.items() if cid in victims and _moment(v, "health", "connected_at") > killed]
        if connected is None and len(back) == len(victims):
            delays = sorted(_moment(v, "health", "connected_at") - killed for v in back)
            connected = delays[-1]
        not_yet = {cid: views[cid] for cid in victims if _state(views[cid], "recording") != "recording"}
        if not_yet:
            waiting = not_yet
        if connected is not None and not not_yet:
            recording = time.time() - killed
    time.sleep(2)  # the survivors' reports after it all
    views = {str(v["id"]): v for v in cameras(base, token)}
    dead_at = httpx.get(f"{base}/api/workers", headers=headers, timeout=60).json()[0]["last_exit_at"]
    others = [cid for cid in views if cid not in victims]
    return WorkerKill(
        victims=len(victims),
        noticed_s=dead_at - killed if isinstance(dead_at, int | float) else None,
        reconnected_s=connected,
        reconnected_median_s=delays[len(delays) // 2] if delays else None,
        reconnected_within_2s=sum(1 for d in delays if d <= 2.0),
        recording_s=recording,
        recorded_from_s=_recorded_from(views, victims, killed),
        slowest=_describe_waiting(waiting, killed) if waiting else None,
        others=len(others),
        others_dropped=sum(
            _number(views[c], "recording", "packets_dropped") - _number(before[c], "recording", "packets_dropped")
            for c in others
        ),
        others_reconnected=sum(
            1 for c in others if _number(views[c], "health", "reconnects") != _number(before[c], "health", "reconnects")
        ),
    )


def _recorded_from(views: dict[str, dict[str, object]], victims: set[str], killed: float) -> float | None:
    """Seconds from the kill to the first frame of the last victim's new segment; None if one has none yet."""
    starts = [_moment(views[cid], "recording", "segment_started_at") - killed for cid in victims]
    return max(starts) if starts and min(starts) > 0 else None


def _describe_waiting(waiting: dict[str, dict[str, object]], killed: float) -> str:
    """The last victim(s) to record again as the poll before saw them: what held them, if the API tells."""
    cid, view = next(iter(waiting.items()))
    recorder = view.get("recording") if isinstance(view.get("recording"), dict) else {}
    assert isinstance(recorder, dict)
    consumers = view.get("consumers")
    queued = (
        [c.get("queued") for c in consumers if isinstance(c, dict) and c.get("name") == "recorder"]
        if isinstance(consumers, list)
        else []
    )
    key = _moment(view, "health", "last_keyframe_at")
    more = f" and {len(waiting) - 1} more" if len(waiting) > 1 else ""
    return (
        f"{cid}{more}: health {_state(view, 'health')}, {_number(view, 'health', 'packets_total')} packets,"
        f" last key frame {f'{key - killed:.1f} s after the kill' if key > killed else 'before the kill'};"
        f" recorder {recorder.get('state')}, queue {queued[0] if queued else '?'},"
        f" last error {recorder.get('last_error')!r}"
    )


def open_burst(urls: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "open_burst.py"), *urls], capture_output=True, text=True, timeout=90
    )
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def vms_run(
    urls: list[str],
    workdir: Path,
    seconds: float,
    warmup: float,
    interval_s: float,
    ingest: dict[str, object],
    fresh: list[str],
) -> tuple[Run, VmsHealth, WorkerKill | None]:
    n = len(urls)
    proc, base = start_vms(
        urls,
        workdir,
        camera_fields={
            "role": "evacuation_route",
            "analysis_interval_s": interval_s,
            "detectors": [
                {"type": "tamper"},
                {"type": "blocked_route", "zones": [{"name": "通道地面", "points": ROUTE, "drawn_on": "1920x1080"}]},
            ],
        },
        recording={"enabled": True, "segment_s": 60},
        ingest=ingest,
    )
    try:
        login = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        token = login.json()["token"]
        time.sleep(warmup)
        views_before = cameras(base, token)
        run = measure("vms", n, [psutil.Process(proc.pid)], workdir, seconds)
        views = cameras(base, token)
        workers = len(httpx.get(f"{base}/api/workers", headers={"Authorization": f"Bearer {token}"}).json())
        kill = kill_a_worker(base, token)
        if kill is not None and fresh:
            burst = open_burst(fresh[: kill.victims])
            connected, keyframe = burst["connected_s"], burst["keyframe_s"]
            assert isinstance(connected, list) and isinstance(keyframe, list)
            kill.burst_connected_s = connected[-1] if len(connected) == kill.victims else None
            kill.burst_connected_median_s = connected[len(connected) // 2] if connected else None
            kill.burst_keyframe_s = keyframe[-1] if len(keyframe) == kill.victims else None
    finally:
        stop_processes([proc])
    old = {str(v["id"]): v for v in views_before}
    received = [_number(v, "health", "packets_total") - _number(old.get(str(v["id"])), "health", "packets_total")
                for v in views]  # fmt: skip
    nominal = FPS * run.window_s

    def lost(view: dict[str, object], since: dict[str, object] | None) -> int:
        """Packets dropped plus frames skipped by a camera's analysis since `since` (a view before; None: start)."""
        return sum(
            _number(view.get("detection"), key) - _number((since or {}).get("detection"), key)
            for key in ("packets_dropped", "frames_skipped")
        )

    detection = [v.get("detection") or {} for v in views]
    health = VmsHealth(
        recording=sum(1 for v in views if _state(v, "recording") == "recording"),
        received_share=sum(received) / (nominal * n),
        short_cameras=sum(1 for r in received if r < 0.95 * nominal),
        recorder_dropped=sum(
            _number(v, "recording", "packets_dropped") - _number(old.get(str(v["id"])), "recording", "packets_dropped")
            for v in views
        ),
        detector_dropped=sum(
            _number(d, "packets_dropped") - _number(old.get(str(v["id"])), "detection", "packets_dropped")
            for v, d in zip(views, detection, strict=True)
        ),
        frames_skipped=sum(
            _number(d, "frames_skipped") - _number(old.get(str(v["id"])), "detection", "frames_skipped")
            for v, d in zip(views, detection, strict=True)
        ),  # fmt: skip
        behind=sum(1 for v in views if lost(v, old.get(str(v["id"]))) > 0),
        warmup_behind=sum(1 for v in views_before if lost(v, None) > 0),
        analysing=sum(1 for d in detection if isinstance(d, dict) and d.get("state") == "running"),
        workers=workers,
    )
    return run, health, kill


def _state(view: dict[str, object], section: str) -> object:
    part = view.get(section)
    return part.get("state") if isinstance(part, dict) else None


def motion_config(urls: list[str], folder: Path) -> Path:
    """Motion's own files: one camera file per URL, continuous passthrough movies, no web or stream ports."""
    files = []
    for i, url in enumerate(urls):
        camera = folder / f"camera{i}.conf"
        camera.write_text(
            "\n".join(
                [
                    f"camera_name cam{i}",
                    f"camera_id {i + 1}",
                    f"netcam_url {url}",
                    f"netcam_params rtsp_transport=tcp, capture_rate={FPS}",
                    f"target_dir {folder / f'cam{i}'}",
                ]
            )
            + "\n"
        )
        files.append(camera)
    main = folder / "motion.conf"
    main.write_text(
        "\n".join(
            [
                "daemon off",
                "setup_mode off",
                f"log_file {folder / 'motion.log'}",
                "log_level 4",
                "width 1920",
                "height 1080",
                f"framerate {FPS}",
                "emulate_motion on",  # record continuously, as vms does
                "event_gap 1",
                "picture_output off",
                "movie_output on",
                "movie_passthrough on",  # the camera's packets, not re-encoded
                "movie_max_time 60",
                "movie_codec mkv",
                "webcontrol_port 0",
                "stream_port 0",
                *(f"camera {f}" for f in files),
            ]
        )
        + "\n"
    )
    return main


def motion_run(urls: list[str], workdir: Path, seconds: float, warmup: float) -> Run:
    folder = workdir / "motion"
    folder.mkdir()
    proc = subprocess.Popen(
        ["motion", "-n", "-c", str(motion_config(urls, folder))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"motion exited with {proc.returncode}: see {folder / 'motion.log'}")
        return measure("motion", len(urls), [psutil.Process(proc.pid)], folder, seconds)
    finally:
        stop_processes([proc])


def _quietly(*command: str, stdin: bytes | None = None) -> None:
    subprocess.run(command, input=stdin, check=True, capture_output=True)


ZM_SOCKET = Path("/run/mysqld/mysqld.sock")  # where ZoneMinder's zm.conf (ZM_DB_HOST=localhost) looks for its database


def zoneminder_run(urls: list[str], workdir: Path, seconds: float, warmup: float) -> Run:
    """ZoneMinder 1.36 as its packages set it up, its database in a MariaDB server of its own on the default socket:
    one monitor per camera, Ffmpeg over RTSP/TCP, function Record, camera passthrough (VideoWriter 2), no JPEGs,
    decoding off (Record needs no picture: ZoneMinder's cheapest way to record), a `zmc` capture daemon each.
    Its CPU and RSS are those of every `zmc` and of the database server."""
    if ZM_SOCKET.exists():
        raise RuntimeError(f"{ZM_SOCKET} exists: stop the MariaDB server that owns it first")
    datadir, events = workdir / "zm-db", workdir / "zm-events"
    events.mkdir()
    _quietly("mariadb-install-db", f"--datadir={datadir}", "--user=root", "--skip-test-db",
             "--auth-root-authentication-method=normal")  # fmt: skip
    ZM_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    database = subprocess.Popen(
        ["mariadbd", f"--datadir={datadir}", "--user=root", f"--socket={ZM_SOCKET}", "--skip-networking",
         f"--pid-file={workdir / 'mariadb.pid'}"],
        stdout=(workdir / "mariadb.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    daemons: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(100):
            if subprocess.run(["mariadb", "-e", "SELECT 1"], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        # zm.conf's credentials (zmuser / zmpass), as the package's set-up instructions create them.
        _quietly("mariadb", "-e", "CREATE DATABASE zm; CREATE USER zmuser@localhost IDENTIFIED BY 'zmpass';"
                 " GRANT ALL ON zm.* TO zmuser@localhost;")  # fmt: skip
        _quietly("mariadb", "zm", stdin=Path("/usr/share/zoneminder/db/zm_create.sql").read_bytes())
        monitors = ", ".join(
            f"('cam{i}', 'Ffmpeg', 'Record', 1, 0, 'rtpRtsp', '{url}', 1920, 1080, 4, 2, 0, 1)"
            for i, url in enumerate(urls)
        )
        columns = "Name, Type, `Function`, Enabled, DecodingEnabled, Method, Path, Width, Height, Colours, VideoWriter,"
        columns += " SaveJPEGs, StorageId"
        sql = f"UPDATE Storage SET Path = '{events}'; INSERT INTO Monitors ({columns}) VALUES {monitors};"
        _quietly("mariadb", "zm", "-e", sql)
        daemons = [
            subprocess.Popen(["zmc", "-m", str(i + 1)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(len(urls))
        ]
        time.sleep(warmup)
        processes = [psutil.Process(p.pid) for p in [*daemons, database] if p.poll() is None]
        run = measure("zoneminder", len(urls), processes, events, seconds)
        if dead := sum(1 for p in daemons if p.poll() is not None):
            print(f"  zoneminder: {dead} of {len(urls)} zmc daemons died", flush=True)
        return run
    finally:
        stop_processes([*daemons, database])


PEERS = {"motion": motion_run, "zoneminder": zoneminder_run}


def _seconds(value: float | None) -> str:
    return "not in 30 s" if value is None else f"{value:.2f} s"


def holds(health: VmsHealth, run: Run) -> bool:
    return (
        health.recording == run.cameras
        and health.analysing == run.cameras
        and health.short_cameras == 0
        and health.recorder_dropped == 0
        and health.detector_dropped == 0
        and health.behind == 0
        and run.box_busy <= 1 - IDLE_FLOOR
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cameras", type=int, nargs="*", default=[48])
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=20.0, help="time to connect and settle before measuring")
    parser.add_argument("--peers", default="motion,zoneminder", help="comma-separated: motion, zoneminder, or none")
    parser.add_argument(
        "--analysis-intervals",
        default="0",
        help="comma-separated cameras' analysis_interval_s, a vms run each (0: every key frame, the default)",
    )
    parser.add_argument(
        "--open-burst",
        action="store_true",
        help="after each kill, as many other cameras connected at once by vms's source alone (bench/open_burst.py)",
    )
    parser.add_argument(
        "--read-pause", type=float, help="vms's ingest.read_pause_s (0: every frame read as it comes); default its own"
    )
    parser.add_argument(
        "--camera-pipelines",
        choices=("kept", "rebuilt"),
        default="kept",
        help="kept: each camera's stream runs on between clients, as a real camera's encoder does (the rig's"
        " always_on); rebuilt: the rig's default, a new pipeline for the first client after all left, built one"
        " camera after another (~40 ms each)",
    )
    parser.add_argument(
        "--camera-servers",
        type=int,
        default=4,
        help="how many camera server processes share the cameras: real cameras answer their sessions each on its own,"
        " where one server process answers them in turn (1: the bench's default until 2026-12-04)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--logs", type=Path, help="keep vms's log of each N here (capacity-N.log)")
    args = parser.parse_args()
    peers = [p for p in args.peers.split(",") if p and p != "none"]
    intervals = [float(i) for i in args.analysis_intervals.split(",")]
    ingest = {} if args.read_pause is None else {"read_pause_s": args.read_pause}
    if args.camera_servers < 1:
        parser.error("--camera-servers must be at least 1")
    if unknown := [p for p in peers if p not in PEERS]:
        parser.error(f"unknown peers: {', '.join(unknown)} (known: {', '.join(PEERS)})")
    for peer, program, packages in (("motion", "motion", "motion"), ("zoneminder", "zmc", "zoneminder mariadb-server")):
        if peer in peers and shutil.which(program) is None:
            print(f"{peer} is not installed (apt-get install {packages}): left out", file=sys.stderr)
            peers.remove(peer)

    clip = make_clip(clip_cache_dir() / "bench-1920x1080-4M.mp4", width=1920, height=1080, fps=FPS, seconds=10,
                     bitrate="4M")  # fmt: skip
    results = []
    print(f"{psutil.cpu_count()} cores; {args.seconds:.0f} s windows after {args.warmup:.0f} s; load average"
          f" {' '.join(f'{x:.2f}' for x in psutil.getloadavg())}", flush=True)  # fmt: skip
    for n in args.cameras:
        camera = {"clip": str(clip), "always_on": args.camera_pipelines == "kept"}
        paths = [f"/cam{i}" for i in range(n)] + [f"/fresh{i}" for i in range(n if args.open_burst else 0)]
        with contextlib.ExitStack() as servers:
            # The two workers take every other camera: pairs of cameras go to the servers in turn, so a killed
            # worker's cameras come from every server.
            count = min(args.camera_servers, (len(paths) + 1) // 2)  # none left without a camera
            server_of = {path: (i // 2) % count for i, path in enumerate(paths)}
            serving = [
                servers.enter_context(RtspServer([{"path": p, **camera} for p in paths if server_of[p] == k]))
                for k in range(count)
            ]
            url = {path: serving[server_of[path]].url(path) for path in paths}
            urls = [url[f"/cam{i}"] for i in range(n)]
            fresh = [url[f"/fresh{i}"] for i in range(n if args.open_burst else 0)]
            if fresh:
                idle = open_burst(fresh[: n // 2])
                connected, keyframe = idle["connected_s"], idle["keyframe_s"]
                assert isinstance(connected, list) and isinstance(keyframe, list)
                print(f"{n // 2} cameras connected at once by vms's source alone, nothing else running: all connected"
                      f" after {connected[-1]:.2f} s (half after {connected[len(connected) // 2]:.2f} s), the last key"
                      f" frame after {max(keyframe, default=0):.2f} s", flush=True)  # fmt: skip
            runs = []
            for interval in intervals:
                with tempfile.TemporaryDirectory(prefix="vms-capacity-") as tmp:
                    runs.append(
                        (interval, *vms_run(urls, Path(tmp), args.seconds, args.warmup, interval, ingest, fresh))
                    )
                    if args.logs:
                        args.logs.mkdir(parents=True, exist_ok=True)
                        shutil.copy(Path(tmp) / "vms.log", args.logs / f"capacity-{n}-{interval:g}s.log")
            peer_runs = []
            for peer in peers:
                with tempfile.TemporaryDirectory(prefix="vms-capacity-") as tmp:
                    peer_runs.append(PEERS[peer](urls, Path(tmp), args.seconds, args.warmup))
        for interval, vms, health, kill in runs:
            verdict = "holds" if holds(health, vms) else "does NOT hold"
            every = f"one key frame per {interval:g} s at most" if interval else "every key frame"
            print(f"\n{n} cameras, analysing {every}: vms {verdict}")
            print(f"  vms     CPU {vms.cpu_pct_per_camera:5.2f} % of a core per camera ({vms.cpu_cores:.2f} cores),"
                  f" RSS {vms.rss_mb:.0f} MB ({vms.rss_mb / n:.1f} per camera), box {vms.box_busy:.0%} busy,"
                  f" {vms.bytes_written / vms.window_s * 8 / n / 1e6:.2f} Mbit/s written per camera")  # fmt: skip
            print(f"          recording {health.recording}/{n}, analysing {health.analysing}/{n}, behind"
                  f" {health.behind}, packets received {health.received_share:.1%} of nominal ({health.short_cameras}"
                  f" cameras under 95 %), dropped: recorder {health.recorder_dropped}, detectors"
                  f" {health.detector_dropped}; frames skipped late {health.frames_skipped} (in the window; while all"
                  f" connected at once, the analysis of {health.warmup_behind} fell behind); {health.workers} worker"
                  f" processes")  # fmt: skip
            if kill is not None:
                noticed = "?" if kill.noticed_s is None else f"{kill.noticed_s:.3f} s"
                print(f"          kill -9 of a worker, taken for dead after {noticed}:"
                      f" its {kill.victims} cameras connected again after"
                      f" {_seconds(kill.reconnected_s)}"
                      f" ({kill.reconnected_within_2s} within 2 s, half after"
                      f" {_seconds(kill.reconnected_median_s)}),"
                      f" all recording from {_seconds(kill.recorded_from_s)} (the last new segment's first frame),"
                      f" shown by the API after {_seconds(kill.recording_s)} (the last: {kill.slowest});"
                      f" the other {kill.others}: {kill.others_dropped} packets dropped, {kill.others_reconnected}"
                      f" reconnected")  # fmt: skip
                if kill.burst_connected_median_s is not None:
                    print(f"          then {kill.victims} other cameras connected at once by vms's source alone:"
                          f" all connected after {_seconds(kill.burst_connected_s)} (half after"
                          f" {_seconds(kill.burst_connected_median_s)}), the last key frame after"
                          f" {_seconds(kill.burst_keyframe_s)}")  # fmt: skip
            results.append({"cameras": n, "analysis_interval_s": interval, "holds": verdict == "holds",
                            "vms": {**asdict(vms), **asdict(health)}, "worker_kill": asdict(kill) if kill else None,
                            "peers": [asdict(p) for p in peer_runs]})  # fmt: skip
        vms = runs[0][1]
        for peer in peer_runs:
            print(f"  {peer.name:7s} CPU {peer.cpu_pct_per_camera:5.2f} % of a core per camera ({peer.cpu_cores:.2f}"
                  f" cores), RSS {peer.rss_mb:.0f} MB ({peer.rss_mb / n:.1f} per camera), box {peer.box_busy:.0%} busy,"
                  f" {peer.bytes_written / peer.window_s * 8 / n / 1e6:.2f} Mbit/s written per camera;"
                  f" CPU {peer.cpu_cores / vms.cpu_cores:.1f}x vms ({runs[0][0]:g} s), RSS"
                  f" {peer.rss_mb / vms.rss_mb:.1f}x")  # fmt: skip
    for interval in intervals:
        held = [r["cameras"] for r in results if r["holds"] and r["analysis_interval_s"] == interval]
        print(f"\nlargest N that holds, analysis interval {interval:g} s: {max(held) if held else 'none'}"
              f" (of {', '.join(map(str, args.cameras))})")  # fmt: skip
    print(json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
