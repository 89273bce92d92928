"""A proposed change to a snapshot, as GitOps pipelines describe one: objects to create or
replace, and deletions (`kubectl`-style items carrying `$patch: delete`, or NS/NAME keys).

Kinds: NetworkPolicy (networking.k8s.io/v1), NamespaceNetworkPolicy
(network.kubesphere.io/v1alpha1) and the two expectation kinds. NamespaceNetworkPolicies are
intent: when any changes, the policies the isolation compiler generates are recomputed for the
result (with `IsolationSettings()` unless other settings are given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isolation.compiler.generate import IsolationSettings
from isolation.guardrails.model import KINDS as EXPECTATION_KINDS
from isolation.guardrails.model import validate_expectation
from isolation.netpol.validation import defaulted_and_issues
from isolation.review.impact import with_generated_policies
from isolation.snapshot import API_VERSIONS, KIND_FIELDS, Snapshot

PROPOSABLE = ("NetworkPolicy", "NamespaceNetworkPolicy", *EXPECTATION_KINDS)
DELETE_PATCH = "$patch"


class ProposalError(ValueError):
    """A proposed object that cannot be applied; the message names it and the field."""


@dataclass
class Change:
    """Objects to create or replace, and (kind, namespace, name) keys to delete."""

    upsert: list[dict[str, Any]] = field(default_factory=list)
    delete: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def touches_intent(self) -> bool:
        return any(o.get("kind") == "NamespaceNetworkPolicy" for o in self.upsert) or any(
            kind == "NamespaceNetworkPolicy" for kind, _, _ in self.delete)


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or ""
    if obj.get("kind") in ("NetworkPolicy", "NamespaceNetworkPolicy", "ConnectivityExpectation"):
        namespace = namespace or "default"
    return str(obj.get("kind")), namespace, str(metadata.get("name") or "")


def add_object(change: Change, obj: Any, where: str) -> None:
    """Add one proposed object (validated) to `change`; ProposalError naming `where` otherwise."""
    if not isinstance(obj, dict):
        raise ProposalError(f"{where}: expected a Kubernetes object (a mapping)")
    kind = obj.get("kind")
    if kind not in PROPOSABLE:
        raise ProposalError(f"{where}: kind {kind!r} cannot be proposed "
                            f"(supported: {', '.join(PROPOSABLE)})")
    api_version = obj.get("apiVersion") or API_VERSIONS[kind][0]
    if api_version not in API_VERSIONS[kind]:
        raise ProposalError(f"{where}: apiVersion {api_version!r} is not served for kind {kind} "
                            f"(supported: {', '.join(API_VERSIONS[kind])})")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) \
            or not metadata["name"]:
        raise ProposalError(f"{where}: metadata.name: Required value")
    kind_, namespace, name = _key(obj)
    label = f"{kind} {namespace + '/' if namespace else ''}{name}"
    if obj.get(DELETE_PATCH) == "delete":
        change.delete.append(_key(obj))
        return
    if DELETE_PATCH in obj:
        raise ProposalError(f"{where}: {label}: $patch: only \"delete\" is supported")
    if kind == "NetworkPolicy":
        defaulted, issues = defaulted_and_issues({**obj, "apiVersion": api_version})
        if issues:
            raise ProposalError(f"{where}: {label}: {issues[0]}")
        change.upsert.append(obj)
    elif kind in EXPECTATION_KINDS:
        issues = validate_expectation({**obj, "apiVersion": api_version})
        if issues:
            raise ProposalError(f"{where}: {label}: {issues[0]}")
        change.upsert.append({**obj, "apiVersion": api_version})
    else:
        if not isinstance(obj.get("spec"), dict):
            raise ProposalError(f"{where}: {label}: spec: Required value")
        change.upsert.append({**obj, "apiVersion": api_version})


def delete_key(snapshot: Snapshot, ref: str) -> tuple[str, str, str]:
    """The object `--delete NS/NAME` means: the NetworkPolicy NS/NAME, else the
    NamespaceNetworkPolicy NS/NAME (ProposalError when the snapshot has neither)."""
    namespace, slash, name = ref.partition("/")
    if not slash or not namespace or not name or "/" in name:
        raise ProposalError(f"--delete {ref!r} must be NAMESPACE/NAME")
    for kind in ("NetworkPolicy", "NamespaceNetworkPolicy"):
        if any(_key(o) == (kind, namespace, name) for o in getattr(snapshot, KIND_FIELDS[kind])):
            return kind, namespace, name
    raise ProposalError(f"--delete {ref}: the snapshot has no NetworkPolicy or "
                        f"NamespaceNetworkPolicy {ref}")


def apply_change(snapshot: Snapshot, change: Change,
                 settings: IsolationSettings | None = None) -> Snapshot:
    """The snapshot after `change` (a copy). Deleting an absent object is a ProposalError."""
    after = snapshot.with_network_policies(snapshot.network_policies)
    for key in change.delete:
        attr = KIND_FIELDS[key[0]]
        kept = [o for o in getattr(after, attr) if _key(o) != key]
        if len(kept) == len(getattr(after, attr)):
            kind, namespace, name = key
            raise ProposalError(f"cannot delete {kind} {namespace + '/' if namespace else ''}"
                                f"{name}: the snapshot has none")
        setattr(after, attr, kept)
    for obj in change.upsert:
        attr = KIND_FIELDS[obj["kind"]]
        key = _key(obj)
        setattr(after, attr, [o for o in getattr(after, attr) if _key(o) != key] + [obj])
    if change.touches_intent:
        after, _ = with_generated_policies(after, settings or IsolationSettings())
    return after
