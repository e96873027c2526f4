"""Frames for detectors: decoding only what they need, scaled once per camera."""
