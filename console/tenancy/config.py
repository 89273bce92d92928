"""The isolation engine's settings, read from the console's PlatformSettings row."""

from __future__ import annotations

import logging

from console.core.models import PlatformSettings
from isolation.compiler.generate import ENGINE_CONSOLE, IsolationSettings

log = logging.getLogger(__name__)


def isolation_settings() -> IsolationSettings:
    """The compiler settings the platform admin chose (always-allowed namespaces, ingress
    namespace detection, node SNAT CIDRs, engine mode).

    Guarantee: always returns usable settings. A stored value the compiler refuses (edited by
    hand in the database, say) is left out and logged, so one bad value never stops every
    isolation page and job.
    """
    stored = PlatformSettings.load()
    values = {
        "always_allowed_namespaces": tuple(_strings(stored.always_allowed_namespaces)),
        "detect_ingress_namespaces": bool(stored.detect_ingress_namespaces),
        "snat_cidrs": tuple(_strings(stored.snat_cidrs)),
        "engine_mode": stored.engine_mode or ENGINE_CONSOLE,
    }
    try:
        return IsolationSettings(**values)
    except ValueError as exc:
        log.warning("platform settings refused by the isolation compiler (%s); "
                    "ignoring the invalid values", exc)
    return IsolationSettings(
        always_allowed_namespaces=tuple(
            name for name in values["always_allowed_namespaces"]
            if _accepted(always_allowed_namespaces=(name,))),
        detect_ingress_namespaces=values["detect_ingress_namespaces"],
        snat_cidrs=tuple(cidr for cidr in values["snat_cidrs"] if _accepted(snat_cidrs=(cidr,))),
        engine_mode=(values["engine_mode"] if _accepted(engine_mode=values["engine_mode"])
                     else ENGINE_CONSOLE),
    )


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _accepted(**values: object) -> bool:
    try:
        IsolationSettings(**values)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True
