"""Re-reading the configuration file from the UI or a script, as a SIGHUP does, with the outcome in the answer."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from api.deps import Caller, ServiceDep, require, require_bureau
from api.responses import problems
from core.config import ConfigError
from core.roles import Permission
from service.config_audit import Requester
from service.configuration import load_config

router = APIRouter(responses=problems(401, 403))

Operator = Annotated[Caller, Depends(require(Permission.OPERATE))]


class ReloadView(BaseModel):
    added: list[str]
    removed: list[str]
    restarted: list[str]
    updated: list[str]


class RefusedReload(BaseModel):
    detail: list[str]


@router.post("/api/config/reload", responses={409: {"model": RefusedReload, "description": "The file is invalid"}})
async def reload_configuration(
    service: ServiceDep, who: Annotated[Caller, Depends(require(Permission.OPERATE))]
) -> ReloadView:
    """Apply the configuration file as it now stands: only the cameras that changed restart. An invalid file
    is refused (409, every problem listed) and the running configuration kept; either way the audit log says so."""
    require_bureau(service, who.user, "the configuration file and its cameras")
    if service.config_path is None:
        raise HTTPException(status.HTTP_409_CONFLICT, ["the service runs on embedded defaults: no file to re-read"])
    try:
        await asyncio.to_thread(load_config, service.config_path)
    except ConfigError as error:
        await service.reload(Requester(who.user.id, who.user.username, who.client, via="API"))  # audits the refusal
        raise HTTPException(status.HTTP_409_CONFLICT, [str(problem) for problem in error.problems]) from None
    changes = await service.reload(Requester(who.user.id, who.user.username, who.client, via="API"))
    if changes is None:  # the file went bad between the check and the reload
        raise HTTPException(status.HTTP_409_CONFLICT, ["the file changed while it was read: try again"])
    return ReloadView(
        added=changes.added, removed=changes.removed, restarted=changes.restarted, updated=changes.updated
    )
