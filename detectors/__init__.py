"""Detectors: analytics on decoded frames, fed by camera hubs (issue: detection pipeline)."""
