"""Recorded video of a camera: segments and gaps for a range, an HLS playlist, segment bytes, seeking."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import CameraAccess, CameraDep, RowId, ServiceDep, allow
from api.responses import HlsPlaylist, Mp4Stream, MultipartJpegStream, SegmentStream, problems
from api.time_range import Moment, checked_range, to_timestamp
from core.config import CameraConfig
from core.roles import Permission
from core.store.recordings import Segment
from media.mp4.file import read_layout
from media.multipart import multipart_part
from recordings.pictures import recorded_pictures
from recordings.playlist import hls_playlist, recorded_spans
from service.service import Service

router = APIRouter(responses=problems(401, 404))


class SegmentView(BaseModel):
    id: int
    start: float
    end: float
    duration_s: float
    size_bytes: int
    codec: str
    width: int
    height: int
    keyframes: int
    state: str


class GapView(BaseModel):
    start: float
    end: float | None  # None: the gap lasts until now
    duration_s: float
    cause: str


class SpanView(BaseModel):
    start: float
    end: float


class RecordingsView(BaseModel):
    camera_id: str
    start: float
    end: float
    retention_hours: float
    segments: list[SegmentView]
    gaps: list[GapView]
    spans: list[SpanView]  # the timeline: recorded spans with the gaps between them


class SeekView(BaseModel):
    segment_id: int
    segment_start: float
    keyframe_at: float  # where playback really starts: the key frame at or before the requested time
    offset_s: float  # keyframe_at within the segment
    in_gap: bool  # the requested time was not recorded; this is the next recorded moment


def retained_segments(service: Service, camera: CameraConfig, start_ts: float, end_ts: float) -> list[Segment]:
    """The camera's segments in the range; 410 when there are none because the range is past retention."""
    segments = service.store.recordings.segments(camera.id, start_ts, end_ts)
    hours = service.config.retention_hours(camera)
    if not segments and end_ts < time.time() - hours * 3600:
        raise HTTPException(status.HTTP_410_GONE, f"the range is older than this camera's retention of {hours:g} h")
    return segments


def _segments_in_range(
    service: Service, camera: CameraConfig, start: dt.datetime, end: dt.datetime
) -> tuple[float, float, list[Segment]]:
    start_ts, end_ts = checked_range(start, end, end_may_be_future=True)
    return start_ts, end_ts, retained_segments(service, camera, start_ts, end_ts)


@router.get(
    "/api/cameras/{camera_id}/recordings", dependencies=[allow(Permission.PLAYBACK)], responses=problems(400, 410)
)
def list_recordings(camera: CameraDep, service: ServiceDep, start: Moment, end: Moment) -> RecordingsView:
    start_ts, end_ts, segments = _segments_in_range(service, camera.camera, start, end)
    now = time.time()
    gaps = [
        GapView(
            start=g.start_ts,
            end=g.end_ts,
            duration_s=(g.end_ts if g.end_ts is not None else now) - g.start_ts,
            cause=g.cause,
        )
        for g in service.store.recordings.gaps(camera.id, start_ts, end_ts)
    ]
    return RecordingsView(
        camera_id=camera.id,
        start=start_ts,
        end=end_ts,
        retention_hours=camera.directory.config.retention_hours(camera.camera),
        segments=[
            SegmentView(
                id=s.id,
                start=s.start_ts,
                end=s.end_ts,
                duration_s=s.duration_s,
                size_bytes=s.size_bytes,
                codec=s.codec,
                width=s.width,
                height=s.height,
                keyframes=len(s.keyframes),
                state=s.state,
            )
            for s in segments
        ],
        gaps=gaps,
        spans=[SpanView(start=a, end=b) for a, b in recorded_spans(segments)],
    )


@router.get(
    "/api/cameras/{camera_id}/recordings/playlist.m3u8",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=HlsPlaylist,
    responses=problems(400, 410),
)
def playlist(camera: CameraDep, service: ServiceDep, start: Moment, end: Moment) -> HlsPlaylist:
    """HLS (version 7, fMP4) over every segment of the range; playback starts on the key frame at or before
    `start`. Segment URLs are relative, under this one."""
    start_ts, end_ts, segments = _segments_in_range(service, camera.camera, start, end)
    segments = [s for s in segments if s.duration_s > 0]  # a segment just opened has nothing to play yet
    if not segments:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no video was recorded in this range")
    camera.audit("recordings.playback", f"{start_ts:.3f}-{end_ts:.3f}", start=start_ts, end=end_ts)
    return HlsPlaylist(hls_playlist(segments, start_ts), headers={"Cache-Control": "no-store"})


@router.get(
    "/api/cameras/{camera_id}/recordings/seek", dependencies=[allow(Permission.PLAYBACK)], responses=problems(400)
)
def seek(camera: CameraDep, service: ServiceDep, at: Moment) -> SeekView:
    at_ts = to_timestamp(at, "at")
    repo = service.store.recordings
    found = repo.segments(camera.id, at_ts, at_ts + 1e-3)
    in_gap = not found
    if in_gap:
        found = repo.segments(camera.id, at_ts, math.inf)[:1]
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "nothing was recorded at or after this time")
    segment = found[0]
    keyframe = segment.keyframe_at_or_before(max(at_ts, segment.start_ts))
    # The web player seeks before it plays: this is where watching recorded video is audited.
    camera.audit("recordings.playback", f"from {keyframe:.3f}", start=keyframe)
    return SeekView(
        segment_id=segment.id,
        segment_start=segment.start_ts,
        keyframe_at=keyframe,
        offset_s=keyframe - segment.start_ts,
        in_gap=in_gap,
    )


# A jump in the pictures' times longer than this is a gap between recordings: played through, not waited out.
_GAP_S = 2.0


@router.get(
    "/api/cameras/{camera_id}/recordings/pictures.mjpg",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=MultipartJpegStream,
    responses=problems(400, 410),
)
async def recorded_picture_stream(
    camera: CameraDep,
    request: Request,
    service: ServiceDep,
    start: Moment,
    speed: float = Query(1.0, ge=0.25, le=16),
) -> MultipartJpegStream:
    """Playback as Motion JPEG, for cameras whose recordings browsers cannot play (H.265): pictures from
    `start` on, paced at `speed` times real time (gaps skipped), each part carrying `X-Wall-Time`."""
    start_ts = to_timestamp(start, "start")
    found = await asyncio.to_thread(retained_segments, service, camera.camera, start_ts, time.time() + 60)
    segments = [s for s in found if s.duration_s > 0]
    if not segments:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "nothing was recorded at or after this time")
    await camera.audit_async("recordings.playback", f"pictures from {start_ts:.3f}", start=start_ts)
    live = camera.directory.config.live
    pictures = recorded_pictures(
        camera.directory.config.recordings_dir, segments, start_ts, live.mjpeg_fps, live.mjpeg_max_width
    )

    async def parts() -> AsyncIterator[bytes]:
        clock: tuple[float, float] | None = None  # (monotonic, picture time) the pace is reckoned from
        last = None
        try:
            while not await request.is_disconnected():
                picture = await asyncio.to_thread(next, pictures, None)  # decoding stays off the event loop
                if picture is None:
                    return
                if clock is None or last is None or picture.at - last > _GAP_S:
                    clock = (time.monotonic(), picture.at)
                last = picture.at
                wait = clock[0] + (picture.at - clock[1]) / speed - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                yield multipart_part(picture.jpeg, {"X-Wall-Time": f"{picture.at:.3f}"})
        finally:
            try:
                pictures.close()
            except ValueError:
                pass  # still decoding in its thread: it ends with the generator's last reference

    return MultipartJpegStream(parts(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _segment(camera: CameraAccess, service: Service, segment_id: int) -> tuple[Segment, Path]:
    segment = service.store.recordings.segment(segment_id)
    if segment is None or segment.camera_id != camera.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no segment {segment_id} of camera {camera.id!r}")
    path = camera.directory.config.recordings_dir / segment.path
    if not path.exists():
        raise HTTPException(status.HTTP_410_GONE, "the segment was deleted by retention")
    return segment, path


StreamT = TypeVar("StreamT", bound=StreamingResponse)


def _bytes(response: type[StreamT], path: Path, start: int, end: int) -> StreamT:
    """Bytes `start` to `end` of a segment file, read as they are sent."""
    return response(_byte_range(path, start, end), headers={"Content-Length": str(end - start)})


def _byte_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0:
            data = handle.read(min(left, 256 * 1024))
            if not data:
                return
            left -= len(data)
            yield data


def _complete_size(segment: Segment, path: Path) -> int:
    """The bytes a reader may take: all of a closed segment; the complete fragments of an open one."""
    if segment.state == "closed":
        return path.stat().st_size
    layout = read_layout(path)
    return layout.complete_size if layout else 0


@router.get(
    "/api/cameras/{camera_id}/recordings/segments/{segment_id}/init.mp4",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=Mp4Stream,
    responses=problems(410),
)
def segment_init(camera: CameraDep, segment_id: RowId, service: ServiceDep) -> Mp4Stream:
    segment, path = _segment(camera, service, segment_id)
    layout = read_layout(path) if not segment.init_size else None
    size = segment.init_size or (layout.init_size if layout else 0)
    return _bytes(Mp4Stream, path, 0, size)


@router.get(
    "/api/cameras/{camera_id}/recordings/segments/{segment_id}/media.m4s",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=SegmentStream,
    responses=problems(410),
)
def segment_media(camera: CameraDep, segment_id: RowId, service: ServiceDep) -> SegmentStream:
    segment, path = _segment(camera, service, segment_id)
    layout = read_layout(path)
    if layout is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the segment has no video yet")
    end = _complete_size(segment, path)
    return _bytes(SegmentStream, path, layout.init_size, end)


@router.get(
    "/api/cameras/{camera_id}/recordings/segments/{segment_id}/file.mp4",
    dependencies=[allow(Permission.PLAYBACK)],
    response_class=Mp4Stream,
    responses=problems(410),
)
def segment_file(camera: CameraDep, segment_id: RowId, service: ServiceDep) -> Mp4Stream:
    segment, path = _segment(camera, service, segment_id)
    camera.audit("recordings.download", f"segment {segment_id}", start=segment.start_ts, end=segment.end_ts)
    size = _complete_size(segment, path)
    return _bytes(Mp4Stream, path, 0, size)
