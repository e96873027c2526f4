"""A real `vms run` process on a free port, driven over HTTP as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.rig.rtsp import free_port

ADMIN_PASSWORD = "admin-test-password"


class RunningService:
    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.config_path = workdir / "vms.yaml"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "vms.log"
        self.write_config(config)
        self._proc: subprocess.Popen[bytes] | None = None

    def write_config(self, config: dict[str, Any]) -> None:
        self.data_dir = self.workdir / "data"
        config = {**config, "storage": {"data_dir": str(self.data_dir)}}
        self.config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    def vms(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vms", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.workdir,
            timeout=60,
        )

    def start(self, timeout: float = 30.0, attempts: int = 3) -> None:
        env = {**os.environ, "VMS_ADMIN_PASSWORD": ADMIN_PASSWORD}
        log = self.log_path.open("ab")
        log_start = log.tell()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "vms", "run", "--config", str(self.config_path), "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                this_run = self.log_path.read_bytes()[log_start:]
                if b"address already in use" in this_run and attempts > 1:
                    # Another process took the free port between our choice and vms binding it.
                    self.port = free_port()
                    self.base_url = f"http://127.0.0.1:{self.port}"
                    return self.start(timeout, attempts - 1)
                raise RuntimeError(f"vms exited with {self._proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"vms did not answer within {timeout} s:\n{self.log()}")

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def reload(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGHUP)

    def stop(self) -> int:
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        return self._proc.returncode

    def kill(self) -> None:
        """kill -9: no chance to close files or write to the database."""
        assert self._proc is not None
        self._proc.kill()
        self._proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def client(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> httpx.Client:
        response = httpx.post(f"{self.base_url}/api/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
        token = response.json()["token"]
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def wait_for(self, client: httpx.Client, camera_id: str, predicate, timeout: float = 30.0) -> dict[str, Any]:
        """Poll the camera until `predicate(camera_json)` holds; returns that answer."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = client.get(f"/api/cameras/{camera_id}").json()
            if predicate(last):
                return last
            time.sleep(0.25)
        raise AssertionError(f"camera {camera_id} never reached the expected state; last answer: {last}")
