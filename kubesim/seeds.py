"""The objects a fresh simulator starts with."""

from __future__ import annotations

from typing import Any

from kubesim.demo import demo_objects
from kubesim.objects import SYSTEM_NAMESPACES, namespace


def seed_objects(seed: str) -> list[dict[str, Any]]:
    """Objects of the named seed, in creation order: "empty" or "demo"."""
    if seed == "empty":
        return [namespace(name) for name in SYSTEM_NAMESPACES]
    if seed == "demo":
        return demo_objects()
    raise ValueError(f"unknown seed {seed!r}: use 'empty' or 'demo'")
