"""The API split by resource."""
