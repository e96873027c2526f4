"""Camera pipelines in worker processes: the service process assigns cameras to workers, supervises and
restarts them, and mirrors a camera's stream only while someone in it watches (`docs/architecture.md`)."""
