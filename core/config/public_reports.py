"""Public hazard reports (隐患举报): how many reports one client address may send, and within how long.

Behind a reverse proxy every client has the proxy's address, so there the limit is the whole site's: raise it,
as for log-ins (`server.login.address_failures`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class PublicReportsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    per_address: Annotated[int, Field(ge=1, le=1_000_000)] = 5
    within_minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)] = 60.0
