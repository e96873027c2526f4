"""Each detector type's parameters, checked once when the configuration is loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from core.config.models import DetectorConfig


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AlarmParams(_Params):
    """How observations become violations (the shared layer's rules)."""

    dwell_s: Annotated[float, Field(ge=1, le=600)] = 5.0
    min_share: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8  # of the samples in the dwell window
    clear_s: Annotated[float, Field(ge=1, le=600)] = 10.0  # mostly clear this long ends a violation
    min_duration_s: Annotated[float, Field(ge=0, le=3600)] = 0.0  # a violation lasts at least this long
    realarm_s: Annotated[float, Field(ge=0, le=86400)] = 300.0  # a new start this soon reopens the last one


class BlockedRouteParams(AlarmParams):
    """消防通道占用: the occupied share of a zone and how long it must stay occupied."""

    threshold: Annotated[float, Field(ge=0.05, le=0.95)] = 0.25
    dwell_s: Annotated[float, Field(ge=5, le=600)] = 60.0
    contrast: Annotated[float, Field(ge=4, le=100)] = 18.0  # grey levels a pixel must differ from the route
    learn_s: Annotated[float, Field(ge=0, le=600)] = 6.0  # first seconds: the clear route is learnt
    absorb_s: Annotated[float, Field(ge=300, le=7 * 86400)] = 3600.0  # stationary things fade into the route


class TamperParams(AlarmParams):
    """Camera health analytics: covered lens, defocus, moved camera, too dark, video loss."""

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


PARAMS: dict[str, type[AlarmParams]] = {"blocked_route": BlockedRouteParams, "tamper": TamperParams}
NEEDS_ZONES = {"blocked_route"}


def detector_params(config: DetectorConfig) -> AlarmParams:
    """The typed parameters of a detector; raises ValueError naming each bad parameter."""
    model = PARAMS.get(config.type)
    if model is None:
        if config.params:
            raise ValueError(f"detector {config.type!r} is not implemented yet and takes no parameters")
        return AlarmParams()
    try:
        return model(**config.params)
    except ValidationError as error:
        problems = "; ".join(
            f"params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(problems) from None


def check_detector(config: DetectorConfig) -> None:
    """Validation hook for `DetectorConfig`: parameters in range, zones where the detector needs them."""
    detector_params(config)
    if config.type in NEEDS_ZONES and config.enabled and not config.zones:
        raise ValueError(f"{config.type} needs at least one zone drawn on the route")
    names = [z.name for z in config.zones]
    if len(set(names)) != len(names):
        raise ValueError("zone names must be unique within a detector")
