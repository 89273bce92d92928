"""The core every feature builds on: roles and access, jobs and their runner, the cluster connection, the change records, shared view helpers, the console's own pages (home, job status, health)."""
