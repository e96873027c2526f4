"""A small SIP stack on asyncio (RFC 3261 as GB/T 28181 uses it): messages, transports (UDP with retransmission,
TCP with Content-Length framing), transactions, digest authentication."""
