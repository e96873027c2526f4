"""The FastAPI application over a running Service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import openapi
from api.deps import SESSION_COOKIE
from api.guards import BodyLimit, CrossSiteWriteGuard
from api.metrics import registry_for
from api.route_table import flat_routes
from api.routes import (
    audit,
    auth,
    cameras,
    cases,
    configuration,
    exports,
    health,
    inspections,
    live,
    metrics,
    notifications,
    organisation,
    public_reports,
    recordings,
    reports,
    shared,
    snapshots,
    spot_checks,
    statistics,
    storage,
    uplink,
    users,
    violations,
    web,
    workers,
)
from core.version import VERSION
from service.service import Service


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 naming each bad field, without echoing the submitted values (they may be passwords)."""
    assert isinstance(error, RequestValidationError)
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def _method_not_allowed(request: Request, error: Exception) -> Response:
    """405 with `Allow` naming every method of the path. Starlette names only those of the one route it
    matched, while a path such as /api/spot-checks has a route per method."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    matching = [
        route
        for route in flat_routes(request.app.routes)
        if isinstance(route, APIRoute) and route.path_regex.match(request.url.path)
    ]
    # A literal path wins over a template that also matches it (/api/users/me would over /api/users/{id}).
    literal = [route for route in matching if route.path == request.url.path]
    methods: set[str] = set()
    for route in literal or matching:
        methods |= route.methods or set()
    allow = ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return JSONResponse({"detail": error.detail}, status_code=405, headers={"Allow": allow})


def create_app(service: Service, manage_lifecycle: bool = True) -> FastAPI:
    """The app; with `manage_lifecycle` it starts the service on start-up and stops it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await service.stop()

    # FastAPI's own schema and docs routes are off: ours (api/openapi.py) need a log-in, like every route but
    # health and the UI's static files.
    app = FastAPI(
        title="vms 民政服务机构视频监管平台",
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _method_not_allowed)
    app.add_middleware(
        BodyLimit,
        larger={
            cases.EVIDENCE_UPLOAD_PATH: cases.EVIDENCE_UPLOAD_BYTES,
            public_reports.UPLOAD_PATH: public_reports.UPLOAD_BYTES,
            inspections.PHOTO_UPLOAD_PATH: inspections.PHOTO_UPLOAD_BYTES,
        },
    )
    app.add_middleware(CrossSiteWriteGuard, cookie=SESSION_COOKIE)
    app.state.service = service
    app.state.metrics_registry = registry_for(
        service.cameras, service.recordings, service.live, service.uplink, service.notifications
    )
    for module in (
        health,
        auth,
        users,
        configuration,
        inspections,
        organisation,
        cameras,
        recordings,
        exports,
        storage,
        violations,
        cases,
        reports,
        public_reports,
        statistics,
        live,
        snapshots,
        spot_checks,
        uplink,
        workers,
        audit,
        notifications,
        shared,
        metrics,
        openapi,
        web,
    ):
        app.include_router(module.router)
    return app
