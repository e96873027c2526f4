"""Supervisor: run-time changes restart exactly the cameras whose stream settings changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from streams.health import CameraState
from vms.config import IngestConfig, parse_config
from vms.supervisor import Supervisor


def cameras(clip: Path, count: int, **source: object) -> list:
    config = parse_config({
        "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
        "cameras": [{"id": f"c{n}", "name": f"摄像机{n}", "institution": "i", "role": "other",
                     "source": {"url": str(clip), **source}} for n in range(count)],
    })
    return config.cameras


async def wait_online(supervisor: Supervisor, ids: list[str], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if all(supervisor.health(i).state is CameraState.ONLINE for i in ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError({i: supervisor.health(i) for i in ids})


def test_apply_restarts_only_what_changed(clip_h264: Path) -> None:
    async def scenario() -> None:
        supervisor = Supervisor(IngestConfig())
        first = cameras(clip_h264, 3)
        assert (await supervisor.apply(first)).added == ["c0", "c1", "c2"]
        await wait_online(supervisor, ["c0", "c1", "c2"])
        streams = {cid: supervisor.stream(cid) for cid in ("c0", "c1", "c2")}

        renamed = [first[0].model_copy(update={"name": "新名字"}), first[1],
                   first[2].model_copy(update={"enabled": False})]
        changes = await supervisor.apply(renamed)
        assert changes.updated == ["c0"] and changes.restarted == ["c2"] and not changes.added
        assert supervisor.stream("c0") is streams["c0"] and supervisor.camera("c0").name == "新名字"
        assert supervisor.stream("c1") is streams["c1"]
        assert supervisor.stream("c2") is None and supervisor.health("c2").state is CameraState.STOPPED

        # New ingest settings reach the running cameras: each restarts with them.
        supervisor.reconfigure(IngestConfig(watchdog_s=7))
        changes = await supervisor.apply(renamed)
        assert changes.restarted == ["c0", "c1"]
        assert supervisor.stream("c0").settings.watchdog_s == 7
        await wait_online(supervisor, ["c0", "c1"])

        final = await supervisor.stop_all()
        assert {cid: s.state for cid, s in final.items()} == {cid: CameraState.STOPPED for cid in ("c0", "c1", "c2")}
        assert not any(s.running for s in streams.values())

    asyncio.run(scenario())
