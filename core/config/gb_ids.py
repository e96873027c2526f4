"""GB/T 28181 identifiers (国标编码): 20 digits, of which digits 11–13 say what a thing is (Appendix D).

The configuration gives our platform, its organisation units and cameras such an id; the type code is checked
so that an upper platform does not file a camera as an organisation or the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

PLATFORM = 200  # 中心信令控制服务器: a platform (ours, or the upper one)
BUSINESS_GROUP = 215  # 业务分组
VIRTUAL_ORGANISATION = 216  # 虚拟组织
CAMERA = 131  # 摄像机
IP_CAMERA = 132  # 网络摄像机

UNIT_TYPES = (BUSINESS_GROUP, VIRTUAL_ORGANISATION)
CAMERA_TYPES = (CAMERA, IP_CAMERA)


def type_code(gb_id: str) -> int:
    return int(gb_id[10:13])


def _checked(kinds: tuple[int, ...], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) != 20 or not value.isascii() or not value.isdigit():
            raise ValueError(f"a GB/T 28181 id is 20 digits, not {value!r}")
        if kinds and type_code(value) not in kinds:
            codes = " or ".join(str(k) for k in kinds)
            raise ValueError(f"the type code (digits 11-13) of {what} is {codes}, not {type_code(value)}")
        return value

    return check


GbId = Annotated[str, AfterValidator(_checked((), "an id"))]
PlatformGbId = Annotated[str, AfterValidator(_checked((PLATFORM,), "a platform"))]
UnitGbId = Annotated[str, AfterValidator(_checked(UNIT_TYPES, "an organisation unit"))]
CameraGbId = Annotated[str, AfterValidator(_checked(CAMERA_TYPES, "a camera"))]
