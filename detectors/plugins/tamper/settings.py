"""Camera health settings: which checks run on a camera, and their thresholds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.config.models import DetectorSettings
from detectors.violations.rules import AlarmParams


class TamperParams(AlarmParams):
    """Covered lens, defocus, moved camera, too dark, video loss."""

    covered: bool = True
    defocus: bool = True
    moved: bool = True
    too_dark: bool | None = None  # None: on for kitchens
    video_loss_s: Annotated[float, Field(ge=1, le=3600)] = 10.0
    cover_std: Annotated[float, Field(ge=1, le=60)] = 7.0  # grey-level spread below which the view is blank
    defocus_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.45  # sharpness against the camera's own reference
    moved_similarity: Annotated[float, Field(gt=0, lt=1)] = 0.5  # correlation with the reference view
    dark_level: Annotated[float, Field(ge=1, le=200)] = 40.0  # mean grey level below which it is too dark
    relearn_s: Annotated[float, Field(ge=30, le=86400)] = 600.0  # a new view held this long becomes the reference


class TamperSettings(DetectorSettings):
    """Camera health analytics; on every camera unless an entry says `enabled: false`."""

    type: Literal["tamper"] = "tamper"
    params: TamperParams = TamperParams()
