"""Offline analysis of video files: the same detectors, at full speed."""
