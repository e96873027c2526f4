"""Things that move in the picture, found without a model (background difference and tracking)."""
