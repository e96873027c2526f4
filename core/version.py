"""The version of the installed product (from its package metadata, so it is written in one place)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("vms")
except PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "0+unknown"
