"""Recordings: continuous segment recording, start-up repair, retention, playback, export and violation evidence."""
