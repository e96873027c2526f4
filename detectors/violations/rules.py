"""How observations become violations: the rules every detector's violations follow (`ViolationTracker`).

Each detector's `params` model extends `AlarmParams` with its own parameters and may change these defaults.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class AlarmParams(BaseModel):
    """Debounce, dwell, end and re-alarm suppression of one detector's violations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dwell_s: Annotated[float, Field(ge=1, le=600)] = 5.0
    min_share: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8  # of the samples in the dwell window
    clear_s: Annotated[float, Field(ge=1, le=600)] = 10.0  # mostly clear this long ends a violation
    min_duration_s: Annotated[float, Field(ge=0, le=3600)] = 0.0  # a violation lasts at least this long
    realarm_s: Annotated[float, Field(ge=0, le=86400)] = 300.0  # a new start this soon reopens the last one
