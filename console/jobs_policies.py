"""Job handlers for the policies area (registered with console.jobs.handler)."""
