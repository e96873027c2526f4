"""The FastAPI application over a running Service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.metrics import registry_for
from api.routes import (
    auth,
    cameras,
    detection,
    exports,
    health,
    live,
    metrics,
    organisation,
    recordings,
    snapshots,
    spot_checks,
    storage,
    violations,
    web,
)
from core.version import VERSION
from service.service import Service


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 naming each bad field, without echoing the submitted values (they may be passwords)."""
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


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

    # No public /docs or /openapi.json: every route but health needs a log-in, the schema included.
    app = FastAPI(
        title="vms 民政服务机构视频监管平台",
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.state.service = service
    app.state.metrics_registry = registry_for(service.supervisor, service.recordings, service.live)
    for module in (
        health,
        auth,
        organisation,
        cameras,
        recordings,
        exports,
        storage,
        violations,
        detection,
        live,
        snapshots,
        spot_checks,
        metrics,
        web,
    ):
        app.include_router(module.router)
    return app
