"""Service liveness: the only route that needs no log-in, so it reveals counts, not cameras."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep
from core.version import VERSION

router = APIRouter()


@router.get("/api/health")
def health(service: ServiceDep) -> dict[str, object]:
    states: dict[str, int] = {}
    for snap in service.supervisor.snapshots().values():
        states[snap.state.value] = states.get(snap.state.value, 0) + 1
    return {"status": "ok", "version": VERSION, "cameras": states}
