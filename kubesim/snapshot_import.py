"""Snapshot import: load what `kubectl get ... -A -o yaml` printed into a simulator state file,
so a real cluster can be analysed offline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isolation.snapshot import KIND_FIELDS, SnapshotError, load_snapshot
from kubesim.crud import Crud
from kubesim.errors import ApiError
from kubesim.objects import console_crds, namespace
from kubesim.persistence import write_state
from kubesim.policy_crds import policy_crds
from kubesim.resources import Registry
from kubesim.services import Allocator
from kubesim.store import Store

MAX_BYTES = 512 * 1024 * 1024
CALICO_IPPOOL_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "ippools.crd.projectcalico.org"},
    "spec": {"group": "crd.projectcalico.org", "scope": "Cluster",
             "names": {"plural": "ippools", "singular": "ippool", "kind": "IPPool", "listKind": "IPPoolList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {"spec": {"type": "object",
                                                           "x-kubernetes-preserve-unknown-fields": True}}}}}]},
}


@dataclass
class ImportSummary:
    """What an import loaded: objects per kind, and the namespaces it had to add."""

    state_file: str
    files: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    added_namespaces: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{n} {kind if n == 1 else _plural(kind)}" for kind, n in self.counts.items() if n]
        text = f"Imported {', '.join(parts) or 'nothing'} from {len(self.files)} file(s) into {self.state_file}."
        if self.added_namespaces:
            text += (" Added namespaces the snapshot did not include: "
                     + ", ".join(self.added_namespaces) + ".")
        return text


def _plural(kind: str) -> str:
    if kind.endswith("Endpoints"):
        return kind
    if kind.endswith("y"):
        return kind[:-1] + "ies"
    return kind + ("es" if kind.endswith("s") else "s")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def _label(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    where = f"{metadata.get('namespace')}/" if metadata.get("namespace") else ""
    return f"{obj.get('kind')} {where}{metadata.get('name')}"


def import_snapshot(files: list[str], state_file: str) -> ImportSummary:
    """Replace the simulator state in `state_file` with the objects of `files`.

    Each file is multi-document YAML or a `kind: List`, as kubectl prints it. Later files win
    when the same object appears twice. Guarantees: on any problem (unreadable file, not YAML,
    an unknown kind, an object without a name, an object the API server would refuse) a
    SnapshotError names the file and the document or object, and `state_file` is left exactly
    as it was; on success it is replaced in one atomic step.
    """
    if not files:
        raise SnapshotError("no snapshot files given")
    chosen: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
    for path in files:
        data = _read(path)
        try:
            snapshot = load_snapshot(data, allow_unknown_kinds=False, max_bytes=MAX_BYTES)
        except SnapshotError as exc:
            raise SnapshotError(f"{path}: {exc}") from None
        for obj in snapshot.objects():
            metadata = obj["metadata"]
            chosen[(obj["kind"], metadata.get("namespace") or "", metadata["name"])] = (path, obj)
    store, crud = _fresh()
    summary = ImportSummary(state_file=state_file, files=list(files))
    seeds = console_crds()
    if any(kind == "IPPool" for kind, _ns, _name in chosen):
        seeds.append(CALICO_IPPOOL_CRD)
    seeds += policy_crds()  # AdminNetworkPolicy and Calico's kinds, when a snapshot holds them
    _load(crud, [("built-in CRDs", obj) for obj in seeds])
    ordered = sorted(chosen.values(), key=lambda item: list(KIND_FIELDS).index(item[1]["kind"]))
    namespaces = {obj["metadata"]["name"] for _path, obj in ordered if obj["kind"] == "Namespace"}
    missing = sorted({obj["metadata"].get("namespace") for _path, obj in ordered
                      if obj["kind"] != "Namespace" and obj["metadata"].get("namespace")} - namespaces)
    summary.added_namespaces = missing
    _load(crud, [("", namespace(name)) for name in missing])
    _load(crud, ordered)
    for _path, obj in ordered:
        summary.counts[obj["kind"]] = summary.counts.get(obj["kind"], 0) + 1
    write_state(state_file, store.dump())
    return summary


def _fresh() -> tuple[Store, Crud]:
    store = Store()
    return store, Crud(store, Registry(), Allocator())


def _load(crud: Crud, items: list[tuple[str, dict[str, Any]]]) -> None:
    crud.restoring = True
    try:
        for path, obj in items:
            rtype = crud.registry.by_kind(obj.get("apiVersion", ""), obj["kind"])
            if rtype is None:
                raise SnapshotError(f"{path}: {_label(obj)}: apiVersion {obj.get('apiVersion')!r} is not served "
                                    f"for {obj['kind']}")
            ns = obj["metadata"].get("namespace") or ""
            if rtype.namespaced and not ns:
                raise SnapshotError(f"{path}: {_label(obj)}: a namespaced object needs metadata.namespace")
            try:
                crud.create(rtype, ns, obj, manager="kubesim-import", dry_run=False)
            except ApiError as exc:
                raise SnapshotError(f"{path}: {_label(obj)}: {exc.message}") from None
    finally:
        crud.restoring = False
