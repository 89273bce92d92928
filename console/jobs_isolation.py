"""Job handlers for the isolation area (registered with console.jobs.handler)."""
