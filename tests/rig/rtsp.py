"""Venv-side handles on simulated cameras and misbehaving TCP peers.

``RtspServer`` drives ``rtsp_server.py`` (GStreamer, run under Debian's
/usr/bin/python3 because PyGObject is not in the venv). ``SilentServer`` and
``GarbageServer`` are plain TCP servers for connect/handshake failure tests.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import quote

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RtspServerError(RuntimeError):
    pass


class RtspServer:
    """A GStreamer RTSP server subprocess serving the given mounts.

    ``mounts`` are the JSON-able dicts documented in ``rtsp_server.py``, e.g.
    ``{"path": "/cam1", "clip": "/abs/a.mp4", "auth": {"user": "u", "password": "p"}}``.
    Starts immediately; ``port=0`` picks a free port, which later restarts keep.
    """

    def __init__(self, mounts: list[dict[str, Any]], *, port: int = 0, ready_timeout: float = 30.0) -> None:
        self.mounts = [dict(m) for m in mounts]
        for m in self.mounts:
            if "clip" in m:
                m["clip"] = str(Path(m["clip"]).resolve())
        self.ready_timeout = ready_timeout
        self.port = port
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: IO[str] | None = None
        self._cmd_lock = threading.Lock()
        self._start()

    # ---------------------------------------------------------------- lifecycle

    def _start(self) -> None:
        # Keep the venv out of the system interpreter.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        # stderr goes to a file: GStreamer may log a lot and a full pipe would
        # block the server.
        self._stderr = tempfile.TemporaryFile("w+", prefix="rtsp_server", suffix=".err")
        self._lines = queue.Queue()
        self._proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--mounts", json.dumps(self.mounts)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            env=env,
        )
        threading.Thread(target=self._read_stdout, args=(self._proc, self._lines), daemon=True).start()
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RtspServerError(
                    f"RTSP server not READY within {self.ready_timeout}s; stderr:\n{self.stderr()}"
                ) from None
            if line is None:
                rc = self._proc.wait()
                raise RtspServerError(f"RTSP server exited with {rc} before READY; stderr:\n{self.stderr()}")
            if line.startswith("READY "):
                self.port = int(line.split()[1])
                return

    @staticmethod
    def _read_stdout(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(None)

    def stderr(self) -> str:
        """The server's stderr so far (for error messages)."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the server (a camera losing power) and reap it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass

    def restart(self, *, attempts: int = 20) -> None:
        """Kill and start again on the same port with the same mounts."""
        self.kill()
        for i in range(attempts):
            try:
                self._start()
                return
            except RtspServerError:
                # Port may be briefly busy (e.g. a lingering socket).
                if i == attempts - 1:
                    raise
                time.sleep(0.25)

    def close(self) -> None:
        self.kill()
        if self._stderr is not None:
            self._stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        # Last resort so a forgotten server does not outlive the test run.
        try:
            self.kill()
        except Exception:
            pass

    # ---------------------------------------------------------------- use

    def url(self, path: str, user: str | None = None, password: str | None = None) -> str:
        """``rtsp://[user:password@]127.0.0.1:<port><path>``."""
        if not path.startswith("/"):
            path = "/" + path
        cred = ""
        if user is not None:
            cred = quote(user, safe="")
            if password is not None:
                cred += ":" + quote(password, safe="")
            cred += "@"
        return f"rtsp://{cred}127.0.0.1:{self.port}{path}"

    def _command(self, cmd: str, path: str, timeout: float = 5.0) -> str:
        """Send a control command; return what follows the server's ``OK``."""
        with self._cmd_lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                raise RtspServerError("RTSP server is not running")
            proc.stdin.write(json.dumps({"cmd": cmd, "path": path}) + "\n")
            proc.stdin.flush()
            try:
                reply = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise RtspServerError(f"no reply to {cmd} {path}") from None
            if reply is None or not (reply == "OK" or reply.startswith("OK ")):
                raise RtspServerError(f"{cmd} {path}: {reply}")
            return reply[3:]

    def stall(self, path: str) -> None:
        """Stop sending frames on ``path``; RTSP sessions stay open."""
        self._command("stall", path)

    def resume(self, path: str) -> None:
        """Start sending frames on ``path`` again."""
        self._command("resume", path)

    def pipelines_built(self, path: str) -> int:
        """How many media pipelines the server has built for ``path`` so far (a new one per client after all
        left, unless the mount is ``always_on``)."""
        return int(self._command("pipelines", path))


class _TcpServer:
    """Threaded accept loop on 127.0.0.1; subclasses handle each connection."""

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self.port = 0
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.start()

    def start(self) -> None:
        if self._sock is not None:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self._requested_port or self.port))
        s.listen(64)
        s.settimeout(0.2)
        self._sock = s
        self.port = int(s.getsockname()[1])
        self._stop.clear()
        threading.Thread(target=self._accept_loop, args=(s,), daemon=True).start()

    def _accept_loop(self, s: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = s.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop listening and drop every connection."""
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class SilentServer(_TcpServer):
    """Accepts TCP connections and never says anything (a hung camera)."""

    def _serve(self, conn: socket.socket) -> None:
        # Hold the connection open, draining requests, until stop().
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                if conn.recv(4096) == b"":
                    return
            except TimeoutError:
                continue
            except OSError:
                return


class MuteRtspServer(_TcpServer):
    """Answers the RTSP handshake (an H.264 session with no parameter sets in its SDP), then sends nothing:
    what a camera did after the service was killed and restarted, until it was dialled again."""

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        buffer = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\r\n\r\n" in buffer:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                try:
                    conn.sendall(self._answer(head.decode("latin-1")))
                except OSError:  # the client hung up, or the server is stopping and closed the connection
                    return

    @staticmethod
    def _answer(head: str) -> bytes:
        lines = head.split("\r\n")
        method, url = lines[0].split(" ")[:2]
        cseq = next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("cseq")), "0")
        extra = ""
        body = ""
        if method == "DESCRIBE":
            body = (
                "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=mute\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"
                "a=control:trackID=0\r\n"
            )
            extra = f"Content-Base: {url}/\r\nContent-Type: application/sdp\r\nContent-Length: {len(body)}\r\n"
        elif method == "SETUP":
            extra = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 4711\r\n"
        elif method == "PLAY":
            extra = "Session: 4711\r\n"
        return f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{extra}\r\n{body}".encode()


class GarbageServer(_TcpServer):
    """Answers every connection with random non-RTSP bytes.

    ``close_after=True`` hangs up after the garbage; otherwise the connection
    stays open (silent) until stop().
    """

    def __init__(self, port: int = 0, *, nbytes: int = 512, close_after: bool = False) -> None:
        self.nbytes = nbytes
        self.close_after = close_after
        super().__init__(port)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        try:
            try:
                conn.recv(4096)  # let the client speak first, like RTSP
            except TimeoutError:
                pass
            # Start with a byte that cannot begin "RTSP/1.0" or "$" framing.
            junk = b"\x00" + random.randbytes(max(0, self.nbytes - 1))
            conn.sendall(junk)
            if self.close_after:
                conn.close()
                return
            while not self._stop.is_set():
                try:
                    if conn.recv(4096) == b"":
                        return
                except TimeoutError:
                    continue
        except OSError:
            return
