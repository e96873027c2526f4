"""Configuration: one YAML file validated once into immutable, typed objects (read by `service.configuration`,
which adds the detectors' own settings models)."""

from core.config.loader import ConfigError, ConfigProblem
from core.config.models import (
    ROLES,
    CameraConfig,
    Config,
    DetectorSettings,
    IngestConfig,
    InstitutionConfig,
    LiveConfig,
    OrganisationConfig,
    Role,
    SourceConfig,
    TownConfig,
    WorkersConfig,
    ZoneConfig,
)

__all__ = [
    "ROLES",
    "CameraConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "DetectorSettings",
    "IngestConfig",
    "WorkersConfig",
    "InstitutionConfig",
    "LiveConfig",
    "OrganisationConfig",
    "Role",
    "SourceConfig",
    "TownConfig",
    "ZoneConfig",
]
