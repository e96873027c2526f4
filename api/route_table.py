"""Every route of the app, flat: newer FastAPI keeps an included router as one lazy entry of `app.routes`."""

from __future__ import annotations

from collections.abc import Sequence

import fastapi.routing
from starlette.routing import BaseRoute


def flat_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before lazy inclusion: `app.routes` is flat already
        return list(routes)
    return [context.original_route for context in contexts(routes)]
