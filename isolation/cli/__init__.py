"""The offline commands' logic (reachability, compile_isolation, traffic_path) on cluster snapshots."""
