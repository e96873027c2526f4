"""Live view: WHEP signalling for WebRTC, the fMP4-over-WebSocket fallback, Motion JPEG for what neither can
carry, and the open viewers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel

from api.deps import (
    SESSION_COOKIE,
    Caller,
    CameraAccess,
    CameraDep,
    ServiceDep,
    UserDep,
    allow,
    visible_camera,
    visible_cameras,
)
from api.guards import cookie_authenticated, from_own_page
from api.live_auth import websocket_user
from api.responses import MultipartJpegStream, SdpResponse, problems
from api.schemas import ViewerView
from core.roles import Permission, permits
from core.store.users import User
from media.multipart import multipart_part
from service.service import Service
from streams.live.errors import (
    CameraUnavailable,
    CodecNotForwardable,
    LiveViewError,
    MalformedOffer,
    NoCommonCodec,
    ViewerLimitReached,
)
from streams.live.fmp4 import Fmp4Feed
from streams.live.offer import MAX_OFFER_BYTES
from streams.live.slot import ViewerSlot

log = logging.getLogger(__name__)
router = APIRouter(responses=problems(401))

_STATUS: dict[type[LiveViewError], int] = {
    MalformedOffer: status.HTTP_400_BAD_REQUEST,
    NoCommonCodec: status.HTTP_422_UNPROCESSABLE_CONTENT,
    CameraUnavailable: status.HTTP_409_CONFLICT,
    CodecNotForwardable: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    ViewerLimitReached: status.HTTP_429_TOO_MANY_REQUESTS,
}
SessionId = Annotated[str, Path(max_length=64, description="a live session id (the WHEP `Location`)")]


def _refusal(error: LiveViewError) -> HTTPException:
    return HTTPException(_STATUS.get(type(error), status.HTTP_400_BAD_REQUEST), str(error))


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"SDP offer larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"SDP offer larger than {limit} bytes")
    return bytes(body)


@router.post(
    "/api/cameras/{camera_id}/whep",
    dependencies=[allow(Permission.LIVE)],
    status_code=201,
    response_class=SdpResponse,
    responses=problems(400, 404, 409, 413, 415, 429),
    openapi_extra={"requestBody": {"required": True, "content": {"application/sdp": {"schema": {"type": "string"}}}}},
)
async def whep_offer(camera: CameraDep, request: Request, service: ServiceDep) -> SdpResponse:
    """WHEP: an SDP offer in, the answer out (201, `Location` names the session to DELETE)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/sdp":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send the SDP offer as Content-Type: application/sdp"
        )
    body = await _bounded_body(request, MAX_OFFER_BYTES)
    try:
        offer = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the SDP offer is not UTF-8 text") from None
    try:
        slot, answer = await service.live.open_webrtc(camera.id, camera.caller.user.username, offer)
    except LiveViewError as error:
        raise _refusal(error) from None
    try:
        await _audit_view(service, camera, slot)
    except BaseException:
        await service.live.close(slot.id)  # no view goes unaudited, and none is left open
        raise
    return SdpResponse(answer, status_code=201, headers={"Location": f"/api/live/sessions/{slot.id}"})


async def _audit_view(service: Service, camera: CameraAccess, slot: ViewerSlot) -> None:
    """A live view's start (before any picture goes out), and its end with the span watched once its slot is
    released, however it ends: the viewer leaving, a watchdog, the camera removed, shutdown."""
    await camera.audit_async("live_view", slot.transport, start=slot.opened_at)

    async def ended(slot: ViewerSlot, at: float) -> None:
        await camera.audit_async("live_view.end", slot.transport, start=slot.opened_at, end=at)

    service.live.when_released(slot, ended)


def _may_manage(service: Service, user: User, slot: ViewerSlot) -> bool:
    """A viewer's own sessions; an operator's also those of the cameras in their organisation unit."""
    if slot.username == user.username:
        return True
    if not permits(user.role, Permission.OPERATE):
        return False
    try:
        visible_camera(service.directory, user, slot.camera_id)
    except HTTPException:
        return False
    return True


@router.delete(
    "/api/live/sessions/{session_id}", dependencies=[allow(Permission.LIVE)], status_code=204, responses=problems(404)
)
async def whep_close(session_id: SessionId, service: ServiceDep, user: UserDep) -> None:
    slot = service.live.slot(session_id)
    if slot is None or not _may_manage(service, user, slot):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live session {session_id!r}")
    await service.live.close(session_id)


@router.patch("/api/live/sessions/{session_id}", dependencies=[allow(Permission.LIVE)], responses=problems(405))
async def whep_trickle(session_id: SessionId, user: UserDep) -> None:
    # WHEP lets a server refuse trickle ICE; the answer carries every candidate, so the offer should too.
    raise HTTPException(
        status.HTTP_405_METHOD_NOT_ALLOWED,
        "trickle ICE is not supported: gather candidates before sending the offer",
    )


class LiveViewersView(BaseModel):
    peer_connections: int
    viewers: list[ViewerView]


@router.get("/api/live/sessions", dependencies=[allow(Permission.LIVE)])
def live_sessions(service: ServiceDep, user: UserDep) -> LiveViewersView:
    """Open live viewers: the user's own, and for an operator those of the cameras in their unit."""
    if permits(user.role, Permission.OPERATE):
        cameras = {camera.id for camera in visible_cameras(service.directory, user)}
        viewers = [v for v in service.live.viewers() if v.username == user.username or v.camera_id in cameras]
    else:
        viewers = [v for v in service.live.viewers() if v.username == user.username]
    return LiveViewersView(
        peer_connections=sum(1 for v in viewers if v.transport == "webrtc"),
        viewers=[ViewerView.model_validate(v) for v in viewers],
    )


@router.websocket("/api/cameras/{camera_id}/live.fmp4")
async def fmp4_fallback(websocket: WebSocket, camera_id: str) -> None:
    """Fallback live view: a JSON header per stream (codec string for MSE), then fMP4 binary messages."""
    service: Service = websocket.app.state.service
    await websocket.accept()
    if cookie_authenticated(websocket.headers, SESSION_COOKIE) and not from_own_page(websocket.headers):
        # A page of another origin may open a WebSocket with our cookie: browsers apply no CORS to it.
        await _refuse(websocket, 4403, "refused: a page of another site may not use your session")
        return
    user = await asyncio.to_thread(websocket_user, websocket, service)
    if user is None:
        await _refuse(websocket, 4401, "not logged in")
        return
    if not permits(user.role, Permission.LIVE):
        await _refuse(websocket, 4403, f"your role ({user.role}) may not do this: it needs {Permission.LIVE}")
        return
    try:
        directory = service.directory
        client = websocket.client.host if websocket.client else None
        camera = CameraAccess(
            visible_camera(directory, user, camera_id), Caller(user, client, service.store.audit), directory
        )
        hub = service.live.hub_for(camera.id)
        slot = service.live.reserve(camera.id, user.username, "fmp4")
    except HTTPException as error:
        await _refuse(websocket, 4000 + error.status_code, str(error.detail))
        return
    except LiveViewError as error:
        await _refuse(websocket, 4000 + _STATUS.get(type(error), 400), str(error))
        return
    feed = Fmp4Feed(hub, f"live:fmp4:{slot.id[:6]}", asyncio.get_running_loop())
    service.live.track_fallback(slot, feed)
    try:
        await _audit_view(service, camera, slot)
    except BaseException:
        feed.stop()
        service.live.release(slot)
        raise
    feed.start()
    receiver = asyncio.create_task(_drain(websocket))
    try:
        while True:
            getter = asyncio.create_task(feed.queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break  # the viewer left
            message = getter.result()
            if message is None:
                await _refuse(websocket, 1011, feed.end_reason or "the stream ended")
                break
            if isinstance(message, dict):
                await websocket.send_json(message)
            else:
                await websocket.send_bytes(message)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        receiver.cancel()
        feed.stop()
        service.live.release(slot)


@router.get(
    "/api/cameras/{camera_id}/live.mjpg",
    dependencies=[allow(Permission.LIVE)],
    response_class=MultipartJpegStream,
    responses=problems(404, 409, 429),
)
async def mjpeg_live(camera: CameraDep, request: Request, service: ServiceDep) -> MultipartJpegStream:
    """Live view as Motion JPEG for an `<img>` (the session cookie authenticates it): decoded and re-encoded,
    so any camera codec plays in any browser, at `live.mjpeg_fps`, at most `live.mjpeg_max_width` wide."""
    try:
        slot, viewer = service.live.open_mjpeg(camera.id, camera.caller.user.username)
    except LiveViewError as error:
        raise _refusal(error) from None
    try:
        await _audit_view(service, camera, slot)
    except BaseException:
        service.live.close_mjpeg(slot, viewer)  # no view goes unaudited, and none is left open
        raise

    async def pictures() -> AsyncIterator[bytes]:
        try:
            while not await request.is_disconnected():
                try:
                    picture = await asyncio.wait_for(viewer.queue.get(), 1.0)
                except TimeoutError:
                    continue
                if picture is None:
                    return
                viewer.packets_sent += 1
                yield multipart_part(picture)
        finally:
            service.live.close_mjpeg(slot, viewer)

    return MultipartJpegStream(pictures(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the viewer sends, so its leaving is noticed at once."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    try:
        await websocket.send_json({"error": reason})
        await websocket.close(code=code, reason=reason[:120])
    except (WebSocketDisconnect, RuntimeError):
        pass
