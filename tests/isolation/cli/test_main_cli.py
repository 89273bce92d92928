"""`python -m isolation COMMAND`: the offline commands without Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from isolation.__main__ import COMMANDS, main

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "kubesim" / "demo.yaml"


def _run(*args):
    return subprocess.run([sys.executable, "-m", "isolation", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_reachability_summary_matches_the_module_entry_point(capsys):
    result = _run("reachability", "--snapshot", str(DEMO), "--format", "summary")
    assert result.returncode == 0, result.stderr
    assert main(["reachability", "--snapshot", str(DEMO), "--format", "summary"]) == 0
    assert capsys.readouterr().out == result.stdout
    assert '"verdicts"' in result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_names_the_flags_without_loading_the_engines(command):
    result = _run(command, "--help")
    assert result.returncode == 0 and "--snapshot" in result.stdout


def test_unknown_command_and_bad_input_exit_with_2(tmp_path):
    assert _run("nope").returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\n")
    result = _run("compile_isolation", "--snapshot", str(bad))
    assert result.returncode == 2 and "duplicate key" in result.stderr
