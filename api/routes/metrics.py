"""Prometheus scrape endpoint; like every route but health it needs a log-in, here one at the root unit."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServiceDep, UserDep

router = APIRouter()


@router.get("/metrics")
def metrics(request: Request, service: ServiceDep, user: UserDep) -> Response:
    if user.org_unit_id != service.tree.root_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "metrics cover every camera: a bureau-level account is needed")
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
