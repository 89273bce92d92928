"""Golden YAML of the compiler: every mode, every peer kind and every fix over KubeSphere v3.

Each scenario's output is kept in tests/golden/<name>.yaml so reviewers read policy changes as
YAML diffs. Regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/isolation/test_compiler_golden.py`
and review the diff; without the variable the files are only compared.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from isolation.cli.compile import format_problem, render_yaml
from isolation.compiler.generate import IsolationSettings, desired_policies
from tests.golden.scenarios import GOLDEN_DIR, SCENARIOS, Scenario

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def golden_text(scenario: Scenario) -> str:
    result = desired_policies(scenario.build(), scenario.settings)
    header = [f"# {scenario.description}", f"# settings: {_describe(scenario.settings)}"]
    if result.problems:
        header.append("# problems:")
        header.extend(f"#   {format_problem(p)}" for p in result.problems)
    if result.inactive_entries:
        header.append("# inactive entries: " + ", ".join(f"{ns}/{name}" for ns, name
                                                         in result.inactive_entries))
    body = render_yaml(result.policies) or "# (no policies)\n"
    return "\n".join(header) + "\n" + body


def _describe(settings: IsolationSettings) -> str:
    defaults = IsolationSettings()
    changed = [f"{f.name}={getattr(settings, f.name)!r}" for f in dataclasses.fields(settings)
               if getattr(settings, f.name) != getattr(defaults, f.name)]
    return ", ".join(changed) or "defaults"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_compiled_policies_match_golden_yaml(scenario: Scenario):
    path = GOLDEN_DIR / f"{scenario.name}.yaml"
    text = golden_text(scenario)
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"{path.name} differs: review, then UPDATE_GOLDEN=1"


def test_every_golden_file_belongs_to_a_scenario():
    names = {s.name for s in SCENARIOS} | {"cluster"}
    stale = sorted(p.stem for p in GOLDEN_DIR.glob("*.yaml") if p.stem not in names)
    assert stale == []
