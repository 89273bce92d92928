"""The shared conformance checker finds no difference from kube-apiserver behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubesim import SimulatorServer

# The team's shared checker lives beside the repository (../shared/tools); K8S_CONFORMANCE_CHECKER
# points elsewhere when a checkout sits in another place.
_CANDIDATES = [
    os.environ.get("K8S_CONFORMANCE_CHECKER", ""),
    str(Path(__file__).resolve().parents[3] / "shared" / "tools" / "k8s-api-conformance.py"),
    "/work/shared/tools/k8s-api-conformance.py",
]
CHECKER = next((Path(c) for c in _CANDIDATES if c and Path(c).exists()), Path(_CANDIDATES[1]))


@pytest.mark.parametrize("seed", ["empty", "demo"])
def test_conformance_checker_reports_no_failures(seed: str) -> None:
    assert CHECKER.exists(), (f"the conformance checker is expected at {CHECKER}; "
                              "set K8S_CONFORMANCE_CHECKER to its path")
    server = SimulatorServer(seed=seed).start()
    try:
        run = subprocess.run([sys.executable, str(CHECKER), "--url", server.url, "--timeout", "100"],
                             capture_output=True, text=True, timeout=130)
    finally:
        server.stop()
    failures = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert run.returncode == 0, "\n".join(failures) or run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stdout.strip().endswith("0 failed")
