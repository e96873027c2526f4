"""vms: video-surveillance aggregation and analytics for civil-affairs institutions."""

__version__ = "0.1.0"
