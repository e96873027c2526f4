"""A GB/T 28181 upper platform for the tests, written apart from vms's own SIP code (so that a mistake shared by
both cannot hide): it challenges REGISTER with digest (with or without qop) and checks the answer itself, answers
keepalives (or stops answering, on request), records every MESSAGE and NOTIFY, sends queries, SUBSCRIBEs and
INVITEs, and receives the video as RTP over UDP or TCP (either role), reassembling the program stream."""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import struct
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from tests.rig.rtsp import free_port

SERVER_ID = "32060000002000000001"  # Nantong (3206), a platform (type 200)
DOMAIN = "3206000000"


@dataclass
class Message:
    first: str
    headers: list[tuple[str, str]]
    body: bytes
    source: tuple[str, int]
    at: float = field(default_factory=time.time)

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    @property
    def is_response(self) -> bool:
        return self.first.startswith("SIP/2.0")

    @property
    def status(self) -> int:
        return int(self.first.split()[1])

    @property
    def method(self) -> str:
        return self.first.split()[0] if not self.is_response else self.header("cseq").split()[1]

    def xml(self) -> ET.Element:
        declared = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', self.body)
        charset = declared.group(1).decode().lower() if declared else "utf-8"
        text = self.body.decode("gb18030" if charset.startswith("gb") else charset)
        return ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))


def _parse(data: bytes, source: tuple[str, int]) -> Message:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", errors="replace").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return Message(lines[0], headers, body, source)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class UpperPlatform:
    def __init__(self, password: str, transport: str = "udp", qop: bool = True) -> None:
        self.password = password
        self.transport = transport
        self.qop = qop
        self.port = free_port()
        self.answer_keepalives = True
        self.registrations: list[Message] = []  # every REGISTER, with the time it came
        self.registered_as: str | None = None
        self.expires_granted: int | None = None
        self.messages: list[Message] = []  # MESSAGEs from vms (keepalives, answers, alarms, media status)
        self.notifies: list[Message] = []
        self.byes: list[Message] = []
        self.vms: tuple[str, int] | None = None
        self._nonce = secrets.token_hex(8)
        self._lock = threading.Condition()
        self._responses: dict[str, Message] = {}
        self._cseq = 100
        self._stop = threading.Event()
        self._conn: socket.socket | None = None
        if transport == "udp":
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sock.bind(("127.0.0.1", self.port))
            self._sock.settimeout(0.2)
        else:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind(("127.0.0.1", self.port))
            self._sock.listen(4)
            self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        if self._conn is not None:
            self._conn.close()

    def __enter__(self) -> UpperPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the wire ---------------------------------------------------------------------------------

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                if self.transport == "udp":
                    data, source = self._sock.recvfrom(65536)
                    self._on(_parse(data, source))
                    continue
                if self._conn is None:
                    self._conn, _ = self._sock.accept()
                    self._conn.settimeout(0.2)
                    buffer = b""
                chunk = self._conn.recv(65536)
                if not chunk:
                    self._conn = None
                    continue
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    match = re.search(rb"content-length\s*:\s*(\d+)", head, re.I)
                    length = int(match.group(1)) if match else 0
                    if len(rest) < length:
                        break
                    source = self._conn.getpeername()
                    buffer = rest[length:]
                    self._on(_parse(head + b"\r\n\r\n" + rest[:length], source))
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                if self._stop.is_set():
                    return
                self._conn = None

    def send_raw(self, data: bytes, to: tuple[str, int] | None = None) -> None:
        to = to or self.vms
        assert to is not None, "vms has not registered yet"
        if self.transport == "udp":
            self._sock.sendto(data, to)
        else:
            assert self._conn is not None
            self._conn.sendall(data)

    def _reply(
        self, request: Message, status: int, reason: str, extra: list[tuple[str, str]] = (), body: bytes = b""
    ) -> None:  # type: ignore[assignment]
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in request.headers if k.lower() in ("via", "from", "call-id", "cseq")]
        to = request.header("to")
        lines.append(f"To: {to}" if "tag=" in to else f"To: {to};tag=p{secrets.token_hex(3)}")
        lines += [f"{k}: {v}" for k, v in extra]
        lines.append(f"Content-Length: {len(body)}")
        self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode() + body, request.source)

    def _on(self, message: Message) -> None:
        if message.is_response:
            with self._lock:
                self._responses[message.header("call-id") + message.header("cseq")] = message
                self._lock.notify_all()
            return
        method = message.method
        if method == "REGISTER":
            self._register(message)
        elif method == "MESSAGE":
            keepalive = b"<CmdType>Keepalive</CmdType>" in message.body
            if not keepalive or self.answer_keepalives:
                self._reply(message, 200, "OK")
            with self._lock:
                self.messages.append(message)
                self._lock.notify_all()
        elif method == "NOTIFY":
            self._reply(message, 200, "OK")
            with self._lock:
                self.notifies.append(message)
                self._lock.notify_all()
        elif method == "BYE":
            self._reply(message, 200, "OK")
            with self._lock:
                self.byes.append(message)
                self._lock.notify_all()
        elif method != "ACK":
            self._reply(message, 200, "OK")

    def _register(self, request: Message) -> None:
        with self._lock:
            self.registrations.append(request)
            self._lock.notify_all()
        authorization = request.header("authorization")
        if not authorization:
            qop = ', qop="auth"' if self.qop else ""
            challenge = f'Digest realm="{DOMAIN}", nonce="{self._nonce}"{qop}, algorithm=MD5'
            self._reply(request, 401, "Unauthorized", [("WWW-Authenticate", challenge)])
            return
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', authorization))
        ha1 = _md5(f"{params['username']}:{DOMAIN}:{self.password}")
        ha2 = _md5(f"REGISTER:{params['uri']}")
        if self.qop:
            expected = _md5(f"{ha1}:{self._nonce}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{self._nonce}:{ha2}")
        if params.get("response") != expected or params.get("nonce") != self._nonce:
            self._reply(request, 403, "Forbidden")
            return
        expires = int(request.header("expires") or 3600)
        contact = re.search(r"sip:([0-9]+)@([0-9.]+):([0-9]+)", request.header("contact"))
        assert contact, request.header("contact")
        with self._lock:
            if expires == 0:
                self.registered_as = None
            else:
                self.registered_as = contact.group(1)
                self.expires_granted = expires
                self.vms = request.source if self.transport == "tcp" else (contact.group(2), int(contact.group(3)))
            self._lock.notify_all()
        self._reply(request, 200, "OK", [("Expires", str(expires)), ("Date", time.strftime("%Y-%m-%dT%H:%M:%S"))])

    # --- waiting ------------------------------------------------------------------------------------

    def wait(self, condition: Any, timeout: float = 20.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = condition()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"never: {what}")
                self._lock.wait(min(left, 0.2))

    def answers(self, cmd_type: str, sn: int, timeout: float = 10.0) -> list[ET.Element]:
        """The Response bodies to a query, once as many items came as SumNum says."""

        def complete() -> list[ET.Element] | None:
            found = [
                root
                for message in self.messages
                if f"<CmdType>{cmd_type}</CmdType>".encode() in message.body
                and (root := message.xml()).tag == "Response"
                and root.findtext("SN") == str(sn)
            ]
            if not found:
                return None
            total = int(found[0].findtext("SumNum") or 0)
            lists = [child for root in found for child in root if child.get("Num") is not None]
            return found if sum(int(li.get("Num") or 0) for li in lists) >= total else None

        return self.wait(complete, timeout, f"{cmd_type} answers to SN {sn}")

    # --- our requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        content_type: str = "Application/MANSCDP+xml",
        extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
        call_id: str | None = None,
        from_tag: str | None = None,
        to_tag: str | None = None,
        timeout: float = 10.0,
    ) -> Message:
        assert self.vms is not None, "vms has not registered yet"
        self._cseq += 1
        call_id = call_id or secrets.token_hex(8)
        from_tag = from_tag or secrets.token_hex(4)
        host, port = self.vms
        to = f"<sip:{target}@{DOMAIN}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [
            f"{method} sip:{target}@{host}:{port} SIP/2.0",
            f"Via: SIP/2.0/{self.transport.upper()} 127.0.0.1:{self.port};rport;branch=z9hG4bK{secrets.token_hex(6)}",
            f"From: <sip:{SERVER_ID}@{DOMAIN}>;tag={from_tag}",
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {self._cseq} {method}",
            f"Contact: <sip:{SERVER_ID}@127.0.0.1:{self.port}>",
            "Max-Forwards: 70",
        ]
        lines += [f"{k}: {v}" for k, v in extra]
        if body:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        key = f"{call_id}{self._cseq} {method}"
        self.send_raw(data)
        if method == "ACK":
            return Message("", [], b"", ("", 0))
        return self.wait(lambda: self._responses.get(key), timeout, f"an answer to {method}")

    def query(
        self, cmd_type: str, device_id: str, fields: dict[str, str] | None = None, charset: str = "GB2312"
    ) -> int:
        sn = secrets.randbelow(10**6)
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in (fields or {}).items())
        xml = (
            f'<?xml version="1.0" encoding="{charset}"?>\r\n<Query><CmdType>{cmd_type}</CmdType><SN>{sn}</SN>'
            f"<DeviceID>{device_id}</DeviceID>{inner}</Query>\r\n"
        )
        answer = self.request("MESSAGE", device_id, xml.encode("gb18030" if charset == "GB2312" else "utf-8"))
        assert answer.status == 200, answer.first
        return sn

    def invite(self, channel_id: str, sdp: str, ssrc: str = "0320600001") -> tuple[Message, Dialog]:
        call_id, tag = secrets.token_hex(8), secrets.token_hex(4)
        subject = [("Subject", f"{channel_id}:{ssrc},{SERVER_ID}:0")]
        answer = self.request("INVITE", channel_id, sdp.encode(), "APPLICATION/SDP", subject, call_id, tag)
        to_tag = re.search(r"tag=([^;>\s]+)", answer.header("to"))
        return answer, Dialog(channel_id, call_id, tag, to_tag.group(1) if to_tag else "")

    def in_dialog(self, dialog: Dialog, method: str, body: bytes = b"", content_type: str = "") -> Message:
        return self.request(
            method, dialog.channel_id, body, content_type, [], dialog.call_id, dialog.from_tag, dialog.to_tag
        )


@dataclass
class Dialog:
    channel_id: str
    call_id: str
    from_tag: str
    to_tag: str


def offer(
    kind: str,
    port: int,
    transport: str = "udp",
    start: int = 0,
    stop: int = 0,
    ssrc: str = "0320600001",
    speed: float | None = None,
    channel: str = "",
) -> str:
    """The platform's SDP: `transport` udp, or tcp-passive (the platform listens) or tcp-active (it connects)."""
    proto = "RTP/AVP" if transport == "udp" else "TCP/RTP/AVP"
    lines = [
        "v=0",
        f"o={SERVER_ID} 0 0 IN IP4 127.0.0.1",
        f"s={kind}",
        *([f"u={channel}:0"] if channel else []),
        "c=IN IP4 127.0.0.1",
        f"t={start} {stop}",
        f"m=video {port} {proto} 96 98 97",
        "a=recvonly",
        "a=rtpmap:96 PS/90000",
        "a=rtpmap:98 H264/90000",
        "a=rtpmap:97 MPEG4/90000",
    ]
    if transport != "udp":
        lines += [f"a=setup:{transport.split('-')[1]}", "a=connection:new"]
    if speed is not None:
        lines.append(f"a=downloadspeed:{speed:g}")
    lines.append(f"y={ssrc}")
    return "\r\n".join(lines) + "\r\n"


class RtpReceiver:
    """The platform's media port: RTP over UDP, or RFC 4571-framed over TCP (listening, or connecting to vms)."""

    def __init__(self, transport: str = "udp", keep: bool = True) -> None:
        self.transport = transport
        self.keep = keep  # False: count only (benchmarks)
        self.packets: list[tuple[int, int, bool, int, int, bytes, float]] = []  # seq, ts, marker, ssrc, pt, payload, at
        self.count = 0
        self.bytes = 0
        self.first_at: float | None = None
        self.closed_at: float | None = None
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._sock: socket.socket | None = None
        if transport == "udp":
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self._sock.bind(("127.0.0.1", 0))
            self._sock.settimeout(0.2)
            self.port = self._sock.getsockname()[1]
        elif transport == "tcp-passive":
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.bind(("127.0.0.1", 0))
            self._listener.listen(1)
            self._listener.settimeout(0.2)
            self.port = self._listener.getsockname()[1]
        else:
            self.port = 9
        self._thread: threading.Thread | None = None

    def start(self, connect_to: int | None = None) -> None:
        if self.transport == "tcp-active":
            assert connect_to
            self._sock = socket.create_connection(("127.0.0.1", connect_to), timeout=5)
            self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                if self._sock is None:
                    assert self._listener is not None
                    self._sock, _ = self._listener.accept()
                    self._sock.settimeout(0.2)
                    continue
                if self.transport == "udp":
                    self._packet(self._sock.recv(65536))
                    continue
                chunk = self._sock.recv(1 << 16)
                if not chunk:
                    self.closed_at = time.time()
                    return
                buffer += chunk
                while len(buffer) >= 2:
                    (length,) = struct.unpack(">H", buffer[:2])
                    if len(buffer) < 2 + length:
                        break
                    self._packet(buffer[2 : 2 + length])
                    buffer = buffer[2 + length :]
            except TimeoutError:
                continue
            except OSError:
                self.closed_at = time.time()
                return

    def _packet(self, data: bytes) -> None:
        self.count += 1
        self.bytes += len(data)
        if self.first_at is None:
            self.first_at = time.time()
        if not self.keep:
            return
        first, second, seq, ts, ssrc = struct.unpack(">BBHII", data[:12])
        assert first >> 6 == 2, "RTP version 2"
        self.packets.append((seq, ts, bool(second & 0x80), ssrc, second & 0x7F, data[12:], time.time()))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3)
        for sock in (self._sock, self._listener):
            if sock is not None:
                sock.close()

    def program_stream(self) -> bytes:
        """The payloads in order (sequence numbers unwrapped): the PS as vms sent it."""
        return b"".join(p[5] for p in self.packets)


@dataclass(frozen=True)
class ProgramStreamCheck:
    codec: str
    width: int
    height: int
    frames: int
    errors: str
    stream_types: list[int]  # from each program stream map


def check_program_stream(data: bytes, path: Any) -> ProgramStreamCheck:
    """What FFmpeg's own MPEG-PS demuxer (`-f mpeg`) makes of it: the codec and size, every frame decoded."""
    import json
    import subprocess

    path.write_bytes(data)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-f", "mpeg", "-count_frames", "-show_entries",
         "stream=codec_name,width,height,nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert probe.returncode == 0, f"ffprobe cannot read the {len(data)} bytes received: {probe.stderr[-500:]}"
    (stream,) = json.loads(probe.stdout)["streams"]
    decode = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "mpeg", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    types = []
    start = 0
    while (at := data.find(b"\x00\x00\x01\xbc", start)) >= 0:
        info_length = struct.unpack(">H", data[at + 8 : at + 10])[0]
        types.append(data[at + 12 + info_length])  # the first elementary stream's type
        start = at + 4
    return ProgramStreamCheck(
        stream["codec_name"], stream["width"], stream["height"], int(stream["nb_read_frames"]), decode.stderr, types
    )
