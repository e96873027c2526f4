"""Camera ingest: one connection per camera, demuxed without decoding, fanned out to consumers."""
