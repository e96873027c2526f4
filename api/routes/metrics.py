"""Prometheus scrape endpoint; like every route but health it needs a log-in, here one at the root unit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import generate_latest

from api.deps import ServiceDep, UserDep, allow, require_bureau
from api.responses import PrometheusText, problems
from core.roles import Permission

router = APIRouter()


@router.get(
    "/metrics", dependencies=[allow(Permission.OPERATE)], response_class=PrometheusText, responses=problems(401, 403)
)
def metrics(request: Request, service: ServiceDep, user: UserDep) -> PrometheusText:
    require_bureau(service, user, "metrics")
    return PrometheusText(generate_latest(request.app.state.metrics_registry))
