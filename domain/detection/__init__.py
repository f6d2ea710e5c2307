"""Finding lent keys in the gateway's access log: networks, windows, detectors, alerts."""
