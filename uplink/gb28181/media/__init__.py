"""The video a platform asked for, as PS over RTP: where it goes, how it is packed, live or from recordings."""
