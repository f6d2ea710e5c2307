"""Prometheus metrics of keycase's own work (the API's and the worker's), one place for names."""
