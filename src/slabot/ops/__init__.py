"""Running slabot as a service: Prometheus metrics, liveness and readiness probes, logs.

Nothing here decides anything about tickets: it watches what the web app and the clock do
and answers the questions an operator's monitoring asks.
"""
