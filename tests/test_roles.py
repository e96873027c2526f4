"""Roles, scope and log-in over real HTTP: the scope matrix generated from the app's own route table (a route added
without a permission fails it), the refusals a user meets, administrators managing accounts, API tokens, and
the log-in lock-out and rate limit."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute

from api.app import create_app
from api.deps import route_permission
from api.route_table import flat_routes
from core.roles import PERMISSIONS, Permission, Role
from service.configuration import parse_config
from service.service import Service
from tests.conftest import ORGANISATION
from tests.running_service import RunningService

PASSWORD = "role-test-password"
# Who each role's account is, and where: all inside 汇龙镇 (hl), where the camera `gate` is.
PLACES = {
    Role.ADMIN: "qd",
    Role.CITY_INSPECTOR: "qd",
    Role.TOWN_OFFICER: "hl",
    Role.SAFETY_MANAGER: "hl-jly",
    Role.AUDITOR: "qd",
    Role.VIEWER: "hl-jly",
}
# Routes with no log-in: health, the log-in itself, the UI's static files, links signed for upper platforms.
PUBLIC = {
    ("GET", "/api/health"),
    ("POST", "/api/auth/login"),
    ("GET", "/"),
    ("GET", "/ui/"),
    ("GET", "/ui/{name}"),
    ("GET", "/api/shared/violations/{violation_id}/snapshot.jpg"),
    ("GET", "/api/shared/violations/{violation_id}/clip.mp4"),
    # Public hazard reports: the notice-board page, the institution's name for it, the form, the receipt lookup.
    ("GET", "/report/{institution_id}"),
    ("GET", "/api/public/institutions/{institution_id}"),
    ("POST", "/api/public/institutions/{institution_id}/reports"),
    ("GET", "/api/public/reports/{receipt}"),
}
# A WebSocket has no Request for the permission dependencies: it checks the same permission itself.
WEBSOCKETS = {"/api/cameras/{camera_id}/live.fmp4": Permission.LIVE}
SAMPLES = {
    "camera_id": "gate",
    "session_id": "0" * 32,
    "platform_id": "city",
    "name": "swagger-ui.css",
    "item": "gate",
    "institution_id": "hl-jly",
}


def _config(data_dir: Path, clip: Path) -> dict[str, Any]:
    return {
        "organisation": ORGANISATION,
        "storage": {"data_dir": str(data_dir)},
        "cameras": [
            {"id": "gate", "name": "大门", "institution": "hl-jly", "role": "gate", "source": {"url": str(clip)}},
        ],
    }


def _routes(tmp_path: Path, clip: Path) -> list[tuple[str, str, Permission | None]]:
    """(method, path, permission) of every route of the app, as built by the service."""
    service = Service(parse_config(_config(tmp_path / "table", clip)))
    try:
        app = create_app(service, manage_lifecycle=False)
    finally:
        service.store.close()
    found = []
    for route in flat_routes(app.routes):
        if isinstance(route, APIRoute):
            permission = route_permission(route.dependant)
            found += [(method, route.path, permission) for method in sorted(route.methods or ())]
        elif isinstance(route, APIWebSocketRoute):
            assert route.path in WEBSOCKETS, f"WebSocket {route.path}: say which permission it checks"
    return found


def _path(template: str) -> str:
    def sample(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in SAMPLES:
            return SAMPLES[name]
        assert name.endswith("_id"), f"no sample value for the path parameter {name!r}: add one to SAMPLES"
        return "1"

    return re.sub(r"\{(\w+)\}", sample, template)


def _status(client: httpx.Client, method: str, path: str) -> int:
    """The status of a request with an empty JSON body; a stream (MJPEG, SSE) is closed once its status is in."""
    body = {} if method in ("POST", "PUT", "PATCH") else None
    with client.stream(method, path, json=body) as response:
        return response.status_code


@pytest.fixture(scope="module")
def roles_service(tmp_path_factory: pytest.TempPathFactory, clip_h264: Path) -> Iterator[RunningService]:
    workdir = tmp_path_factory.mktemp("roles")
    service = RunningService(workdir, _config(workdir / "data", clip_h264))
    service.start()
    try:
        with service.client() as admin:
            for role, unit in PLACES.items():
                created = admin.post(
                    "/api/users",
                    json={"username": f"u-{role.value}", "password": PASSWORD, "org_unit_id": unit, "role": role},
                )
                assert created.status_code == 201, created.text
            created = admin.post(
                "/api/users",
                json={"username": "ny-officer", "password": PASSWORD, "org_unit_id": "ny", "role": "town_officer"},
            )
            assert created.status_code == 201, created.text
        yield service
    finally:
        service.stop()


def test_every_route_checks_the_role_and_the_scope(
    roles_service: RunningService, tmp_path: Path, clip_h264: Path
) -> None:
    """For every route and method of the app: 401 without a log-in; 403 for each role without the route's
    permission; past both checks for each role with it; 404 for a camera outside the caller's unit."""
    routes = _routes(tmp_path, clip_h264)
    unchecked = [(m, p) for m, p, permission in routes if permission is None and (m, p) not in PUBLIC]
    assert not unchecked, f"routes with no permission check: {unchecked}"
    assert len(routes) > 50
    clients = {role: roles_service.client(f"u-{role.value}", PASSWORD) for role in Role}
    elsewhere = roles_service.client("ny-officer", PASSWORD)
    anonymous = httpx.Client(base_url=roles_service.base_url, timeout=10)
    wrong: list[str] = []
    # Log-out ends the session it is called with: last.
    ordered = sorted(
        ((m, p, permission) for m, p, permission in routes if permission is not None),
        key=lambda r: r[1] == "/api/auth/logout",
    )
    try:
        for method, template, permission in ordered:
            assert permission is not None
            path = _path(template)
            if (got := _status(anonymous, method, path)) != 401:
                wrong.append(f"{method} {template} without a log-in: {got}")
            for role, client in clients.items():
                got = _status(client, method, path)
                allowed = permission in PERMISSIONS[role]
                if (got == 403) == allowed or got == 401:
                    wrong.append(f"{method} {template} as {role.value} (needs {permission}): {got}")
            if "{camera_id}" in template and permission in PERMISSIONS[Role.TOWN_OFFICER]:
                if (got := _status(elsewhere, method, path)) != 404:
                    wrong.append(f"{method} {template} from another town: {got}, not 404")
    finally:
        for client in (*clients.values(), elsewhere, anonymous):
            client.close()
    assert not wrong, "\n".join(wrong)


def test_a_read_only_account_cannot_reach_video_nor_change_anything(roles_service: RunningService) -> None:
    """What an outside test found a `viewer` could do: export video, start spot checks, open WHEP views."""
    with roles_service.client(f"u-{Role.VIEWER.value}", PASSWORD) as viewer:
        assert viewer.get("/api/cameras").json()[0]["id"] == "gate"  # sees what exists, and its state
        now = time.time()
        refused = [
            viewer.post("/api/cameras/gate/exports", json={"start": now - 60, "end": now - 30}),
            viewer.post("/api/spot-checks", json={"institution_id": "hl-jly"}),
            viewer.post("/api/cameras/gate/whep", content=b"v=0\r\n", headers={"Content-Type": "application/sdp"}),
            viewer.get("/api/cameras/gate/snapshot.jpg"),
            viewer.get("/api/cameras/gate/recordings"),
            viewer.get("/api/users"),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused)
        assert "needs export" in refused[0].json()["detail"]
    with roles_service.client(f"u-{Role.SAFETY_MANAGER.value}", PASSWORD) as manager:
        assert manager.get("/api/cameras/gate/snapshot.jpg").status_code in (200, 409)  # own institution's video
        assert manager.post("/api/cameras/gate/exports", json={"start": 0, "end": 1}).status_code == 403

    async def fmp4(token: str) -> tuple[int | None, str]:
        url = roles_service.base_url.replace("http", "ws") + "/api/cameras/gate/live.fmp4"
        async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            first = json.loads(await ws.recv())
            await ws.wait_closed()
            return ws.close_code, first.get("error", "")

    token = httpx.post(
        f"{roles_service.base_url}/api/auth/login", json={"username": "u-viewer", "password": PASSWORD}
    ).json()["token"]
    code, error = asyncio.run(fmp4(token))
    assert code == 4403 and "needs live" in error


def test_me_says_what_the_role_allows(roles_service: RunningService) -> None:
    with roles_service.client(f"u-{Role.SAFETY_MANAGER.value}", PASSWORD) as manager:
        me = manager.get("/api/me").json()
    assert me["role"] == "safety_manager" and me["role_label"] == "机构安全管理员"
    assert set(me["permissions"]) == {"view", "live", "playback", "handle_cases"}


def test_administrators_manage_accounts_and_bad_changes_are_refused(roles_service: RunningService) -> None:
    with roles_service.client() as admin:
        bad = admin.post(
            "/api/users",
            json={"username": "x y", "password": "short", "org_unit_id": "hl", "role": "emperor"},
        )
        assert bad.status_code == 422
        assert {tuple(e["loc"][1:]) for e in bad.json()["detail"]} == {("username",), ("password",), ("role",)}
        misplaced = admin.post(
            "/api/users",
            json={"username": "zhou", "password": PASSWORD, "org_unit_id": "hl", "role": "safety_manager"},
        )
        assert misplaced.status_code == 422 and "institution" in misplaced.json()["detail"]
        nowhere = admin.post(
            "/api/users", json={"username": "zhou", "password": PASSWORD, "org_unit_id": "mars", "role": "viewer"}
        )
        assert nowhere.status_code == 422 and "mars" in nowhere.json()["detail"]
        again = admin.post(
            "/api/users", json={"username": "u-viewer", "password": PASSWORD, "org_unit_id": "hl", "role": "viewer"}
        )
        assert again.status_code == 409

        made = admin.post(
            "/api/users", json={"username": "zhou", "password": PASSWORD, "org_unit_id": "hl", "role": "viewer"}
        ).json()
        zhou = roles_service.client("zhou", PASSWORD)
        assert zhou.get("/api/cameras/gate/snapshot.jpg").status_code == 403
        promoted = admin.patch(f"/api/users/{made['id']}", json={"role": "town_officer"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "town_officer"
        assert zhou.get("/api/me").status_code == 401  # a new role ends the sessions of the old one
        zhou = roles_service.client("zhou", PASSWORD)
        assert zhou.get("/api/cameras/gate/snapshot.jpg").status_code in (200, 409)
        assert admin.patch(f"/api/users/{made['id']}", json={"disabled": True}).json()["disabled"] is True
        assert zhou.get("/api/me").status_code == 401
        me = admin.get("/api/me").json()
        assert admin.patch(f"/api/users/{me['id']}", json={"disabled": True}).status_code == 409
        assert (
            admin.post(f"/api/users/{made['id']}/password", json={"password": "zhou-new-password"}).status_code == 204
        )
        assert {"user.created", "user.changed", "user.password_reset"} <= {
            row["action"] for row in _audit(roles_service)
        }
    with roles_service.client("ny-officer", PASSWORD) as officer:
        assert officer.get("/api/users").status_code == 403


def _audit(service: RunningService) -> list[dict[str, Any]]:
    import sqlite3

    with sqlite3.connect(service.data_dir / "vms.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM audit_log")]


def test_api_tokens_act_as_their_user_and_stop_when_revoked(roles_service: RunningService) -> None:
    with roles_service.client(f"u-{Role.TOWN_OFFICER.value}", PASSWORD) as officer:
        made = officer.post("/api/me/tokens", json={"name": "市平台采集", "expires_in_days": 30})
        assert made.status_code == 201
        secret = made.json()["token"]
        listed = officer.get("/api/me/tokens").json()
        assert [t["name"] for t in listed] == ["市平台采集"] and "token" not in listed[0]
        machine = httpx.Client(base_url=roles_service.base_url, headers={"Authorization": f"Bearer {secret}"})
        assert machine.get("/api/me").json()["username"] == "u-town_officer"
        assert machine.get("/api/users").status_code == 403  # the user's role, no more
        assert officer.delete(f"/api/me/tokens/{made.json()['id']}").status_code == 204
        assert machine.get("/api/me").status_code == 401
        assert officer.delete(f"/api/me/tokens/{made.json()['id']}").status_code == 404
    with roles_service.client(f"u-{Role.VIEWER.value}", PASSWORD) as other:
        assert other.delete(f"/api/me/tokens/{made.json()['id']}").status_code == 404


def test_accounts_page_and_a_role_shaped_ui_in_a_real_browser(roles_service: RunningService) -> None:
    """An administrator creates an account and gives it a role in Chromium; the read-only account then sees no
    page it cannot use (no live view, spot checks, playback, upper platforms)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.rig.browser import chromium, log_in
    from tests.running_service import ADMIN_PASSWORD

    def wait(driver: Any, condition: Any) -> Any:
        return WebDriverWait(driver, 15, poll_frequency=0.2).until(condition)

    def visible_pages(driver: Any) -> set[str]:
        return {
            a.get_attribute("data-route")
            for a in driver.find_elements(By.CSS_SELECTOR, "[data-route]")
            if a.is_displayed()
        }

    driver = chromium()
    try:
        log_in(driver, roles_service.base_url + "/ui/#/users", "admin", ADMIN_PASSWORD)
        wait(driver, lambda d: d.find_elements(By.ID, "new-user-form"))
        form = driver.find_element(By.ID, "new-user-form")
        form.find_element(By.NAME, "username").send_keys("chen")
        form.find_element(By.NAME, "display_name").send_keys("陈六")
        form.find_element(By.NAME, "password").send_keys(PASSWORD)
        Select(form.find_element(By.NAME, "role")).select_by_value("viewer")
        Select(form.find_element(By.NAME, "org_unit_id")).select_by_value("hl-jly")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        row = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-user=chen]"))[0]
        assert "陈六" in row.text and "正常" in row.text
        # The role changes with the select; the server's answer is what the table shows after.
        Select(row.find_element(By.CSS_SELECTOR, "select[aria-label='角色']")).select_by_value("safety_manager")
        wait(driver, lambda d: "已保存" in d.find_element(By.ID, "users-status").text)
        with roles_service.client() as admin:
            chen = next(u for u in admin.get("/api/users").json() if u["username"] == "chen")
            assert chen["role"] == "safety_manager"
            admin.patch(f"/api/users/{chen['id']}", json={"role": "viewer"})
        assert {"live", "spot-check", "playback", "violations", "uplink", "users"} <= visible_pages(driver)
        driver.find_element(By.ID, "logout").click()
        log_in(driver, roles_service.base_url + "/ui/#/live", "chen", PASSWORD)
        wait(driver, lambda d: d.find_element(By.ID, "app-view").is_displayed())
        pages = visible_pages(driver)
        assert {"violations", "users"} <= pages and not pages & {"live", "spot-check", "playback", "uplink"}
        shown = [s.get_attribute("id") for s in driver.find_elements(By.CSS_SELECTOR, ".page") if s.is_displayed()]
        assert len(shown) == 1 and shown[0].removeprefix("page-") in pages  # it lands on a page it may use
        driver.get(roles_service.base_url + "/ui/#/playback")  # typed in: still not a page for this role
        time.sleep(0.5)
        assert not driver.find_element(By.ID, "page-playback").is_displayed()
    finally:
        driver.quit()


def test_wrong_passwords_lock_the_account_and_a_flood_is_refused(roles_service: RunningService) -> None:
    login = f"{roles_service.base_url}/api/auth/login"
    with roles_service.client() as admin:
        admin.post(
            "/api/users", json={"username": "target", "password": PASSWORD, "org_unit_id": "hl", "role": "viewer"}
        )
        codes = [httpx.post(login, json={"username": "target", "password": f"guess-{i}"}).status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        locked = httpx.post(login, json={"username": "target", "password": PASSWORD})
        assert locked.status_code == 429 and "locked" in locked.json()["detail"]
        assert 800 <= int(locked.headers["Retry-After"]) <= 900
        account = next(u for u in admin.get("/api/users").json() if u["username"] == "target")
        assert account["locked_until"] > time.time()
        assert admin.patch(f"/api/users/{account['id']}", json={"unlock": True}).status_code == 200
        assert httpx.post(login, json={"username": "target", "password": PASSWORD}).status_code == 200
        # Wrong passwords for names that do not exist, from one address: the 21st within 5 minutes is refused.
        flood = [httpx.post(login, json={"username": f"n{i}", "password": "x"}).status_code for i in range(25)]
        assert flood == [401] * 20 + [429] * 5
        assert httpx.post(login, json={"username": "admin", "password": "anything"}).status_code == 429
        actions = [row["action"] for row in _audit(roles_service)]
        assert "login_locked" in actions and "login_refused" in actions
