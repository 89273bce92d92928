"""A whole-cluster snapshot as plain Kubernetes objects (dicts), grouped by kind.

This is the one input shape of every domain engine (reachability, compiler, traffic paths). It
is filled either from YAML that `kubectl get ... -o yaml` printed (`load_snapshot`) or from the
live cluster through the gateway. Objects stay as the API server would return them; engines
read only the fields they need.

An object is read by its apiVersion *and* kind (`API_VERSIONS`) and filed by its API group and
kind (`field_of`): a Calico `projectcalico.org/v3 NetworkPolicy` has other fields and another
meaning than a `networking.k8s.io/v1` one, so it is never read as one; objects the engines do
not evaluate are listed in `Snapshot.ignored` for the caller to warn about.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isolation.collector import collector_paused
from isolation.fielderrors import clip
from isolation.fork import FAILED, can_fork, in_child
from isolation.yamlfast import fast_load_documents, fast_load_items, list_cut, skip_value
from isolation.yamlfast_json import JsonListSplit, joined, rest_items
from isolation.yamlio import (
    YamlInputError,
    decode_text,
    load_documents,
    load_json,
)

NAME_LABEL = "kubernetes.io/metadata.name"

# kind (or, for a kind of the same name in another group, a name of its own) -> attribute
KIND_FIELDS: dict[str, str] = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "Service": "services",
    "Endpoints": "endpoints",
    "EndpointSlice": "endpoint_slices",
    "Ingress": "ingresses",
    "NetworkPolicy": "network_policies",
    "Workspace": "workspaces",
    "NamespaceNetworkPolicy": "nsnps",
    "IPPool": "ip_pools",
    "ConnectivityExpectation": "expectations",
    "ClusterConnectivityExpectation": "cluster_expectations",
    "AdminNetworkPolicy": "admin_network_policies",
    "BaselineAdminNetworkPolicy": "baseline_admin_network_policies",
    # Calico's policy kinds, served as projectcalico.org/v3 by its API server and stored as
    # crd.projectcalico.org/v1 without it; keyed by a name of their own where the kind is
    # taken (a Calico NetworkPolicy is not a networking.k8s.io one: `OBJECT_KINDS`)
    "CalicoNetworkPolicy": "calico_network_policies",
    "GlobalNetworkPolicy": "calico_global_network_policies",
    "Tier": "calico_tiers",
    "HostEndpoint": "calico_host_endpoints",
    # read for their labels, which Calico's `serviceAccounts` selectors match
    "ServiceAccount": "service_accounts",
}
CALICO_VERSIONS = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
# the object kind of the KIND_FIELDS names that are not a kind themselves
OBJECT_KINDS: dict[str, str] = {"CalicoNetworkPolicy": "NetworkPolicy"}

# KIND_FIELDS name -> the apiVersions of it the engines read (those `kubectl get -o yaml`
# prints today); an object without apiVersion is of its kind's first one
API_VERSIONS: dict[str, tuple[str, ...]] = {
    "Namespace": ("v1",),
    "Node": ("v1",),
    "Pod": ("v1",),
    "Service": ("v1",),
    "Endpoints": ("v1",),
    "EndpointSlice": ("discovery.k8s.io/v1",),
    "Ingress": ("networking.k8s.io/v1",),
    "NetworkPolicy": ("networking.k8s.io/v1",),
    "Workspace": ("tenant.kubesphere.io/v1alpha1",),
    "NamespaceNetworkPolicy": ("network.kubesphere.io/v1alpha1",),
    "IPPool": ("crd.projectcalico.org/v1",),
    "ConnectivityExpectation": ("isolation.tenant-console.io/v1alpha1",),
    "ClusterConnectivityExpectation": ("isolation.tenant-console.io/v1alpha1",),
    "AdminNetworkPolicy": ("policy.networking.k8s.io/v1alpha1",),
    "BaselineAdminNetworkPolicy": ("policy.networking.k8s.io/v1alpha1",),
    "CalicoNetworkPolicy": CALICO_VERSIONS,
    "GlobalNetworkPolicy": CALICO_VERSIONS,
    "Tier": CALICO_VERSIONS,
    "HostEndpoint": CALICO_VERSIONS,
    "ServiceAccount": ("v1",),
}


def api_group(api_version: str) -> str:
    """The group of an apiVersion ("" for the core group's "v1")."""
    return api_version.rpartition("/")[0]


# (API group, kind) -> Snapshot attribute: objects are filed by group and kind, never by kind
# alone (a kind of the same name in another group, such as Calico's NetworkPolicy, needs its
# own entry here and its apiVersions in API_VERSIONS).
# (API group, kind) -> the KIND_FIELDS name of the objects of that group and kind
GROUP_KIND_NAMES: dict[tuple[str, str], str] = {
    (api_group(version), OBJECT_KINDS.get(name, name)): name
    for name, versions in API_VERSIONS.items() for version in versions}
GROUP_KIND_FIELDS: dict[tuple[str, str], str] = {
    key: KIND_FIELDS[name] for key, name in GROUP_KIND_NAMES.items()}


def read_version(kind: str, api_version: str | None) -> tuple[str, str | None]:
    """(the apiVersion an object of `kind` is taken as, its KIND_FIELDS name or None when
    no engine reads that apiVersion of that kind)."""
    api_version = api_version or API_VERSIONS.get(kind, ("",))[0]
    name = GROUP_KIND_NAMES.get((api_group(api_version), kind))
    if name is None or api_version not in API_VERSIONS[name]:
        return api_version, None
    return api_version, name


def field_of(obj: dict[str, Any]) -> str | None:
    """The Snapshot attribute an object of this apiVersion and kind belongs in, or None when
    no engine reads it (an object without apiVersion is of its kind's first one)."""
    _, name = read_version(str(obj.get("kind")), obj.get("apiVersion"))
    return None if name is None else KIND_FIELDS[name]


@dataclass
class Snapshot:
    """Plain API objects of one cluster at one moment."""

    namespaces: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    endpoint_slices: list[dict[str, Any]] = field(default_factory=list)
    ingresses: list[dict[str, Any]] = field(default_factory=list)
    network_policies: list[dict[str, Any]] = field(default_factory=list)
    workspaces: list[dict[str, Any]] = field(default_factory=list)
    nsnps: list[dict[str, Any]] = field(default_factory=list)
    ip_pools: list[dict[str, Any]] = field(default_factory=list)
    # guardrails (isolation.guardrails): namespaced and cluster-scoped expectations
    expectations: list[dict[str, Any]] = field(default_factory=list)
    cluster_expectations: list[dict[str, Any]] = field(default_factory=list)
    # policy.networking.k8s.io/v1alpha1 (cluster-scoped; one BaselineAdminNetworkPolicy)
    admin_network_policies: list[dict[str, Any]] = field(default_factory=list)
    baseline_admin_network_policies: list[dict[str, Any]] = field(default_factory=list)
    # Calico (projectcalico.org/v3 or crd.projectcalico.org/v1): NetworkPolicy,
    # GlobalNetworkPolicy, Tier, HostEndpoint (isolation.calico)
    calico_network_policies: list[dict[str, Any]] = field(default_factory=list)
    calico_global_network_policies: list[dict[str, Any]] = field(default_factory=list)
    calico_tiers: list[dict[str, Any]] = field(default_factory=list)
    calico_host_endpoints: list[dict[str, Any]] = field(default_factory=list)
    # v1 ServiceAccounts: their labels are what Calico's `serviceAccounts` selectors read
    service_accounts: list[dict[str, Any]] = field(default_factory=list)
    # "apiVersion Kind namespace/name" of the objects read but not evaluated (load_snapshot)
    ignored: list[str] = field(default_factory=list)

    def add(self, obj: dict[str, Any]) -> None:
        """File `obj` by its API group and kind (any version of the group; `load_snapshot`
        checks versions); KeyError for a group and kind no engine reads."""
        kind = obj["kind"]
        api_version = obj.get("apiVersion") or API_VERSIONS.get(kind, ("",))[0]
        attr = GROUP_KIND_FIELDS.get((api_group(api_version), kind))
        if attr is None:  # never by kind alone: a Calico NetworkPolicy has its own attribute
            raise KeyError(f"{api_version} {kind} is not read into a Snapshot")
        getattr(self, attr).append(obj)

    def objects(self) -> list[dict[str, Any]]:
        """Every object, in KIND_FIELDS order."""
        return [obj for attr in KIND_FIELDS.values() for obj in getattr(self, attr)]

    def with_network_policies(self, policies: list[dict[str, Any]]) -> Snapshot:
        """A copy whose NetworkPolicies are `policies` (used for what-if evaluations)."""
        copy = Snapshot(**{attr: list(getattr(self, attr)) for attr in KIND_FIELDS.values()})
        copy.network_policies = list(policies)
        copy.ignored = list(self.ignored)
        return copy


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded; the message names the document and field."""


def load_snapshot(text: str | bytes, *, allow_unknown_kinds: bool = True,
                  max_bytes: int | None = None, engine_fields_only: bool = False,
                  meanwhile: Callable[[], object] | None = None) -> Snapshot:
    """Load multi-document YAML or `kind: List` objects into a Snapshot.

    Guarantees: every object has a kind and a string metadata.name (else SnapshotError naming
    the document); an object is read only when its apiVersion and kind are in API_VERSIONS (an
    object without apiVersion is taken to be of its kind's first one); any other object is listed in `Snapshot.ignored`, or refused when
    `allow_unknown_kinds` is False; no object is read twice (the same group, kind, namespace
    and name twice is a SnapshotError naming both positions); Namespaces carry their
    `kubernetes.io/metadata.name` label; duplicate keys, invalid UTF-8 and the rest of
    `isolation.yamlio`'s refusals are SnapshotErrors.

    With `engine_fields_only`, the fields no engine reads (`prune_unread`: managedFields, and
    a Pod's annotations, owners, volumes, tolerations, container env, mounts, resources and
    probes, status conditions and container statuses) are left out; on kubectl-shaped YAML
    they are then never built.

    `meanwhile` is called once, before this returns; a large snapshot is then read (in part)
    by a forked process while it runs (`isolation.fork`), with the same result.
    """
    once = _Once(meanwhile)
    try:
        with collector_paused():   # plain data throughout: nothing for the collector to find
            return _load(text, allow_unknown_kinds, max_bytes, engine_fields_only,
                         once if meanwhile is not None else None)
    finally:
        once()


class _Once:
    """Calls `function` the first time it is called, then never again."""

    def __init__(self, function: Callable[[], object] | None) -> None:
        self.function = function

    def __call__(self) -> None:
        function, self.function = self.function, None
        if function is not None:
            function()


def _load(text: str | bytes, allow_unknown_kinds: bool, max_bytes: int | None,
          engine_fields_only: bool, meanwhile: _Once | None = None) -> Snapshot:
    snapshot = Snapshot()
    # where each object was first read: (document, item); said in words only in a message
    first_seen: dict[tuple[str, str, str, str], tuple[int, int | None]] = {}
    versions: dict[tuple[str, Any], tuple[str, str | None]] = {}
    for index, data in _parse(text, max_bytes, engine_fields_only, meanwhile):
        for position, obj in _items(data, index):
            _check_object(obj, index, position)
            kind = obj["kind"]
            # Without an apiVersion (hand-written snapshots and tests) an object is taken to
            # be of the kind's first apiVersion; kubectl itself always prints one.
            read_as = (kind, obj.get("apiVersion"))
            version = versions.get(read_as)
            if version is None:
                version = versions[read_as] = read_version(*read_as)
            api_version, name = version
            metadata = obj["metadata"]
            namespace = metadata.get("namespace") or ""
            if name is None:
                if not allow_unknown_kinds:
                    raise SnapshotError(f"{_where(index, position)}: "
                                        f"{_unsupported(kind, api_version)}")
                snapshot.ignored.append(clip(_label(api_version, kind, metadata)))
                continue
            identity = (api_group(api_version), kind, namespace, metadata["name"])
            first = first_seen.setdefault(identity, (index, position))
            if first != (index, position):
                where = _where(index, position)
                raise SnapshotError(f"{where}: {clip(_label(api_version, kind, metadata))} "
                                    f"appears twice: first at {_where(*first)}, again at {where}")
            if engine_fields_only:
                prune_unread(obj)
            if kind == "Namespace":
                labels = metadata.get("labels")
                if labels is not None and not isinstance(labels, dict):
                    raise SnapshotError(f"{_where(index, position)}: metadata.labels of "
                                        f"Namespace {clip(metadata['name'])!r} must be a mapping")
                obj = with_name_label(obj)
            getattr(snapshot, KIND_FIELDS[name]).append(obj)
    return snapshot


def _where(index: int, position: int | None) -> str:
    return f"document {index}" + (f", item {position}" if position is not None else "")


def _label(api_version: str, kind: str, metadata: dict[str, Any]) -> str:
    namespace = metadata.get("namespace") or ""
    return f"{api_version} {kind} {namespace + '/' if namespace else ''}{metadata['name']}"


def _unsupported(kind: str, api_version: str) -> str:
    versions = [version for name, versions in API_VERSIONS.items()
                if OBJECT_KINDS.get(name, name) == kind for version in versions]
    if not versions:
        kinds = sorted({OBJECT_KINDS.get(name, name) for name in API_VERSIONS})
        return f"kind {clip(kind)!r} is not supported (supported: {', '.join(kinds)})"
    return (f"apiVersion {clip(api_version)!r} is not served for kind {kind} "
            f"(supported: {', '.join(versions)})")


# Fields of an object that no engine reads, by kind (see `prune_unread`). A policy's metadata
# (NetworkPolicy, NamespaceNetworkPolicy, ANP, BANP) is validated as kube-apiserver does, so
# kept whole; a Node's annotations carry its tunnel addresses, so only a Pod's are left out.
# A container's image, args and command stay: traffic paths recognise ingress controllers by them.
_UNREAD_CONTAINER = frozenset((
    "env", "envFrom", "volumeMounts", "volumeDevices", "resources", "resizePolicy",
    "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "securityContext"))
_UNREAD_POD_METADATA = frozenset(("managedFields", "annotations", "ownerReferences"))
_UNREAD_POD_SPEC = frozenset((
    "volumes", "tolerations", "affinity", "topologySpreadConstraints", "securityContext",
    "readinessGates", "dnsConfig", "hostAliases", "imagePullSecrets", "resourceClaims",
    "schedulingGates", "overhead", "nodeSelector"))
_UNREAD_POD_STATUS = frozenset((
    "conditions", "containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses",
    "resourceClaimStatuses"))
_KEEP_METADATA = frozenset(("NetworkPolicy", "NamespaceNetworkPolicy", "AdminNetworkPolicy",
                            "BaselineAdminNetworkPolicy"))


def prune_unread(obj: dict[str, Any]) -> dict[str, Any]:
    """Remove, in place, the fields of `obj` that no engine reads; idempotent."""
    kind = obj.get("kind")
    metadata = obj.get("metadata")
    if kind not in _KEEP_METADATA and isinstance(metadata, dict):
        if kind == "Pod":
            _drop(metadata, _UNREAD_POD_METADATA)
        else:
            metadata.pop("managedFields", None)
    if kind == "Pod":
        spec, status = obj.get("spec"), obj.get("status")
        if isinstance(spec, dict):
            _drop(spec, _UNREAD_POD_SPEC)
            for key in ("containers", "initContainers"):
                containers = spec.get(key)
                for container in containers if isinstance(containers, list) else ():
                    if isinstance(container, dict):
                        _drop(container, _UNREAD_CONTAINER)
        if isinstance(status, dict):
            _drop(status, _UNREAD_POD_STATUS)
    return obj


def _drop(mapping: dict[str, Any], keys: frozenset[str]) -> None:
    for key in mapping.keys() & keys:   # (found at C speed: most are not there)
        del mapping[key]


_SKIP_TREES: dict[str, Any] = {}


def _skip_tree(kind: str) -> Any:
    """What the fast YAML reader need not build of an object of `kind` (as `prune_unread`)."""
    try:
        return _SKIP_TREES[kind]
    except KeyError:
        pass
    tree: dict[str, Any] | None = None
    if kind not in _KEEP_METADATA:
        tree = {"metadata": {"managedFields": skip_value()}}
    if kind == "Pod":
        container = [dict.fromkeys(_UNREAD_CONTAINER, skip_value())]
        tree = {"metadata": dict.fromkeys(_UNREAD_POD_METADATA, skip_value()),
                "spec": {**dict.fromkeys(_UNREAD_POD_SPEC, skip_value()),
                         "containers": container, "initContainers": container},
                "status": dict.fromkeys(_UNREAD_POD_STATUS, skip_value())}
    if len(_SKIP_TREES) < 256:
        _SKIP_TREES[kind] = tree
    return tree


def _parse(text: str | bytes, max_bytes: int | None, engine_fields_only: bool = False,
           meanwhile: _Once | None = None) -> list[tuple[int, Any]]:
    """(document index, data) pairs; `kubectl -o json` output takes the much faster JSON path,
    kubectl-shaped YAML the fast reader (`isolation.yamlfast.fast_load_documents`), anything
    else the careful YAML reader. With `meanwhile`, a large input is read by a forked process
    (JSON), or a large List by two (YAML), while `meanwhile` runs."""
    if max_bytes is not None and len(text) > max_bytes:
        raise SnapshotError(f"the input is larger than the limit of {max_bytes:,} bytes")
    try:
        if meanwhile is not None and len(text) >= (
                JSON_FORK_BYTES if _looks_like_json(text) else FORK_BYTES) and can_fork():
            forked = _parse_forked(text, max_bytes, engine_fields_only, meanwhile)
            if forked is not None:
                return forked
        tried_json = _looks_like_json(text)
        if tried_json:
            # kubectl -o json; bytes are read as they are (no decoded copy of a large file)
            json_data = _json_or_none(text)
            if json_data is not None:
                return json_data
        if isinstance(text, bytes):
            text = decode_text(text)
            if not tried_json and _looks_like_json(text):   # after a byte order mark
                json_data = _json_or_none(text)
                if json_data is not None:
                    return json_data
        if max_bytes is None or len(text) <= max_bytes // 4 or len(text.encode()) <= max_bytes:
            fast = fast_load_documents(text, _skip_tree if engine_fields_only else None)
            if fast is not None:
                return fast
        return [(doc.index, doc.data) for doc in load_documents(text, max_bytes=max_bytes)]
    except YamlInputError as exc:
        raise SnapshotError(str(exc)) from None


# Reading in a forked process pays from about these sizes (YAML, JSON): below, the process
# reads as fast alone as two do with what forking costs (a second process, its caches cold,
# its result sent back). Of a List, the child reads this many bytes more than the parent:
# about what it reads while the parent runs `meanwhile` (importing the engine).
FORK_BYTES = 16_000_000
JSON_FORK_BYTES = 8_000_000
PARENT_HEAD_START_BYTES = 4_000_000
JSON_PARENT_HEAD_START_BYTES = 20_000_000


def _parse_forked(text: str | bytes, max_bytes: int | None, engine_fields_only: bool,
                  meanwhile: _Once) -> list[tuple[int, Any]] | None:
    """What `_parse` returns, read (in part) by a forked process; None when that cannot be
    done (the caller reads it all itself)."""
    if _looks_like_json(text):
        split = JsonListSplit.of(text, (len(text) - JSON_PARENT_HEAD_START_BYTES) // 2)
        if split is not None:
            return _json_forked(split, engine_fields_only, meanwhile)

        def read_json() -> list[tuple[int, Any]]:
            documents = _parse(text, max_bytes, engine_fields_only)
            for index, data in documents if engine_fields_only else ():
                for _, obj in _items(data, index):
                    _pruned(obj)
            return documents

        documents, _ = in_child(read_json, meanwhile)
        return None if documents is FAILED else [tuple(pair) for pair in documents]
    if isinstance(text, bytes):
        text = decode_text(text)
    if max_bytes is not None and len(text) > max_bytes // 4 and len(text.encode()) > max_bytes:
        return None
    skip = _skip_tree if engine_fields_only else None
    found = list_cut(text, (len(text) - PARENT_HEAD_START_BYTES) // 2)
    if found is None:
        return None
    cut, end = found
    whole = text   # (each part is copied out of it by the process that reads it)

    def read_head() -> list[tuple[int, Any]] | None:
        meanwhile()
        return fast_load_documents(whole[:cut] + whole[end:], skip)

    items, head = in_child(lambda: fast_load_items(whole[cut:end], skip), read_head)
    if items is FAILED or items is None or head is None or len(head) != 1:
        return None
    data = head[0][1]
    if not isinstance(data, dict) or not isinstance(data.get("items") or [], list):
        return None
    data["items"] = (data.get("items") or []) + items
    return head


def _json_forked(split: JsonListSplit, engine_fields_only: bool,
                 meanwhile: _Once) -> list[tuple[int, Any]] | None:
    """The one document of a kubectl `-o json` List split in parts (`JsonListSplit`): the
    items after the cut read by a forked process, the rest here once `meanwhile` has run;
    None when a part does not read or they do not make the List (the caller then reads the
    whole, and reports what it must)."""
    def read_rest() -> list[Any]:
        items = rest_items(load_json(split.rest()))
        if items is None:
            raise ValueError("not the rest of a List")
        return [_pruned(obj) for obj in items] if engine_fields_only else items

    def read_head() -> tuple[Any, Any] | None:
        meanwhile()
        tail = split.tail()
        try:
            head = load_json(split.head())
            tail_data = None if tail is None else load_json(tail)
        except (ValueError, RecursionError):
            return None
        listed = head.get("items") if isinstance(head, dict) else None
        for obj in listed if engine_fields_only and isinstance(listed, list) else ():
            _pruned(obj)
        return head, tail_data

    items, read = in_child(read_rest, read_head)
    data = None if items is FAILED or read is None else joined(read[0], items, read[1])
    return None if data is None else [(1, data)]


def _pruned(obj: Any) -> Any:
    return prune_unread(obj) if isinstance(obj, dict) else obj


def _json_or_none(text: str | bytes) -> list[tuple[int, Any]] | None:
    """The one document of JSON `text`, or None when it is not JSON (YAML in flow style: the
    YAML reader then reads it or reports precisely)."""
    try:
        return [(1, load_json(text))]
    except ValueError as exc:
        if isinstance(exc, YamlInputError):
            raise
        return None
    except RecursionError:
        raise SnapshotError("document 1: the document is nested too deeply") from None


def _looks_like_json(text: str | bytes) -> bool:
    """Whether `text` starts (after white space) with `{`, as kubectl's JSON does."""
    if isinstance(text, bytes):
        return text[:4096].lstrip()[:1] == b"{" or text.lstrip()[:1] == b"{"
    return text.lstrip()[:1] == "{"


def with_name_label(namespace: dict[str, Any]) -> dict[str, Any]:
    """The Namespace with its immutable `kubernetes.io/metadata.name` label set."""
    metadata = dict(namespace.get("metadata") or {})
    labels = dict(metadata.get("labels") or {})
    labels.setdefault(NAME_LABEL, metadata["name"])
    metadata["labels"] = labels
    return {**namespace, "metadata": metadata}


def _items(data: Any, index: int) -> list[tuple[int | None, Any]]:
    if isinstance(data, dict) and data.get("kind") == "List" or (
        isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and "items" in data
    ):
        items = data.get("items") or []
        if not isinstance(items, list):
            raise SnapshotError(f"document {index}: items must be a list")
        return list(enumerate(items))
    return [(None, data)]


def _check_object(obj: Any, index: int, position: int | None) -> None:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if (isinstance(metadata, dict) and type(metadata.get("name")) is str and metadata["name"]
            and type(metadata.get("namespace", "")) is str and type(obj.get("kind")) is str
            and obj["kind"] and type(obj.get("apiVersion", "")) is str):
        return   # the usual object: every check below passes
    where = _where(index, position)
    if not isinstance(obj, dict):
        raise SnapshotError(f"{where}: expected a Kubernetes object (a mapping), got {type(obj).__name__}")
    if not isinstance(obj.get("kind"), str) or not obj["kind"]:
        raise SnapshotError(f"{where}: the object has no kind")
    kind = clip(obj["kind"])
    if obj.get("apiVersion") is not None and not isinstance(obj["apiVersion"], str):
        raise SnapshotError(f"{where}: apiVersion of the {kind} must be a string")
    if not isinstance(metadata, dict):
        raise SnapshotError(f"{where}: the {kind} has no metadata.name")
    for key in ("name", "namespace"):
        problem = _not_a_string(metadata.get(key))
        if problem:
            raise SnapshotError(f"{where}: metadata.{key} of the {kind} must be a string; {problem}")
    if not metadata.get("name"):
        raise SnapshotError(f"{where}: the {kind} has no metadata.name")


def _not_a_string(value: Any) -> str | None:
    """Why `value` (a name) is not a string, when YAML read an unquoted scalar as another type."""
    if value is None or isinstance(value, str):
        return None
    if isinstance(value, datetime.datetime):
        return f"YAML read {value.isoformat()} as a date and time: quote it"
    if isinstance(value, datetime.date):
        return f"YAML read {value.isoformat()} as a date: quote it"
    if isinstance(value, bool):
        return f"YAML read {'true' if value else 'false'} as a boolean: quote it"
    if isinstance(value, int | float):
        return f"YAML read {clip(str(value))} as a number: quote it"
    return f"got {'a mapping' if isinstance(value, dict) else 'a list' if isinstance(value, list) else type(value).__name__}"
