"""Cases (隐患): how long an institution has to rectify a hazard, by severity, and how often overdue ones are
looked for."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Hours = Annotated[float, Field(gt=0, le=24 * 366)]


class DeadlineHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    urgent: Hours = 24.0  # 紧急: a fall, a blocked route, a covered camera, an empty duty room
    major: Hours = 72.0  # 重要
    minor: Hours = 24.0 * 7  # 一般


class CasesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline_hours: DeadlineHours = DeadlineHours()
    # How often the service looks for cases past their deadline (flagged overdue, escalated to the town).
    sweep_s: Annotated[float, Field(ge=0.5, le=3600)] = 60.0
