"""HTTP API (FastAPI) and, later, the web UI."""
