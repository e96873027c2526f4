"""The HTTP API (FastAPI) and the web UI it serves: one module per resource in `routes/`, the request guards, the
OpenAPI document, and the UI's static files in `web/`."""
