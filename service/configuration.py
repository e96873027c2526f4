"""The configuration file the service reads: core's models, with each camera's detector entries read as the
settings models of the registered detector plug-ins (a union told apart by `type`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import model_validator

from core.config import CameraConfig, Config, loader
from detectors.registry import DetectorEntry, declared_kinds


class CameraFile(CameraConfig):
    detectors: list[DetectorEntry] = []


class ConfigFile(Config):
    cameras: list[CameraFile] = []

    @model_validator(mode="after")
    def _kinds_mean_one_thing(self) -> ConfigFile:
        declared_kinds(self.cameras)  # ValueError naming the camera and the violation type
        return self


def load_config(path: Path) -> Config:
    """Read and validate a YAML file; raises `core.config.ConfigError` listing every problem."""
    return loader.load_config(path, ConfigFile)


def parse_config(data: Any, source: str = "<config>") -> Config:
    """Validate already-parsed YAML data; raises `core.config.ConfigError` listing every problem."""
    return loader.parse_config(data, ConfigFile, source)
