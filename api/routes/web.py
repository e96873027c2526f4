"""The web UI: static files shipped with the package (no CDN), served without a log-in (the API needs one)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter()

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
# The files are few and fixed: an allow-list by name leaves no path to traverse.
_FILES = {p.name: p for p in WEB_DIR.iterdir() if p.is_file() and p.suffix in _TYPES} if WEB_DIR.is_dir() else {}
# Third-party scripts the set-up installs with npm (./dev), never committed: served by name like our own files
# where installed; the pages that use one say so and go on without it when it is not.
VENDOR = {"echarts.min.js": WEB_DIR / "vendor" / "node_modules" / "echarts" / "dist" / "echarts.min.js"}
_FILES.update({name: path for name, path in VENDOR.items() if path.is_file()})
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    ),
}
# Pages the API renders itself (the printable statistics report) go out under the same policy.
CSP_HEADERS = _HEADERS


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/ui/", include_in_schema=False)
def index() -> FileResponse:
    return _file("index.html")


@router.get("/ui/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    return _file(name)


def _file(name: str) -> FileResponse:
    path = _FILES.get(name)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no file {name!r}")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=_HEADERS)
