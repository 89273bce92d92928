"""Job handlers for the traffic area (registered with console.jobs.handler)."""
