"""Rings: accounts linked by shared origins or related keys, handled as one investigation."""
