"""Prometheus scrape endpoint; like every route but health it needs a log-in, here one at the root unit."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServiceDep, UserDep, require_bureau

router = APIRouter()


@router.get("/metrics")
def metrics(request: Request, service: ServiceDep, user: UserDep) -> Response:
    require_bureau(service, user, "metrics")
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
