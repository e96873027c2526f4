"""Configuration: one YAML file validated once into immutable, typed objects."""

from core.config.loader import ConfigError, ConfigProblem, load_config, parse_config
from core.config.models import (
    ROLES,
    CameraConfig,
    Config,
    DetectorConfig,
    IngestConfig,
    InstitutionConfig,
    LiveConfig,
    OrganisationConfig,
    Role,
    SourceConfig,
    TownConfig,
    ZoneConfig,
)

__all__ = [
    "ROLES",
    "CameraConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "DetectorConfig",
    "IngestConfig",
    "InstitutionConfig",
    "LiveConfig",
    "OrganisationConfig",
    "Role",
    "SourceConfig",
    "TownConfig",
    "ZoneConfig",
    "load_config",
    "parse_config",
]
