"""What a gateway may say about the client beside its address: user agent and JA4 fingerprint."""

# JA4 (FoxIO): protocol t/q/d, TLS version, SNI d/i, cipher and extension counts, ALPN,
# then two 12-hex-digit hashes, e.g. t13d1516h2_8daaf6152771_b186095e22b6.
JA4_PATTERN = r"^[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$"
JA4_LENGTH = 36
# Printable ASCII only: a user agent is evidence an officer reads, never markup or controls.
USER_AGENT_PATTERN = r"^[\x20-\x7e]{1,256}$"
USER_AGENT_LENGTH = 256
