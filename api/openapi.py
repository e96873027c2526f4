"""The API's OpenAPI document and FastAPI's interactive docs, for logged-in users only.

The docs' script and style come from the installed `fastapi-offline` package (Swagger UI 5, which reads
OpenAPI 3.1): nothing is fetched from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from api.deps import UserDep, allow, route_permission
from api.responses import problems
from api.route_table import flat_routes
from core.roles import Permission

router = APIRouter(include_in_schema=False)

OPENAPI_URL = "/api/openapi.json"
_ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with the one 422 body the API really sends: the list of field errors of a request
    that fails validation, or a sentence when a value is well-formed but unusable."""
    if app.openapi_schema is None:
        schema = app.openapi()
        unprocessable = {
            "description": "The request is well-formed but its values are not acceptable.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Unprocessable"}}},
        }
        permissions = {
            (route.path, method.lower()): permission
            for route in flat_routes(app.routes)
            if isinstance(route, APIRoute) and (permission := route_permission(route.dependant)) is not None
            for method in route.methods or ()
        }
        for path_name, path in schema.get("paths", {}).items():
            for method, operation in path.items():
                responses = operation.get("responses", {})
                permission = permissions.get((path_name, method))
                if permission is not None:
                    # Every route behind a log-in may answer 401, and 403 to a role without its permission.
                    operation["x-permission"] = permission.value
                    for code, refusal in problems(401, 403).items():
                        responses.setdefault(str(code), _as_schema(refusal))
                if "422" in responses or operation.get("parameters") or operation.get("requestBody"):
                    responses["422"] = unprocessable
                if operation.get("requestBody"):
                    # A body that is not JSON at all, or one over the size limit (api/guards.py).
                    for code, refusal in problems(400, 413).items():
                        responses.setdefault(str(code), _as_schema(refusal))
                for code, response in responses.items():
                    # FastAPI files an error body under the route's own media type (image/jpeg, video/mp4):
                    # refusals are JSON whatever the route serves when it succeeds.
                    content = response.get("content")
                    if code.isdigit() and int(code) >= 400 and content and "application/json" not in content:
                        response["content"] = {"application/json": next(iter(content.values()))}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Unprocessable"] = {
            "title": "Unprocessable",
            "type": "object",
            "required": ["detail"],
            "properties": {
                "detail": {
                    "anyOf": [
                        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
                        {"type": "string"},
                    ]
                }
            },
        }
        components.setdefault("ValidationError", _validation_error_schema())
        app.openapi_schema = schema
    return app.openapi_schema


def _as_schema(refusal: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": refusal["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _validation_error_schema() -> dict[str, Any]:
    from fastapi.openapi.utils import validation_error_definition

    return dict(validation_error_definition)


@router.get(OPENAPI_URL, dependencies=[allow(Permission.VIEW)], responses=problems(401))
def openapi_json(request: Request, user: UserDep) -> dict[str, Any]:
    return openapi_document(request.app)


@router.get("/api/docs", dependencies=[allow(Permission.VIEW)], response_class=HTMLResponse, responses=problems(401))
def docs(request: Request, user: UserDep) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{request.app.title} — API",
        swagger_js_url="/api/docs/swagger-ui-bundle.js",
        swagger_css_url="/api/docs/swagger-ui.css",
        swagger_favicon_url="/ui/favicon.svg",
    )
    html = bytes(page.body).decode()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"})


@router.get("/api/docs/{name}", dependencies=[allow(Permission.VIEW)], responses=problems(401, 404))
def docs_asset(name: str, user: UserDep) -> Response:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no file {name!r}")
    data = (resources.files("fastapi_offline") / "static" / name).read_bytes()
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})
