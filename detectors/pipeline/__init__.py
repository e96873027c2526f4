"""Running detectors beside each camera stream, and over files."""
