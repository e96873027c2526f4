"""GB/T 28181 (2016; tolerant of 2022 peers): this service as a lower platform of an upper one, over SIP, with
MANSCDP queries and notifications, and video as MPEG-2 Program Stream over RTP."""
