"""Remote live view: camera packets forwarded to viewers without decoding (WebRTC, the fMP4 fallback), Motion JPEG
for what a browser cannot play as sent, and snapshots."""
