"""vms: video-surveillance aggregation and analytics for civil-affairs institutions.

This package is the command line (`vms run`, `vms check-config`, ...), the top of the layers: it builds the
service and serves its API. The product's parts are the packages below it (see docs/architecture.md).
"""

from core.version import VERSION as __version__

__all__ = ["__version__"]
