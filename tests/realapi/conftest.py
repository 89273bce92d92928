"""Tests against a real kube-apiserver (the fixtures live in tests/conftest.py)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/realapi/" in str(item.fspath):
            item.add_marker(pytest.mark.realapi)
