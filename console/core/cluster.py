"""The console's connection to its cluster: one gateway per configuration, status for the header,
and the cluster's objects as a Snapshot.

Which cluster: KUBECONFIG (+ KUBE_CONTEXT), else KUBE_API_URL (the built-in simulator), else the
in-cluster service account. With none of them the console runs with "no cluster connected".

`snapshot()` serves the model that `manage.py watch_cluster` keeps current from watches and
publishes in the cache (Redis), when that model is alive and holds this console's own writes;
otherwise it lists the cluster as before (see "The watched model" below).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from cluster.errors import ClusterError
from cluster.gateway import Gateway
from cluster.kinds import KINDS
from cluster.snapshots import SNAPSHOT_KINDS
from cluster.watch import decode_objects, resource_version_number
from isolation.snapshot import KIND_FIELDS, Snapshot

_lock = threading.Lock()
_gateways: dict[tuple[str, str, str], Gateway] = {}

STATUS_CACHE_SECONDS = 15


class NoClusterError(ClusterError):
    """No cluster is configured."""

    def __init__(self) -> None:
        super().__init__(
            "No cluster connected: set KUBECONFIG (or KUBE_API_URL), or run `make run` to "
            "start the built-in simulator with the demo cluster."
        )


def _config_key() -> tuple[str, str, str]:
    return (settings.KUBECONFIG, settings.KUBE_CONTEXT, settings.KUBE_API_URL)


def configured() -> bool:
    return bool(settings.KUBECONFIG or settings.KUBE_API_URL
                or os.environ.get("KUBERNETES_SERVICE_HOST"))


def gateway() -> Gateway:
    """The shared gateway for the configured cluster (raises NoClusterError when none is)."""
    if not configured():
        raise NoClusterError()
    key = _config_key()
    with _lock:
        gw = _gateways.get(key)
        if gw is None:
            # Settings changed (tests point at a new simulator): drop the old connections.
            for stale in _gateways.values():
                stale.close()
            _gateways.clear()
            gw = _gateways[key] = _RecordingGateway.from_env(_gateway_env())
        return gw


def new_gateway() -> Gateway:
    """A gateway of its own for the configured cluster (the watcher's long-lived streams keep
    their connections apart from the pages'); the caller closes it."""
    if not configured():
        raise NoClusterError()
    return Gateway.from_env(_gateway_env())


def _gateway_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"KUBECONFIG": settings.KUBECONFIG, "KUBE_CONTEXT": settings.KUBE_CONTEXT,
                "KUBE_API_URL": settings.KUBE_API_URL,
                "KUBE_REQUEST_TIMEOUT": str(settings.KUBE_REQUEST_TIMEOUT)})
    return env


class _RecordingGateway(Gateway):
    """The shared gateway, noting the resourceVersion of every write it makes, so that a
    snapshot read from the watched model afterwards holds that write (read-your-writes)."""

    def create(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        return _written(obj.get("kind"), super().create(obj, dry_run=dry_run), dry_run)

    def replace(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        return _written(obj.get("kind"), super().replace(obj, dry_run=dry_run), dry_run)

    def apply(self, obj: dict[str, Any], *, force: bool = False,
              dry_run: bool = False) -> dict[str, Any]:
        return _written(obj.get("kind"), super().apply(obj, force=force, dry_run=dry_run),
                        dry_run)

    def merge_patch(self, kind: str, name: str, patch: dict[str, Any], *,
                    namespace: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        answer = super().merge_patch(kind, name, patch, namespace=namespace, dry_run=dry_run)
        return _written(kind, answer, dry_run)

    def merge_patch_status(self, kind: str, name: str, status: dict[str, Any], *,
                           namespace: str | None = None) -> dict[str, Any]:
        return _written(kind, super().merge_patch_status(kind, name, status, namespace=namespace),
                        False)

    def json_patch(self, kind: str, name: str, operations: list[dict[str, Any]], *,
                   namespace: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        answer = super().json_patch(kind, name, operations, namespace=namespace, dry_run=dry_run)
        return _written(kind, answer, dry_run)

    def delete(self, kind: str, name: str, *, namespace: str | None = None,
               resource_version: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        answer = super().delete(kind, name, namespace=namespace,
                                resource_version=resource_version, dry_run=dry_run)
        return _written(kind, answer, dry_run)


@dataclass(frozen=True)
class ClusterStatus:
    connected: bool
    name: str = ""
    url: str = ""
    is_simulator: bool = False
    healthy: bool = False
    message: str = ""


def status(*, fresh: bool = False) -> ClusterStatus:
    """What the header shows: which cluster, simulator or not, healthy or not (cached briefly)."""
    if not configured():
        return ClusterStatus(connected=False, message=str(NoClusterError()))
    key = "cluster-status:" + "|".join(_config_key())
    cached = None if fresh else cache.get(key)
    if cached:
        return ClusterStatus(**cached)
    try:
        gw = gateway()
        ok, message = gw.health()
        info = gw.describe() if ok else {"name": settings.KUBE_API_URL or settings.KUBE_CONTEXT,
                                         "url": settings.KUBE_API_URL, "is_simulator": False}
        result = ClusterStatus(connected=True, name=info.get("name", ""), url=info.get("url", ""),
                               is_simulator=bool(info.get("is_simulator")), healthy=ok,
                               message=message)
    except ClusterError as exc:
        result = ClusterStatus(connected=True, name=settings.KUBE_API_URL or settings.KUBECONFIG,
                               healthy=False, message=exc.message)
    cache.set(key, asdict(result), STATUS_CACHE_SECONDS)
    return result


def snapshot(namespaces: list[str] | None = None) -> Snapshot:
    """The cluster's objects now (raises ClusterError).

    From the watched model when it is alive and holds every write this console made (waiting
    up to MODEL_CATCH_UP_SECONDS for it to catch up), else read through the gateway. Either
    way the result is the same: objects as the server sends them minus managedFields, each
    kind in (namespace, name) order; with `namespaces`, namespaced kinds and Namespaces limited
    to those. Objects may be shared between callers of one process: treat them as read-only
    (copy before changing one, as the console's writers do).
    """
    return versioned_snapshot(namespaces)[0]


def versioned_snapshot(namespaces: list[str] | None = None) -> tuple[Snapshot, str | None]:
    """`snapshot(namespaces)` and the version of the cluster it shows (see `model_version`),
    None when it was listed rather than served from the watched model."""
    if configured():
        kinds = _served_kinds()
        if kinds is not None:
            return _snapshot_of(kinds, namespaces), _version_of(kinds)
    return gateway().snapshot(namespaces=namespaces), None


def model_version() -> str | None:
    """A name of the state of the cluster that `snapshot()` would serve now, without building
    the snapshot: two calls give the same name only when every kind is the same, and a write of
    this console (or of its workers) gives a new one by the next call. None when snapshots are
    not served from the watched model (then nothing may be kept by version)."""
    if not configured():
        return None
    kinds = _served_kinds()
    return None if kinds is None else _version_of(kinds)


# ---- The watched model -----------------------------------------------------------------------
#
# `manage.py watch_cluster` (cluster.watch.ClusterWatcher, and its ModelPublisher) keeps every
# kind of a Snapshot current from watches and publishes it in the cache under a prefix naming
# the cluster:
#   alive             the watcher's heartbeat (expires after MODEL_HEARTBEAT_TTL seconds)
#   index             {"generation": one per watcher run,
#                      "kinds": {kind: (version, resourceVersion)}}
#   kind:<Kind>       (generation, version, resourceVersion, encode_objects(objects)): a whole
#                     kind, republished after FULL_AFTER_CHANGES changes or FULL_EVERY_SECONDS
#   change:<Kind>:<version>  (generation, type, object) of each change since, kept CHANGE_TTL
#   written:<Kind>    the highest resourceVersion any console process wrote of that kind lately
# A reader keeps the kinds decoded in this process and brings each one up to the index's version
# by applying the changes it missed (a pod changing costs one pod, not all of them), or by
# decoding the whole kind when it is too far behind. Writes are recorded per kind, since each
# kind's watch moves on at its own pace.

MODEL_HEARTBEAT_SECONDS = 1.0
MODEL_HEARTBEAT_TTL = 5.0
# How long a snapshot waits for the model to hold this console's latest write, then lists.
MODEL_CATCH_UP_SECONDS = 1.0
MODEL_POLL_SECONDS = 0.02
# A write must show in snapshots read this soon after it; older records are dropped.
WRITTEN_TTL = 60
# A watcher whose watches have failed this long stops its heartbeat: pages list (and show
# the cluster's error) instead of serving an ever older model.
MODEL_FAILING_SECONDS = 10.0
# A whole kind is published again after this many changes or seconds with changes, so a reader
# far behind (or new) decodes it once instead of applying a long list of changes.
FULL_AFTER_CHANGES = 500
FULL_EVERY_SECONDS = 30.0
CHANGE_TTL = 300


@dataclass(frozen=True)
class _LocalKind:
    """One kind as this process decoded it. Never changed once built: a reader that holds it
    (or `ordered`) keeps a consistent view while a newer one replaces it."""

    generation: str
    version: int
    resource_version: str
    objects: dict[tuple[str, str], dict[str, Any]]
    ordered: list[dict[str, Any]]


_model_lock = threading.Lock()
# One refresh of the decoded model at a time per process: the others wait and reuse it.
_refresh_lock = threading.Lock()
# prefix -> kind -> its decoded state
_decoded: dict[str, dict[str, _LocalKind]] = {}
# prefix -> kind -> the highest resourceVersion this process wrote
_own_writes: dict[str, dict[str, int]] = {}
# version (see model_version) -> when a console process first named it (version_seen_at)
_seen: dict[str, float] = {}
SEEN_KEPT = 256
VERSION_SEEN_TTL = 24 * 3600


def model_prefix() -> str:
    """The cache keys' prefix of the configured cluster's model."""
    digest = hashlib.sha256("|".join(_config_key()).encode()).hexdigest()[:16]
    return f"cluster-model:{digest}:"


def _written(kind: Any, answer: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    """Record a write's resourceVersion (see _RecordingGateway); the answer unchanged."""
    if dry_run or kind not in SNAPSHOT_KINDS or not isinstance(answer, dict):
        return answer
    version = resource_version_number(str((answer.get("metadata") or {}).get("resourceVersion")
                                          or ""))
    if version is None:
        return answer
    prefix = model_prefix()
    with _model_lock:
        own = _own_writes.setdefault(prefix, {})
        own[kind] = max(own.get(kind, 0), version)
    # Shared, so a page sees a write its job made in a worker. Last writer wins: a racing
    # lower value only weakens the check for the other process's write, never the data.
    cache.set(f"{prefix}written:{kind}", version, WRITTEN_TTL)
    return answer


def _model_snapshot(namespaces: list[str] | None) -> Snapshot | None:
    """The snapshot from the watched model, or None when it is not alive or stays behind."""
    kinds = _served_kinds()
    return None if kinds is None else _snapshot_of(kinds, namespaces)


def _served_kinds() -> dict[str, _LocalKind] | None:
    """The decoded kinds of the watched model once they hold this console's writes, or None
    when it is not alive or stays behind for MODEL_CATCH_UP_SECONDS."""
    prefix = model_prefix()
    deadline = time.monotonic() + MODEL_CATCH_UP_SECONDS
    while True:
        current = _current_model(prefix)
        if current is None:
            return None
        kinds, shared_writes = current
        if _holds_writes(prefix, kinds, shared_writes):
            return kinds
        if time.monotonic() >= deadline:
            return None
        time.sleep(MODEL_POLL_SECONDS)


def _version_of(kinds: dict[str, _LocalKind]) -> str:
    # The prefix names the cluster, the generation the watcher's run, the versions each kind.
    # An empty kind is named alike at every version: a kind the cluster does not serve is
    # looked for again now and then, and each look counts as a version of it.
    held = [kinds[kind] for kind in SNAPSHOT_KINDS]
    version = (model_prefix() + held[0].generation + ":"
               + ".".join(str(local.version) if local.objects else "-" for local in held))
    with _model_lock:
        known = version in _seen
    if not known:
        _note_seen(version)
    return version


def version_seen_at(version: str) -> float:
    """When a console process first named the cluster `version` (seconds since the epoch, as
    recorded in the cache; the first time this process did without a cache). Something read
    from the cluster after that moment shows that state or a later one."""
    with _model_lock:
        seen = _seen.get(version)
    return seen if seen is not None else _note_seen(version)


def _note_seen(version: str) -> float:
    key = model_prefix() + "seen:" + hashlib.sha256(version.encode()).hexdigest()[:24]
    now = time.time()
    cache.add(key, now, VERSION_SEEN_TTL)
    seen = cache.get(key)
    seen = float(seen) if seen is not None else now
    with _model_lock:
        if len(_seen) >= SEEN_KEPT:
            _seen.clear()
        seen = _seen.setdefault(version, seen)
    return seen


def _current_model(prefix: str) -> tuple[dict[str, _LocalKind], dict[str, int]] | None:
    """Every kind of the published model as this process holds it, brought up to date, and
    the shared write records; None when no live watcher has published one."""
    written_keys = {f"{prefix}written:{kind}": kind for kind in SNAPSHOT_KINDS}
    found = cache.get_many([f"{prefix}alive", f"{prefix}index", *written_keys])
    index = found.get(f"{prefix}index")
    if f"{prefix}alive" not in found or not index or set(index["kinds"]) != set(SNAPSHOT_KINDS):
        return None
    shared_writes = {kind: int(found[key]) for key, kind in written_keys.items() if key in found}
    generation, published = index["generation"], index["kinds"]
    with _model_lock:
        local = _decoded.get(prefix) or {}
    if all(_is_current(local.get(kind), generation, version)
           for kind, (version, _rv) in published.items()):
        return local, shared_writes
    with _refresh_lock:
        with _model_lock:
            local = dict(_decoded.get(prefix) or {})
        try:
            for kind, (version, _rv) in published.items():
                if not _is_current(local.get(kind), generation, version):
                    fresh = _brought_up(prefix, kind, local.get(kind), generation, version)
                    if fresh is None:
                        return None
                    local[kind] = fresh
        finally:   # the kinds brought up so far are kept, even when one could not be
            with _model_lock:
                _decoded[prefix] = local
    return local, shared_writes


def _is_current(held: _LocalKind | None, generation: str, version: int) -> bool:
    return held is not None and held.generation == generation and held.version >= version


def _brought_up(prefix: str, kind: str, held: _LocalKind | None, generation: str,
                version: int) -> _LocalKind | None:
    """`held` with the changes up to `version` applied, or the kind decoded whole (plus the
    changes after that) when they are not all there; None when neither is published (a new
    watcher is starting, or the cache lost them): the caller lists meanwhile."""
    if held is not None and held.generation == generation:
        fresh = _with_changes(prefix, kind, held, version)
        if fresh is not None:
            return fresh
    whole = cache.get(f"{prefix}kind:{kind}")
    if whole is None or whole[0] != generation:
        return None
    objects = {_object_key(obj): obj for obj in decode_objects(whole[3])}
    base = _LocalKind(generation, whole[1], whole[2], objects, list(objects.values()))
    return base if base.version >= version else _with_changes(prefix, kind, base, version)


def _with_changes(prefix: str, kind: str, held: _LocalKind, version: int) -> _LocalKind | None:
    if version - held.version > FULL_AFTER_CHANGES:
        return None
    keys = [f"{prefix}change:{kind}:{v}" for v in range(held.version + 1, version + 1)]
    changes = cache.get_many(keys)
    if len(changes) != len(keys) or any(c[0] != held.generation for c in changes.values()):
        return None
    return _applied(held, [changes[key] for key in keys], version)


def _applied(held: _LocalKind, changes: list[tuple[str, str, dict[str, Any]]],
             version: int) -> _LocalKind:
    objects = dict(held.objects)
    resource_version = held.resource_version
    for _generation, change_type, obj in changes:
        if change_type == "DELETED":
            objects.pop(_object_key(obj), None)
        else:
            objects[_object_key(obj)] = obj
        resource_version = str(obj["metadata"].get("resourceVersion") or resource_version)
    ordered = [objects[key] for key in sorted(objects)]
    return _LocalKind(held.generation, version, resource_version, objects, ordered)


def _object_key(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


def _holds_writes(prefix: str, kinds: dict[str, _LocalKind],
                  shared_writes: dict[str, int]) -> bool:
    """Whether every kind of the model is at or past the latest write of it recorded here or
    shared by another console process."""
    with _model_lock:
        own = dict(_own_writes.get(prefix) or {})
    for kind in SNAPSHOT_KINDS:
        wanted = max(own.get(kind, 0), shared_writes.get(kind, 0))
        if not wanted:
            continue
        have = resource_version_number(kinds[kind].resource_version)
        if have is None or have < wanted:
            return False
    return True


def _snapshot_of(kinds: dict[str, _LocalKind], namespaces: list[str] | None) -> Snapshot:
    """A Snapshot of the decoded kinds, limited as Gateway.snapshot limits it."""
    keep = None if namespaces is None else set(namespaces)
    lists = {}
    for kind in SNAPSHOT_KINDS:
        objects = kinds[kind].ordered
        if keep is not None and kind == "Namespace":
            objects = [o for o in objects if o["metadata"]["name"] in keep]
        elif keep is not None and KINDS[kind].namespaced:
            objects = [o for o in objects if o["metadata"].get("namespace") in keep]
        else:
            objects = list(objects)
        lists[KIND_FIELDS[kind]] = objects
    return Snapshot(**lists)
