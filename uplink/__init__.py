"""Upward to the city platform: violations forwarded over signed, durable HTTP (and, to come, the GB/T 28181
cascade and stream push)."""
