"""Supervisor: run-time changes restart exactly the cameras whose stream settings changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.config import IngestConfig
from service.configuration import parse_config
from service.supervisor import Supervisor
from streams.health import CameraState


def cameras(clip: Path, count: int, **source: object) -> list:
    config = parse_config(
        {
            "organisation": {"towns": [{"id": "t", "name": "镇", "institutions": [{"id": "i", "name": "院"}]}]},
            "cameras": [
                {
                    "id": f"c{n}",
                    "name": f"摄像机{n}",
                    "institution": "i",
                    "role": "other",
                    "source": {"url": str(clip), **source},
                }
                for n in range(count)
            ],
        }
    )
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

        renamed = [
            first[0].model_copy(update={"name": "新名字"}),
            first[1],
            first[2].model_copy(update={"enabled": False}),
        ]
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


class PacketCounter:
    """A real consumer thread: counts the packets of its camera until told to stop."""

    def __init__(self, camera, stream) -> None:
        import threading

        self.label = camera.name
        self.packets = 0
        self.saw_end = False
        self._subscription = stream.hub.subscribe(f"counter-{camera.id}")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from media.packet import MediaPacket
        from streams.items import StreamEnded
        from streams.subscription import SubscriptionClosed

        while not self._stopping.is_set():
            try:
                item = self._subscription.get(timeout=0.1)
            except SubscriptionClosed:
                return
            if isinstance(item, MediaPacket):
                self.packets += 1
            elif isinstance(item, StreamEnded):
                self.saw_end = True
        self._subscription.close()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


class CounterFactory:
    name = "counter"

    def __init__(self) -> None:
        self.made: list[PacketCounter] = []
        self.setting = 1  # a setting of the consumer's own, as the recording section is the recorder's

    def key(self, camera):
        return camera.name, self.setting  # the consumer is built from the camera's name and its setting

    def attach(self, camera, stream):
        if camera.role == "kitchen":
            raise RuntimeError("this consumer cannot start")
        self.made.append(PacketCounter(camera, stream))
        return self.made[-1]


def test_consumers_follow_their_camera(clip_h264: Path) -> None:
    """Consumers start with the stream, see every packet from its first key frame, are rebuilt alone when
    their part of the configuration changes, and a consumer that cannot start leaves the camera running."""

    async def scenario() -> None:
        factory = CounterFactory()
        supervisor = Supervisor(IngestConfig(), consumers=[factory])
        first = cameras(clip_h264, 2)
        first[1] = first[1].model_copy(update={"role": "kitchen"})
        await supervisor.apply(first)
        await wait_online(supervisor, ["c0", "c1"])
        await asyncio.sleep(1.0)
        (counter,) = factory.made
        assert counter.packets > 10 and counter.label == "摄像机0"
        stream = supervisor.stream("c0")

        await supervisor.apply([first[0].model_copy(update={"name": "新名字"}), first[1]])
        assert supervisor.stream("c0") is stream and not counter.running
        assert [c.label for c in factory.made] == ["摄像机0", "新名字"]
        await asyncio.sleep(1.0)
        assert factory.made[1].packets > 10

        factory.setting = 2  # the consumer's own settings changed, the camera's did not
        changes = await supervisor.apply([first[0].model_copy(update={"name": "新名字"}), first[1]])
        assert not changes.updated and supervisor.stream("c0") is stream
        assert len(factory.made) == 3 and not factory.made[1].running

        await supervisor.stop_all()
        assert not factory.made[2].running and factory.made[2].saw_end

    asyncio.run(scenario())
