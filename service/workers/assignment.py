"""Which worker process runs which camera: stable, so that adding a camera moves no other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence


def assign(current: Mapping[str, int], cameras: Sequence[str], workers: int) -> dict[str, int]:
    """Each camera of `cameras` keeps its worker in `current`; a new one (or one whose worker no longer exists)
    goes to the worker with the fewest cameras, the lowest index among equals. Removed cameras are forgotten."""
    wanted = set(cameras)
    kept = {camera: worker for camera, worker in current.items() if camera in wanted and 0 <= worker < workers}
    load = Counter(kept.values())
    for camera in cameras:
        if camera not in kept:
            worker = min(range(workers), key=lambda index: (load[index], index))
            kept[camera] = worker
            load[worker] += 1
    return {camera: kept[camera] for camera in cameras}
