"""What a change does before it is applied: its reachability impact and lint warnings."""
