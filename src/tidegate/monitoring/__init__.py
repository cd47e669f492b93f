"""What operators watch: /metrics (request middleware, state gauges), /healthz, /readyz."""
