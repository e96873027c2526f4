"""MANSRTSP (GB/T 28181 Appendix B): the RTSP-like playback controls an INFO carries — PLAY (resume, `Range:
npt=` to seek, `Scale` for the speed), PAUSE and TEARDOWN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CONTENT_TYPE = "Application/MANSRTSP"


class MansrtspError(ValueError):
    pass


@dataclass(frozen=True)
class PlaybackControl:
    method: Literal["PLAY", "PAUSE", "TEARDOWN"]
    npt: float | None = None  # seconds from the start of the range, where the platform seeks
    scale: float | None = None


def parse(body: bytes) -> PlaybackControl:
    lines = body.decode("utf-8", errors="replace").replace("\r\n", "\n").strip().split("\n")
    words = lines[0].split()
    if len(words) != 2 or not words[1].startswith("RTSP/"):
        raise MansrtspError(f"bad MANSRTSP request line {lines[0][:60]!r}")
    method = words[0].upper()
    if method not in ("PLAY", "PAUSE", "TEARDOWN"):
        raise MansrtspError(f"MANSRTSP {method[:20]} is not supported")
    npt = scale = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        try:
            if name == "scale":
                scale = float(value)
                if not 0 < scale <= 64:
                    raise MansrtspError(f"Scale {value} is out of range")
            elif name == "range" and value.lower().startswith("npt="):
                start = value[4:].split("-")[0].strip()
                npt = None if start in ("", "now") else float(start)
                if npt is not None and npt < 0:
                    raise MansrtspError(f"Range {value} is out of range")
        except ValueError:
            raise MansrtspError(f"bad {name} {value[:30]!r}") from None
    return PlaybackControl(method, npt, scale)  # type: ignore[arg-type]
