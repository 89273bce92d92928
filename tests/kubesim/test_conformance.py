"""The shared conformance checker finds no difference from kube-apiserver behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubesim import SimulatorServer

CHECKER = Path(__file__).resolve().parents[3] / "shared" / "tools" / "k8s-api-conformance.py"


@pytest.mark.parametrize("seed", ["empty", "demo"])
def test_conformance_checker_reports_no_failures(seed: str) -> None:
    assert CHECKER.exists(), f"the conformance checker is expected at {CHECKER}"
    server = SimulatorServer(seed=seed).start()
    try:
        run = subprocess.run([sys.executable, str(CHECKER), "--url", server.url, "--timeout", "100"],
                             capture_output=True, text=True, timeout=130)
    finally:
        server.stop()
    failures = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert run.returncode == 0, "\n".join(failures) or run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stdout.strip().endswith("0 failed")
