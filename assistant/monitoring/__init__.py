"""Watching the running product: Prometheus metrics, structured logs with a trace id."""
