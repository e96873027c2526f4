"""Many cameras connected at once by vms's own source alone: the connection set-up a worker restart waits for,
without the rest of a worker (no recorder, no detectors, no service). `bench/capacity.py` runs it beside its worker
kill, on cameras of the same server that nothing reads yet, to tell how much of a restart's wait is the set-up
itself on the loaded box.

    .venv/bin/python bench/open_burst.py URL [URL ...]

Prints one JSON object: seconds from the start to each camera's connection (its probe done) and to its first key
frame, sorted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.camera import CameraStream
from streams.health import CameraState
from streams.source import SourceSettings


def main() -> int:
    urls = sys.argv[1:]
    streams = [CameraStream(SourceSettings(f"burst{i}", url), 3.0, 8 << 20) for i, url in enumerate(urls)]
    started = time.time()
    for stream in streams:
        stream.start()
    connected: dict[int, float] = {}
    keyframe: dict[int, float] = {}
    while time.time() - started < 30 and len(keyframe) < len(streams):
        time.sleep(0.05)
        for i, stream in enumerate(streams):
            snap = stream.health.snapshot()
            if i not in connected and snap.connected_at is not None:
                connected[i] = snap.connected_at - started
            if i not in keyframe and snap.state is CameraState.ONLINE and snap.last_keyframe_at is not None:
                keyframe[i] = snap.last_keyframe_at - started
    for stream in streams:
        stream.stop()
    print(
        json.dumps(
            {
                "cameras": len(streams),
                "connected_s": sorted(connected.values()),
                "keyframe_s": sorted(keyframe.values()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
