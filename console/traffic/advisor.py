"""The traffic-path advisor: what a project still has to allow, and the one-click fix.

The fix is an external allowlist entry (a NamespaceNetworkPolicy with ipBlock peers) saved by
the isolation service's job, which also reconciles the generated policies and records the
change in the history. It exists only under project isolation: entries of a project isolated
by its workspace alone, or not isolated, compile to nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import yaml

from console.core.scope import Scope
from console.tenancy import services as iso
from console.tenancy.intent import with_object
from console.tenancy.previews import FIX, entry_override_warnings
from console.traffic.services import Client, Ref, Traced, TrafficContext, context_from, traced
from isolation.compiler.generate import MODE_PROJECT, MODE_WORKSPACE
from isolation.compiler.intent import entry_object

PREVIEW_ENTRY_NAME = "traffic-path-fix-preview"


@dataclass
class Advice:
    """What the advisor says about one traced exposure.

    `entries` are the missing ipBlock entries ({"cidr", "ports"}), `namespaces` the namespaces
    that must be admitted (an Ingress controller's), `project` the namespace the entries go to.
    `blocker` says why the one-click fix is not offered ("" when it is). `overrides` warns
    that a platform policy decides what the fix would allow first (see `with_overrides`).
    """

    project: str
    mode: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    blocker: str = ""
    labels: dict[str, str] = field(default_factory=dict)   # CIDR -> whose address it is
    overrides: list[str] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return bool(self.entries or self.namespaces)

    @property
    def described(self) -> list[tuple[dict[str, Any], str]]:
        """Each missing entry with whose address it is ("node-1's tunl0"), when known."""
        return [(entry, self.labels.get(entry["cidr"], "")) for entry in self.entries]

    @property
    def can_fix(self) -> bool:
        return bool(self.entries) and not self.blocker


def advise(ctx: TrafficContext, result: Traced, *, can_edit: bool) -> Advice:
    """The missing entries of `result` and whether this user can add them in one click.

    Guarantee: `can_fix` only under project isolation of the exposure's project and for a
    user who may change that project.
    """
    project = result.ref.namespace
    mode = ctx.modes.get(project, "off")
    advice = Advice(project, mode,
                    [e for e in result.needed if "cidr" in e],
                    [e["namespace"] for e in result.needed if "namespace" in e])
    if not advice.entries:
        return advice
    advice.labels = _address_labels(result)
    if mode == MODE_WORKSPACE:
        advice.blocker = (f"Project {project} is isolated by its workspace only: allowlist "
                          "entries take effect under project isolation. Switch project "
                          "isolation on first, then add the entries.")
    elif mode != MODE_PROJECT:
        advice.blocker = (f"Project {project} is not isolated by the console: the requests are "
                          "stopped by other NetworkPolicies, which allowlist entries do not "
                          "change. Edit those policies, or switch project isolation on and "
                          "allow the sources here.")
    elif not can_edit:
        advice.blocker = (f"You can view project {project} but not change its allowlist; ask "
                          "one of its administrators to add these entries.")
    return advice


def with_overrides(ctx: TrafficContext, advice: Advice, scope: Scope) -> Advice:
    """`advice` with a warning for each platform policy (an AdminNetworkPolicy, a Calico tier
    before the projects') that decides what its fix is meant to allow before the project's
    NetworkPolicies, so the fix would not change it; names worded for `scope`."""
    if advice.entries:
        advice.overrides = entry_override_warnings(ctx.live, advice.project,
                                                   fix_spec(advice.entries), scope, FIX)
    return advice


def _address_labels(result: Traced) -> dict[str, str]:
    labels = {}
    for path in result.result.paths:
        for leg in [path, *path.legs]:
            if leg.policy_source and leg.policy_source_label:
                bits = ipaddress.ip_address(leg.policy_source).max_prefixlen
                labels[f"{leg.policy_source}/{bits}"] = leg.policy_source_label
    if not result.client.single:
        labels[result.client.text] = "the clients"
    return labels


def fix_spec(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The allowlist entry's spec admitting `entries`: one ingress rule per set of ports."""
    rules: dict[tuple, dict[str, Any]] = {}
    for entry in entries:
        ports = tuple((p["port"], p["protocol"]) for p in entry.get("ports") or [])
        rule = rules.setdefault(ports, {"from": [], "ports": [
            {"protocol": protocol, "port": port} for port, protocol in ports]})
        rule["from"].append({"ipBlock": {"cidr": entry["cidr"]}})
    return {"ingress": [{k: v for k, v in rule.items() if v} for rule in rules.values()]}


def predicted(ctx: TrafficContext, ref: Ref, client: Client, spec: dict[str, Any],
              settings) -> Traced:
    """The exposure traced as it will be once an entry with `spec` is saved and reconciled."""
    entry = entry_object(ref.namespace, PREVIEW_ENTRY_NAME, spec)
    after = context_from(with_object(ctx.live, entry), settings, ctx.cni,
                         recompile=frozenset({ref.namespace}))
    return traced(after, ref, client)


@dataclass
class FixPreview:
    """The one-click fix before it is confirmed."""

    advice: Advice
    spec: dict[str, Any]
    preview: Any            # console.tenancy.services.Preview
    after: Traced
    digest: str             # the trace the user looked at; a changed cluster means re-check

    @property
    def name(self) -> str:
        """The name the entry is saved under (the preview's, so the history matches it)."""
        return self.preview.name

    @property
    def spec_yaml(self) -> str:
        return yaml.safe_dump({"spec": self.spec}, sort_keys=False, default_flow_style=False)


def preview_fix(ctx: TrafficContext, result: Traced, advice: Advice) -> FixPreview:
    """The entry the fix would save, the isolation service's preview and the predicted paths."""
    spec = fix_spec(advice.entries)
    preview = iso.preview_entry(advice.project, None, spec)
    after = predicted(ctx, result.ref, result.client, spec, iso.isolation_settings())
    return FixPreview(advice, spec, preview, after, result.digest)


def start_fix(user, ctx: TrafficContext, advice: Advice, name: str = ""):
    """Start the job saving the fix as a new entry (raises iso.IntentError for invalid input).

    `name` is the one the preview showed; it is used only when no entry of the project has it,
    so a fix never replaces an existing entry.
    """
    taken = {(e.get("metadata") or {}).get("name") for e in ctx.live.nsnps
             if (e.get("metadata") or {}).get("namespace") == advice.project}
    chosen = name if name and name not in taken else None
    return iso.start_save_entry(user, advice.project, chosen, fix_spec(advice.entries))
