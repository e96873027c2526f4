"""What the violation layer reports: a violation started, was reopened, or ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from detectors.interface import BBox

Phase = Literal["started", "reopened", "ended"]


@dataclass(frozen=True, slots=True)
class ViolationEvent:
    """One change of one violation. `onset` is when the condition was first seen (the clip starts there)."""

    phase: Phase
    kind: str
    zone: str | None
    at: float
    onset: float
    started_at: float
    confidence: float
    bbox: BBox | None
    reason: str = ""
