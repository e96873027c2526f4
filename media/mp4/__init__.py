"""Fragmented MP4: boxes, initialisation segments, fragments, and the files they make."""
