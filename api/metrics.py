"""Prometheus metrics, read from live camera health at scrape time (no global registry)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from notify.service import Notifications
from recordings.service import RecordingService
from service.camera_runtime import CameraRuntime
from streams.health import CameraState
from streams.live.viewers import LiveViewers
from uplink.service import UplinkService, oldest_age_s


class CameraCollector(Collector):
    def __init__(self, cameras: CameraRuntime) -> None:
        self._cameras = cameras

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("vms_camera_up", "1 when packets arrive from the camera", labels=["camera"])
        state = GaugeMetricFamily(
            "vms_camera_state", "Current connection state (1 for the state it is in)", labels=["camera", "state"]
        )
        fps = GaugeMetricFamily("vms_camera_fps", "Frames per second received", labels=["camera"])
        bitrate = GaugeMetricFamily("vms_camera_bitrate_bps", "Bits per second received", labels=["camera"])
        age = GaugeMetricFamily(
            "vms_camera_last_packet_age_seconds", "Seconds since the last packet", labels=["camera"]
        )
        reconnects = CounterMetricFamily("vms_camera_reconnects", "Reconnections since start", labels=["camera"])
        packets = CounterMetricFamily("vms_camera_packets", "Video packets received", labels=["camera"])
        received = CounterMetricFamily("vms_camera_received_bytes", "Video bytes received", labels=["camera"])
        dropped = CounterMetricFamily(
            "vms_consumer_dropped_packets",
            "Packets dropped because a consumer fell behind",
            labels=["camera", "consumer"],
        )
        for camera_id, main in self._cameras.snapshots().items():
            # A camera's sub-stream (`detect_source`) is a connection of its own: its series carry the name its
            # health and logs give it, `<camera>:detect`, so an alert on a lost sub-stream needs no new metric.
            sub = self._cameras.detect_stream(camera_id)
            connections = [(main, self._cameras.stream(camera_id))] + ([(sub.health.snapshot(), sub)] if sub else [])
            for snap, stream in connections:
                name = snap.camera_id
                up.add_metric([name], 1.0 if snap.state is CameraState.ONLINE else 0.0)
                for s in CameraState:
                    state.add_metric([name, s.value], 1.0 if snap.state is s else 0.0)
                fps.add_metric([name], snap.fps)
                bitrate.add_metric([name], snap.bitrate_bps)
                if snap.last_packet_age_s is not None:
                    age.add_metric([name], snap.last_packet_age_s)
                reconnects.add_metric([name], snap.reconnects)
                packets.add_metric([name], snap.packets_total)
                received.add_metric([name], snap.bytes_total)
                for consumer in stream.hub.consumers() if stream else []:
                    dropped.add_metric([name, consumer.name], consumer.dropped)
        yield from (up, state, fps, bitrate, age, reconnects, packets, received, dropped)


class WorkerCollector(Collector):
    """The worker processes that run the cameras (none where they run in the service process)."""

    def __init__(self, cameras: CameraRuntime) -> None:
        self._cameras = cameras

    def collect(self) -> Iterator[Metric]:
        workers = self._cameras.workers()
        if not workers:
            return
        up = GaugeMetricFamily("vms_worker_up", "1 while the worker process runs", labels=["worker"])
        cameras = GaugeMetricFamily("vms_worker_cameras", "Cameras assigned to the worker", labels=["worker"])
        cpu = GaugeMetricFamily("vms_worker_cpu_percent", "CPU of the worker, percent of one core", labels=["worker"])
        rss = GaugeMetricFamily("vms_worker_rss_bytes", "Resident memory of the worker", labels=["worker"])
        restarts = CounterMetricFamily("vms_worker_restarts", "Times the worker was restarted", labels=["worker"])
        for worker in workers:
            name = str(worker.index)
            up.add_metric([name], 1.0 if worker.state == "running" else 0.0)
            cameras.add_metric([name], len(worker.cameras))
            cpu.add_metric([name], worker.cpu_percent)
            rss.add_metric([name], worker.rss_bytes)
            restarts.add_metric([name], worker.restarts)
        yield from (up, cameras, cpu, rss, restarts)


class RecordingCollector(Collector):
    """Whether each camera records, what it wrote, and how full the recordings volume is."""

    def __init__(self, recordings: RecordingService, cameras: CameraRuntime) -> None:
        self._recordings = recordings
        self._cameras = cameras

    def collect(self) -> Iterator[Metric]:
        recording = GaugeMetricFamily(
            "vms_recording_active", "1 while the camera's video reaches the disk", labels=["camera"]
        )
        failing = GaugeMetricFamily(
            "vms_recording_failing", "1 while the camera cannot write (disk full, read-only)", labels=["camera"]
        )
        written = CounterMetricFamily("vms_recording_written_bytes", "Bytes of segments written", labels=["camera"])
        segments = CounterMetricFamily("vms_recording_segments", "Segments closed since start", labels=["camera"])
        unindexed = GaugeMetricFamily(
            "vms_recording_index_pending",
            "Changes to the recordings index the camera's process has not yet written (grows while it cannot)",
            labels=["camera"],
        )
        for camera in self._recordings.config.cameras:
            status = self._cameras.recorder_status(camera.id)
            if status is None:
                continue
            recording.add_metric([camera.id], 1.0 if status.state == "recording" else 0.0)
            failing.add_metric([camera.id], 1.0 if status.state == "failing" else 0.0)
            written.add_metric([camera.id], status.bytes_written)
            segments.add_metric([camera.id], status.segments_written)
            unindexed.add_metric([camera.id], status.index_pending)
        yield from (recording, failing, written, segments, unindexed)
        last = self._recordings.cleaner.last
        if last is not None:
            yield GaugeMetricFamily(
                "vms_recordings_bytes", "Bytes of video in the recordings index", value=last.recordings_bytes
            )
            yield GaugeMetricFamily(
                "vms_recordings_free_bytes", "Free bytes on the recordings volume", value=last.free_bytes
            )
            yield GaugeMetricFamily(
                "vms_retention_warnings", "Retention problems at the last pass", value=len(last.warnings)
            )


class LiveViewerCollector(Collector):
    def __init__(self, live: LiveViewers) -> None:
        self._live = live

    def collect(self) -> Iterator[Metric]:
        viewers = GaugeMetricFamily("vms_live_viewers", "Open live viewers", labels=["camera", "transport"])
        counts: dict[tuple[str, str], int] = {}
        for viewer in self._live.viewers():
            key = (viewer.camera_id, viewer.transport)
            counts[key] = counts.get(key, 0) + 1
        for (camera_id, transport), count in sorted(counts.items()):
            viewers.add_metric([camera_id, transport], count)
        yield viewers
        yield GaugeMetricFamily(
            "vms_live_peer_connections", "Open WebRTC peer connections", value=self._live.peer_connections
        )


class UplinkCollector(Collector):
    """Each upper platform: the event outbox (depth, oldest message, delivered, refused), each pushed stream, and
    the GB/T 28181 cascade (registered, sessions, video sent, the alarm outbox)."""

    def __init__(self, uplink: UplinkService) -> None:
        self._uplink = uplink

    def collect(self) -> Iterator[Metric]:
        by_platform = ["platform"]
        pending = GaugeMetricFamily("vms_uplink_pending", "Messages not yet taken by the platform", labels=by_platform)
        oldest = GaugeMetricFamily(
            "vms_uplink_oldest_pending_seconds", "Age of the oldest message not yet taken", labels=by_platform
        )
        delivered = CounterMetricFamily("vms_uplink_delivered", "Messages the platform took", labels=by_platform)
        parked = GaugeMetricFamily("vms_uplink_parked", "Messages the platform refused for good", labels=by_platform)
        by_push = ["platform", "camera", "mode"]
        push_up = GaugeMetricFamily("vms_uplink_push_up", "1 while a push sends packets", labels=by_push)
        push_bytes = CounterMetricFamily("vms_uplink_push_bytes", "Bytes pushed", labels=by_push)
        push_connections = CounterMetricFamily(
            "vms_uplink_push_connections", "Connections made to the media server", labels=by_push
        )
        registered = GaugeMetricFamily(
            "vms_uplink_gb28181_registered", "1 while registered with the platform", labels=by_platform
        )
        keepalive_age = GaugeMetricFamily(
            "vms_uplink_gb28181_keepalive_age_seconds",
            "Since the platform last answered a keepalive",
            labels=by_platform,
        )
        sessions = GaugeMetricFamily(
            "vms_uplink_gb28181_sessions", "Video sessions the platform holds", labels=by_platform
        )
        video_bytes = CounterMetricFamily(
            "vms_uplink_gb28181_video_bytes", "Video sent to the platform (PS over RTP)", labels=by_platform
        )
        alarms_pending = GaugeMetricFamily(
            "vms_uplink_gb28181_alarms_pending", "Alarms not yet taken by the platform", labels=by_platform
        )
        now = time.time()
        for platform in self._uplink.health():
            if platform.events is not None:
                pending.add_metric([platform.id], platform.events.pending)
                oldest.add_metric([platform.id], oldest_age_s(platform.events) or 0.0)
                delivered.add_metric([platform.id], platform.events.delivered)
                parked.add_metric([platform.id], platform.events.parked)
            for push in platform.pushes:
                labels = [platform.id, push.camera_id, push.mode]
                push_up.add_metric(labels, 1.0 if push.state == "pushing" else 0.0)
                push_bytes.add_metric(labels, push.bytes_sent)
                push_connections.add_metric(labels, push.connections)
            cascade = platform.gb28181
            if cascade is not None:
                registration = cascade.registration
                registered.add_metric([platform.id], 1.0 if registration.state == "registered" else 0.0)
                if registration.last_keepalive_at is not None:
                    keepalive_age.add_metric([platform.id], max(0.0, now - registration.last_keepalive_at))
                sessions.add_metric([platform.id], len(cascade.sessions))
                video_bytes.add_metric([platform.id], cascade.bytes_sent)
                alarms_pending.add_metric([platform.id], cascade.alarms.pending if cascade.alarms else 0)
            elif platform.gb28181_error is not None:
                registered.add_metric([platform.id], 0.0)
        yield from (pending, oldest, delivered, parked, push_up, push_bytes, push_connections)
        yield from (registered, keepalive_age, sessions, video_bytes, alarms_pending)


class NotificationCollector(Collector):
    """Each notifier's deliveries by state: pending (waiting or being retried), delivered, failed (given up)."""

    def __init__(self, notifications: Notifications) -> None:
        self._notifications = notifications

    def collect(self) -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "vms_notification_deliveries", "Notification deliveries by notifier and state", labels=["notifier", "state"]
        )
        for (notifier, state), count in sorted(self._notifications.counts().items()):
            deliveries.add_metric([notifier, state], count)
        yield deliveries


def registry_for(
    cameras: CameraRuntime,
    recordings: RecordingService | None = None,
    live: LiveViewers | None = None,
    uplink: UplinkService | None = None,
    notifications: Notifications | None = None,
) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CameraCollector(cameras))
    registry.register(WorkerCollector(cameras))
    if recordings is not None:
        registry.register(RecordingCollector(recordings, cameras))
    if live is not None:
        registry.register(LiveViewerCollector(live))
    if uplink is not None:
        registry.register(UplinkCollector(uplink))
    if notifications is not None:
        registry.register(NotificationCollector(notifications))
    return registry
