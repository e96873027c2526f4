"""Recordings: continuous segment recording, retention, playback and export (issue: recordings)."""
