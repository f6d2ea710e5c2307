"""Rendering reports: one module per format (PDF, HTML, JSON/CSV), from `domain.reports`."""
