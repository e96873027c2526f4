"""Evacuation-route detectors."""
