"""A Kubernetes API simulator: a real HTTP server on 127.0.0.1 that the official client talks to
as to kube-apiserver, for the embedded demo cluster, offline snapshots and the test suite."""

from kubesim.server import SimulatorServer, serve_forever

__all__ = ["SimulatorServer", "serve_forever", "import_snapshot"]


def __getattr__(name: str):  # import_snapshot pulls in the snapshot loader only when used
    if name == "import_snapshot":
        from kubesim.snapshot_import import import_snapshot
        return import_snapshot
    raise AttributeError(name)
