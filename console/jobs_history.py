"""Job handlers for the history area (registered with console.jobs.handler)."""
