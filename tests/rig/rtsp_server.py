#!/usr/bin/python3
"""Simulated IP cameras: a GStreamer RTSP server serving looped MP4 clips.

Runs under Debian's /usr/bin/python3 (needs ``gi``; PyAV is not available here).

    rtsp_server.py --port 0 --mounts '[{"path": "/cam1", "clip": "/abs/a.mp4"}]'

Prints ``READY <port>`` once listening on 127.0.0.1, then serves until killed
(or until stdin closes, so an orphaned server dies with its parent).
Control on stdin, one JSON object a line, answered ``OK`` / ``ERR <reason>``:
``{"cmd": "stall", "path": "/cam1"}`` / ``{"cmd": "resume", "path": "/cam1"}``;
``{"cmd": "pipelines", "path": "/cam1"}`` is answered ``OK <n>``, the media
pipelines built for that mount so far.

Mount keys: ``path``; ``clip`` (H.264/H.265 MP4) or ``"kind": "audio"``, or
``"kind": "record"`` with ``file`` (an absolute path): a mount that takes what a
client pushes (ANNOUNCE/RECORD, H.264 or, with ``"codec": "h265"``, H.265) and
writes it as MPEG-TS to ``file``, without decoding;
optional ``inband_params`` (repeat SPS/PPS[/VPS] before key frames; by default
they are only in the SDP), ``always_on`` (the camera's pipeline outlives its
clients, as a real camera's encoder does, resting while nobody watches, and each
client that starts playing gets a key frame at once: the clip skips ahead to its
next one; by default the last client's leaving drops the media, and the next
client waits for a new pipeline, built one camera after another, ~40 ms each)
and ``auth`` ``{"user", "password"}`` (basic auth).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstApp, GstRtspServer  # noqa: E402 - after require_version

_out_lock = threading.Lock()


def say(line: str) -> None:
    """Write one line to stdout (shared by main loop and the control thread)."""
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def log(msg: str) -> None:
    sys.stderr.write(f"rtsp_server: {msg}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- clips


@dataclass
class Clip:
    """All access units of an MP4 video track, held in memory."""

    caps: Gst.Caps
    codec: str  # "h264" | "h265"
    buffers: list[Gst.Buffer]
    rel_pts: list[int]  # ns from the first frame
    durations: list[int]  # ns
    length: int  # ns, one full loop
    sizes: list[int]
    keys: list[int]  # indices of the key frames


def load_clip(path: str) -> Clip:
    """Demux ``path`` into memory (no decoding)."""
    pipe = Gst.parse_launch("filesrc name=file ! qtdemux name=d d.video_0 ! appsink name=sink sync=false")
    pipe.get_by_name("file").set_property("location", path)
    sink = pipe.get_by_name("sink")
    caps: Gst.Caps | None = None
    bufs: list[Gst.Buffer] = []
    if pipe.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE:
        while True:
            # Timeout: on a demux error pull-sample would block forever.
            sample = sink.try_pull_sample(5 * Gst.SECOND)
            if sample is None:
                break
            if caps is None:
                caps = sample.get_caps()
            bufs.append(sample.get_buffer())
    bus = pipe.get_bus()
    err = bus.pop_filtered(Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if err is not None or caps is None or not bufs:
        detail = err.parse_error()[0].message if err else "no video samples"
        raise RuntimeError(f"cannot load {path}: {detail}")
    name = caps.get_structure(0).get_name()
    codec = {"video/x-h264": "h264", "video/x-h265": "h265"}.get(name)
    if codec is None:
        raise RuntimeError(f"{path}: unsupported video {name}")
    s = caps.get_structure(0)
    ok, fn, fd = s.get_fraction("framerate")
    default_dur = Gst.util_uint64_scale(Gst.SECOND, fd, fn) if ok and fn else Gst.SECOND // 25
    first = bufs[0].pts
    rel = [b.pts - first for b in bufs]
    durs = [b.duration if b.duration != Gst.CLOCK_TIME_NONE and b.duration > 0 else default_dur for b in bufs]
    keys = [i for i, b in enumerate(bufs) if not b.has_flags(Gst.BufferFlags.DELTA_UNIT)] or [0]
    return Clip(caps, codec, bufs, rel, durs, rel[-1] + durs[-1], [b.get_size() for b in bufs], keys)


# --------------------------------------------------------------------------- pump

_COPY = Gst.BufferCopyFlags.FLAGS | Gst.BufferCopyFlags.MEMORY


@dataclass(eq=False)
class Mount:
    path: str
    clip: Clip | None
    stalled: bool = False
    always_on: bool = False
    feed: Feed | None = None  # its current media's
    pipelines: int = 0  # media built so far


@dataclass(eq=False)
class Feed:
    """One prepared media of a mount: an appsrc being fed the looped clip.

    Frame k of loop n is due at wall time ``t0 + n*length + rel_pts[k]`` and is
    stamped ``pts0 + n*length + rel_pts[k]`` (pipeline running time), so
    timestamps keep increasing across loops and stalls.
    """

    mount: Mount
    appsrc: GstApp.AppSrc
    media: GstRtspServer.RTSPMedia
    started: bool = False
    t0: float = 0.0  # monotonic seconds
    pts0: int = 0  # ns
    idx: int = 0
    loop: int = 0
    paused: bool = False  # not pushing, for either reason below
    stalled: bool = False  # ... including a stall command
    dead: bool = False
    was_watched: bool = False  # a client has played this media
    unwatched: bool = False  # ... and none does now (an always-on camera's): holding back, as if stalled
    rekey: bool = False  # a client started playing: go on from a key frame
    watchers_checked: float = 0.0  # monotonic seconds
    created: float = field(default_factory=time.monotonic)

    def offset(self) -> int:
        clip = self.mount.clip
        assert clip is not None
        return self.loop * clip.length + clip.rel_pts[self.idx]

    def due(self) -> float:
        return self.t0 + self.offset() / 1e9

    def watched(self) -> bool:
        """Whether any client takes this media's packets (gst-rtsp-server adds a transport at PLAY)."""
        return any(self.media.get_stream(i).transport_filter(None) for i in range(self.media.n_streams()))

    def skip_to_key_frame(self) -> None:
        """Go on from the clip's next key frame, its timestamps and due times those of the frame it skips to.

        The frames skipped are not sent: the stream stays continuous in time (a camera asked for a key frame
        inserts one), only its picture jumps ahead by less than a GOP.
        """
        clip = self.mount.clip
        assert clip is not None
        before = self.offset()
        later = [k for k in clip.keys if k >= self.idx]
        if later:
            self.idx = later[0]
        else:
            self.idx = clip.keys[0]
            self.loop += 1
        skipped = self.offset() - before
        self.t0 -= skipped / 1e9
        self.pts0 -= skipped


class Pump(threading.Thread):
    """Single thread pushing every active feed's frames at their wall-clock time.

    gst-rtsp-server's sinks don't pace output, so the clock is kept here.
    """

    POLL = 0.02  # s, for feeds waiting to start or stalled
    UNWATCHED_POLL = 0.05  # s, for an always-on feed nobody watches: a look at its transports costs more
    WATCHERS_EVERY = 1.0  # s, how often a watched always-on feed checks that it still is

    def __init__(self) -> None:
        super().__init__(name="pump", daemon=True)
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Feed]] = []
        self._seq = itertools.count()

    def add(self, feed: Feed) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), feed))
            self._cond.notify()

    def _schedule(self, when: float, feed: Feed) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), feed))

    def run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay > 0:
                        self._cond.wait(delay)
                        continue
                    _, _, feed = heapq.heappop(self._heap)
                    break
            if feed.dead:
                continue
            try:
                nxt = self._step(feed)
            except Exception as e:  # keep serving the other mounts
                log(f"{feed.mount.path}: pump error {e!r}")
                nxt = None
            if nxt is not None:
                self._schedule(nxt, feed)

    def _step(self, feed: Feed) -> float | None:
        """Push one frame of ``feed`` (or wait); return when to come back."""
        now = time.monotonic()
        src = feed.appsrc
        if not feed.started:
            # The clock is only distributed once the media pipeline is PLAYING
            # (gst-rtsp-media sets live media to PLAYING while preparing);
            # before that appsrc is flushing and would drop our buffers.
            clock = src.get_clock()
            base = src.get_base_time()
            if clock is None or base == 0:
                # The clock reaches the elements a moment before their base time does: a start in between
                # would stamp the frames with the clock's whole uptime, and the sinks would hold them that long.
                return now + self.POLL
            feed.pts0 = max(0, clock.get_time() - base)
            feed.t0 = now
            feed.started = True
        if feed.mount.stalled:
            feed.paused = feed.stalled = True
            return now + self.POLL
        if src.get_current_level_buffers() >= 2:
            # Downstream is not consuming: a prepared shared media stays
            # blocked until some client PLAYs (e.g. after a bare DESCRIBE).
            # Holding back, instead of queueing, spares the next client a
            # burst of stale frames.
            feed.paused = True
            return now + self.POLL
        if feed.mount.always_on and (feed.unwatched or now - feed.watchers_checked >= self.WATCHERS_EVERY):
            # An always-on media stays PLAYING once its clients left, its sinks dropping what comes: rest instead
            # of pumping frames nobody takes. (Before its first client the media needs frames for its SDP, and
            # the blocked pipeline holds the pump back as above.)
            feed.watchers_checked = now
            watched = feed.watched()
            if feed.was_watched and not watched:
                feed.paused = feed.unwatched = True
                return now + self.UNWATCHED_POLL
            feed.was_watched = watched
            feed.unwatched = False
        if feed.rekey:
            feed.rekey = False
            feed.skip_to_key_frame()
        if feed.paused:
            # Continue "now". After a stall the camera's clock kept running,
            # so media time jumps too; after a blocked pipeline, media time
            # continues from the frames held downstream, so the stream stays
            # gap-free for the client that unblocks it.
            shift = now - feed.due()
            if shift > 0:
                feed.t0 += shift
                if feed.stalled:
                    feed.pts0 += int(shift * 1e9)
            feed.paused = feed.stalled = False
        clip = feed.mount.clip
        assert clip is not None
        pts = feed.pts0 + feed.offset()
        # New buffer sharing the clip's memory (Buffer.copy() in PyGObject is
        # only a ref, and the clip's own timestamps must stay untouched).
        buf = clip.buffers[feed.idx].copy_region(_COPY, 0, clip.sizes[feed.idx])
        buf.pts = pts
        buf.dts = pts
        buf.duration = clip.durations[feed.idx]
        ret = src.push_buffer(buf)
        if ret != Gst.FlowReturn.OK:
            # Media was unprepared (appsrc flushing) -- this feed is over.
            feed.dead = True
            return None
        feed.idx += 1
        if feed.idx == len(clip.buffers):
            feed.idx = 0
            feed.loop += 1
        return feed.due()


# --------------------------------------------------------------------------- server


PAY = {"h264": ("h264parse", "rtph264pay"), "h265": ("h265parse", "rtph265pay")}


class VideoFactory(GstRtspServer.RTSPMediaFactory):
    """Shared factory whose media are fed by the pump through an appsrc."""

    def __init__(self, mount: Mount, pump: Pump, inband: bool) -> None:
        super().__init__()
        clip = mount.clip
        assert clip is not None
        parse, pay = PAY[clip.codec]
        # config-interval=0: parameter sets only in the SDP (sprop-*), from the
        # caps' codec_data; -1: also in-band before every key frame.
        interval = -1 if inband else 0
        self.set_launch(
            "( appsrc name=src is-live=true format=time do-timestamp=false "
            f"! {parse} ! {pay} name=pay0 pt=96 config-interval={interval} )"
        )
        self.set_shared(True)
        self._mount = mount
        self._pump = pump
        self.connect("media-configure", self._on_configure)

    def _on_configure(self, _factory: Any, media: GstRtspServer.RTSPMedia) -> None:
        # Called for every new media: the first client after all others left
        # gets a fresh pipeline (shared media is unprepared and dropped).
        src = media.get_element().get_by_name("src")
        clip = self._mount.clip
        assert clip is not None
        src.set_property("caps", clip.caps)
        feed = Feed(self._mount, src, media)
        self._mount.feed = feed
        self._mount.pipelines += 1
        media.connect("unprepared", lambda *_: setattr(feed, "dead", True))
        if self._mount.always_on:
            # A shared media is dropped when its last client's session goes (each session holds one
            # "prepare"); one more, held by the server itself, keeps the pipeline running between clients.
            media.connect("prepared", lambda *_: GLib.idle_add(_hold_prepared, media))
        self._pump.add(feed)


def on_play(_client: Any, ctx: GstRtspServer.RTSPContext, mounts: dict[str, Mount]) -> None:
    """A client plays an always-on camera: answer with a key frame, as the fresh pipeline of another camera does
    (and a real camera asked for one)."""
    mount = mounts.get(ctx.uri.abspath) if ctx.uri is not None else None
    if mount is not None and mount.always_on and mount.feed is not None:
        mount.feed.rekey = True
        # gst-rtsp-stream (1.22) sends to TCP clients from a thread that sleeps until a sample comes or a message
        # was sent. A client that left with a packet still queued (or a wake-up that served RTCP only) can leave
        # it asleep with an RTP sample unsent, which blocks the pipeline; nothing wakes it but the next RTCP
        # packet, 2-6 s later, and this client's first frames waited that long (10 of 4,320 connections of
        # `bench/concurrent_open.py 48 --kept --gap 1`, none since). Telling the stream that a message was sent on
        # the new transport wakes it now; a spare wake-up costs nothing. (`get_transport`, not `get_transports`:
        # that one's array comes to Python with references it does not own, and the server soon aborts.)
        sessmedia, media = ctx.sessmedia, ctx.media
        if sessmedia is not None and media is not None:
            for index in range(media.n_streams()):
                transport = sessmedia.get_transport(index)
                if transport is not None:
                    transport.message_sent()


def _hold_prepared(media: GstRtspServer.RTSPMedia) -> bool:
    media.prepare(None)
    return False  # once


def build_server(
    port: int, mounts: list[dict[str, Any]], pump: Pump
) -> tuple[GstRtspServer.RTSPServer, dict[str, Mount]]:
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    table = server.get_mount_points()
    clips: dict[str, Clip] = {}
    by_path: dict[str, Mount] = {}
    factories: list[tuple[GstRtspServer.RTSPMediaFactory, dict[str, Any]]] = []
    for m in mounts:
        path = m["path"]
        if not path.startswith("/"):
            path = "/" + path
        factory: GstRtspServer.RTSPMediaFactory
        if m.get("kind") == "record":
            mount = Mount(path, None)
            codec = "h265" if m.get("codec") == "h265" else "h264"
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
            factory.set_launch(
                f"( rtp{codec}depay name=depay0 ! {codec}parse config-interval=-1 ! mpegtsmux "
                f"! filesink location={m['file']} sync=false )"
            )
            factory.set_shared(False)
        elif m.get("kind") == "audio":
            mount = Mount(path, None)
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(
                "( audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 "
                "! mulawenc ! rtppcmupay name=pay0 pt=0 )"
            )
            factory.set_shared(True)
        else:
            clip_path = m["clip"]
            if clip_path not in clips:
                clips[clip_path] = load_clip(clip_path)
            mount = Mount(path, clips[clip_path], always_on=bool(m.get("always_on")))
            factory = VideoFactory(mount, pump, bool(m.get("inband_params")))
        by_path[path] = mount
        table.add_factory(path, factory)
        factories.append((factory, m))

    # Auth is server-wide in gst-rtsp-server: once set, every factory needs
    # permissions. Anonymous clients get the default token ("anon" role).
    # Every role may *access* every factory (lacking access answers 404), but
    # only permitted roles may *construct* media, and lacking that answers 401.
    creds = {(a["user"], a["password"]) for _, m in factories if (a := m.get("auth"))}
    if creds:
        auth = GstRtspServer.RTSPAuth()
        anon = GstRtspServer.RTSPToken()
        anon.set_string("media.factory.role", "anon")
        auth.set_default_token(anon)
        roles: dict[tuple[str, str], str] = {}
        for i, (user, pw) in enumerate(sorted(creds)):
            role = f"user{i}"
            roles[(user, pw)] = role
            tok = GstRtspServer.RTSPToken()
            tok.set_string("media.factory.role", role)
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, pw), tok)
        server.set_auth(auth)
        every = ["anon", *roles.values()]
        for factory, m in factories:
            a = m.get("auth")
            builders = [roles[(a["user"], a["password"])]] if a else every
            perms = GstRtspServer.RTSPPermissions()
            for role in every:
                perms.add_permission_for_role(role, "media.factory.access", True)
                perms.add_permission_for_role(role, "media.factory.construct", role in builders)
            factory.set_permissions(perms)
    return server, by_path


def control_loop(mounts: dict[str, Mount], loop: GLib.MainLoop) -> None:
    """Serve stdin commands; quit the server when stdin closes."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
            cmd, path = msg.get("cmd"), msg.get("path")
            mount = mounts.get(path)
            if cmd not in ("stall", "resume", "pipelines"):
                say(f"ERR unknown command {cmd!r}")
            elif mount is None or mount.clip is None:
                say(f"ERR no video mount {path!r}")
            elif cmd == "pipelines":
                say(f"OK {mount.pipelines}")
            else:
                mount.stalled = cmd == "stall"
                say("OK")
        except Exception as e:
            say(f"ERR {e!r}")
    GLib.idle_add(loop.quit)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mounts", required=True, help="JSON list of mount objects")
    args = ap.parse_args()
    Gst.init(None)
    pump = Pump()
    try:
        server, mounts = build_server(args.port, json.loads(args.mounts), pump)
    except Exception as e:
        log(f"bad configuration: {e}")
        return 2
    if server.attach(None) == 0:
        log(f"cannot listen on 127.0.0.1:{args.port}")
        return 3
    pump.start()
    loop = GLib.MainLoop()
    server.connect("client-connected", lambda _server, client: client.connect("play-request", on_play, mounts))

    def cleanup() -> bool:
        # Expire sessions of clients that vanished without TEARDOWN.
        server.get_session_pool().cleanup()
        return True

    GLib.timeout_add_seconds(2, cleanup)
    threading.Thread(target=control_loop, args=(mounts, loop), daemon=True).start()
    say(f"READY {server.get_bound_port()}")
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
