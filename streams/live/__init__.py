"""Remote live view: camera packets forwarded to viewers without decoding (WebRTC, fMP4 fallback), snapshots."""
