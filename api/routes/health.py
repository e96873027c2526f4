"""Service liveness: the only route that needs no log-in, so it reveals counts, not cameras."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServiceDep
from core.version import VERSION

router = APIRouter()


class ServiceHealth(BaseModel):
    status: Literal["ok"]
    version: str
    cameras: dict[str, int] = Field(description="how many cameras are in each state")


@router.get("/api/health")
def health(service: ServiceDep) -> ServiceHealth:
    states: dict[str, int] = {}
    for snap in service.cameras.snapshots().values():
        states[snap.state.value] = states.get(snap.state.value, 0) + 1
    return ServiceHealth(status="ok", version=VERSION, cameras=states)
