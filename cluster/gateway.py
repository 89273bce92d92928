"""The cluster gateway: the one module that talks to the Kubernetes API (official client).

Objects go in and come out as plain dicts shaped exactly as the API server sends them
(camelCase, `kind` and `apiVersion` filled in on list items too). Responses are read raw and
parsed with `json.loads`: building the client's model objects and serialising them back costs
far more than the request on cluster-sized lists (bench/snapshot_bench.py measures both).

One `Gateway` holds one `ApiClient` (one urllib3 pool) and is safe to share between threads.
Every call carries a timeout; nothing is retried here, because the caller knows whether a
retry is safe (tasks retry `TransientClusterError`, pages show the message).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client import rest
from kubernetes.config.incluster_config import InClusterConfigLoader

from cluster.config import ClusterConfig
from cluster.errors import (
    ClusterConfigError,
    ClusterError,
    MissingCRDError,
    NotFoundError,
    PermanentClusterError,
    TransientClusterError,
    error_from_status,
    parse_status,
)
from cluster.kinds import CONSOLE_CRD_KINDS, KINDS, Kind, kind_named, kind_of
from cluster.snapshots import read_snapshot
from isolation.collector import collector_paused
from isolation.snapshot import Snapshot

FIELD_MANAGER = "tenant-isolation-console"
PAGE_SIZE = 500
POOL_SIZE = 32
SIMULATOR_SUFFIX = "+kubesim"

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class Gateway:
    """A connection to one cluster. Create it once per process and share it."""

    def __init__(self, config: ClusterConfig) -> None:
        """Build the client for `config`; ClusterConfigError when the settings are unusable.

        No request is made here, so an unreachable cluster does not stop the console starting.
        """
        self.config = config
        self._api, self.name = _build_client(config)
        self.url: str = self._api.configuration.host
        self._version: dict[str, Any] | None = None
        self._version_lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Gateway:
        """A gateway configured from environment-like values (see cluster.config)."""
        return cls(ClusterConfig.from_env(env))

    def close(self) -> None:
        """Release the connection pool; the gateway must not be used afterwards."""
        self._api.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- about the cluster ---------------------------------------------------------------

    def version(self, *, timeout: float | None = None) -> dict[str, Any]:
        """The server's /version document (gitVersion, major, minor, ...)."""
        return self._call("GET", "/version", action="read the server version", timeout=timeout)

    def describe(self) -> dict[str, Any]:
        """What the UI shows about the connection; never raises.

        Keys: `name` (kubeconfig context, "in-cluster" or the API URL), `url`, `source`,
        `version` (gitVersion or None when unreachable), `reachable`, and `is_simulator`
        (the server's gitVersion ends with "+kubesim"). A successful /version is cached.
        """
        version = self._version
        if version is None:
            try:
                version = self.version(timeout=self.config.health_timeout)
            except ClusterError:
                version = None
            else:
                with self._version_lock:
                    self._version = version
        git_version = str(version.get("gitVersion", "")) if version else None
        return {
            "name": self.name,
            "url": self.url,
            "source": self.config.source,
            "version": git_version,
            "reachable": version is not None,
            "is_simulator": bool(git_version and git_version.endswith(SIMULATOR_SUFFIX)),
        }

    def health(self) -> tuple[bool, str]:
        """(True, "Connected to ...") or (False, the error message), within the health timeout."""
        try:
            version = self.version(timeout=self.config.health_timeout)
        except ClusterError as exc:
            return False, exc.message
        return True, f"Connected to {self.name} (Kubernetes {version.get('gitVersion', '?')})."

    def serves(self, group: str, version: str, plural: str) -> bool:
        """Whether the API server currently serves `plural` in `group/version`."""
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            doc = self._call("GET", path, action=f"discover {group or 'core'}/{version}")
        except NotFoundError:
            return False
        return any(r.get("name") == plural for r in doc.get("resources") or [])

    def missing_crds(self) -> list[str]:
        """The console's CRD kinds (Workspace, NamespaceNetworkPolicy) the cluster does not serve."""
        return [
            name for name in CONSOLE_CRD_KINDS
            if not self.serves(KINDS[name].group, KINDS[name].version, KINDS[name].plural)
        ]

    # ---- reads ---------------------------------------------------------------------------

    def get_object(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One object. NotFoundError when absent; MissingCRDError when its CRD is not served."""
        k = kind_named(kind)
        _check_scope(k, namespace)
        return self._call("GET", k.path(namespace, name), kind=k,
                          action=f"read {k.resource} {_ref(namespace, name)}")

    def list_objects(self, kind: str, namespace: str | None = None, *,
                     label_selector: str | None = None, field_selector: str | None = None,
                     page_size: int = PAGE_SIZE,
                     managed_fields: bool = True) -> list[dict[str, Any]]:
        """Every matching object, read in pages of `page_size` with `limit`/`continue`.

        Items carry `kind` and `apiVersion`. A namespaced kind without `namespace` lists all
        namespaces. If the server expires the continue token mid-way (410), the list restarts
        once from the beginning, so the result is always one consistent list. With
        `managed_fields=False`, `metadata.managedFields` is dropped as each page arrives.
        """
        k = kind_named(kind)
        query = [("labelSelector", label_selector), ("fieldSelector", field_selector)]
        return self._paged_list(k, namespace, [(key, v) for key, v in query if v], page_size,
                                lean=not managed_fields)[0]

    def list_with_version(self, kind: str) -> tuple[list[dict[str, Any]], str]:
        """Every object of `kind` (all namespaces, without managedFields) and the list's
        resourceVersion: the point a `watch` continues from without missing a change."""
        return self._paged_list(kind_named(kind), None, [], PAGE_SIZE, lean=True)

    def watch(self, kind: str, resource_version: str, *,
              timeout_seconds: int = 300) -> Iterator[dict[str, Any]]:
        """The changes to `kind` (all namespaces) after `resource_version`, as the server
        sends them: {"type": ADDED | MODIFIED | DELETED | BOOKMARK, "object": ...}.

        The request is made at once (its errors raise here); the events are read as the
        returned iterator is consumed. Objects carry `kind` and `apiVersion` and lose
        managedFields. The stream ends when the server closes it (after about
        `timeout_seconds`); call again from the last version seen. An ERROR event raises its
        error: a 410 (the server has compacted past the version) means list again and watch
        from the new list's version. A dropped connection, or a read silent for longer than
        the timeout, raises TransientClusterError.
        """
        k = kind_named(kind)
        action = f"watch {k.resource}"
        query = [("watch", "true"), ("resourceVersion", resource_version),
                 ("allowWatchBookmarks", "true"), ("timeoutSeconds", str(timeout_seconds))]
        request = self._api.param_serialize(
            method="GET", resource_path=k.path(None), query_params=query,
            header_params={"Accept": JSON}, auth_settings=["BearerToken"])
        # A read timeout beyond the server's own end of the stream: a silent peer is a drop.
        seconds = (self.config.timeout, timeout_seconds + self.config.timeout)
        try:
            response = self._api.call_api(*request, _request_timeout=seconds)
        except k8s.ApiException as exc:  # TLS failures, as in _call
            raise PermanentClusterError(
                f"The request to {self.url} could not be sent while trying to {action}: "
                f"{_first_line(exc.reason)}.") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc, self.config.timeout, action) from exc
        if not 200 <= response.status < 300:
            try:
                raise self._status_error(response, response.response.read(), k, action, True)
            finally:
                response.response.release_conn()
        return self._watch_stream(response.response, k, action, seconds[1])

    def _watch_stream(self, raw: Any, k: Kind, action: str,
                      seconds: float) -> Iterator[dict[str, Any]]:
        try:
            yield from _watch_events(raw, k, self.url)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc, seconds, action) from exc
        finally:
            raw.release_conn()

    def snapshot(self, namespaces: list[str] | None = None, *,
                 strict: bool = False) -> Snapshot:
        """Every object the domain engines read, as one Snapshot.

        With `namespaces`, namespaced kinds (and the Namespace objects) are limited to those
        namespaces; Nodes, Workspaces and IP pools are always complete. Kinds whose CRD the
        cluster lacks (Workspace, NamespaceNetworkPolicy, Calico IPPool) come back empty, so a
        plain cluster can still be analysed; with `strict`, a missing console CRD raises
        MissingCRDError instead. Objects are as the server sends them minus
        `metadata.managedFields` (as `kubectl get -o yaml` prints them): no engine reads
        them, and they are about half of a large cluster's bytes.
        """
        return read_snapshot(self, namespaces, strict=strict)

    # ---- writes --------------------------------------------------------------------------

    def create(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Create `obj`; the created object as the server stored (or, dry run, would store) it.

        AlreadyExistsError when the name is taken.
        """
        k, name, namespace = _identify(obj)
        return self._call("POST", k.path(namespace), kind=k, body=obj,
                          query=_dry(dry_run), action=f"create {k.resource} {_ref(namespace, name)}")

    def replace(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Replace the object with `obj`, which must carry the metadata.resourceVersion it was
        read at; ConflictError when the object changed since, ValueError without one."""
        k, name, namespace = _identify(obj)
        if not (obj.get("metadata") or {}).get("resourceVersion"):
            raise ValueError("replace needs metadata.resourceVersion to avoid overwriting "
                             "changes made since the object was read")
        return self._call("PUT", k.path(namespace, name), kind=k, body=obj,
                          query=_dry(dry_run), action=f"replace {k.resource} {_ref(namespace, name)}")

    def merge_patch(self, kind: str, name: str, patch: dict[str, Any], *,
                    namespace: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """Apply an RFC 7386 JSON merge patch (works on custom resources, unlike strategic
        merge). Put metadata.resourceVersion in `patch` to make it conditional."""
        return self._patch(kind, name, namespace, patch, MERGE_PATCH, _dry(dry_run), "merge-patch")

    def merge_patch_status(self, kind: str, name: str, status: dict[str, Any], *,
                           namespace: str | None = None) -> dict[str, Any]:
        """Merge-patch the status subresource (what a kubelet or controller reports), e.g. a
        Pod's IP and phase or a Node's addresses."""
        k = kind_named(kind)
        _check_scope(k, namespace)
        return self._call("PATCH", k.path(namespace, name, "status"), kind=k,
                          body={"status": status}, query=[], content_type=MERGE_PATCH,
                          action=f"patch status of {k.resource} {_ref(namespace, name)}")

    def json_patch(self, kind: str, name: str, operations: list[dict[str, Any]], *,
                   namespace: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """Apply an RFC 6902 JSON patch (a list of operations; a `test` op makes it conditional)."""
        if not isinstance(operations, list):
            raise ValueError("a JSON patch is a list of operations")
        return self._patch(kind, name, namespace, operations, JSON_PATCH, _dry(dry_run),
                           "json-patch")

    def apply(self, obj: dict[str, Any], *, force: bool = False,
              dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply `obj` as field manager "tenant-isolation-console".

        Fields this manager applied before and `obj` leaves out are removed by the server.
        ConflictError when another manager owns a field, unless `force` takes it over.
        """
        k, name, namespace = _identify(obj)
        query = [("fieldManager", FIELD_MANAGER), *_dry(dry_run)]
        if force:
            query.append(("force", "true"))
        return self._call("PATCH", k.path(namespace, name), kind=k, body=obj, query=query,
                          content_type=APPLY_PATCH,
                          action=f"apply {k.resource} {_ref(namespace, name)}")

    def delete(self, kind: str, name: str, *, namespace: str | None = None,
               resource_version: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """Delete one object (background propagation); the server's answer (the object or a
        Status). With `resource_version`, ConflictError if the object changed since."""
        k = kind_named(kind)
        _check_scope(k, namespace)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1",
                                   "propagationPolicy": "Background"}
        if resource_version:
            options["preconditions"] = {"resourceVersion": resource_version}
        return self._call("DELETE", k.path(namespace, name), kind=k, body=options,
                          query=_dry(dry_run), action=f"delete {k.resource} {_ref(namespace, name)}")

    # ---- internals -----------------------------------------------------------------------

    def _patch(self, kind: str, name: str, namespace: str | None, body: Any,
               content_type: str, query: list[tuple[str, str]], verb: str) -> dict[str, Any]:
        k = kind_named(kind)
        _check_scope(k, namespace)
        return self._call("PATCH", k.path(namespace, name), kind=k, body=body, query=query,
                          content_type=content_type,
                          action=f"{verb} {k.resource} {_ref(namespace, name)}")

    def _paged_list(self, k: Kind, namespace: str | None, query: list[tuple[str, str]],
                    page_size: int, *, lean: bool = False) -> tuple[list[dict[str, Any]], str]:
        action = f"list {k.resource}" + (f" in namespace {namespace}" if namespace else "")
        try:
            return self._read_pages(k, namespace, query, page_size, action, lean)
        except PermanentClusterError as exc:
            if exc.status != 410:
                raise
        # 410 Expired: the server compacted past the list's revision between two pages.
        # Restarting yields a consistent list; a second expiry means it cannot be read in
        # pages at this size and pace right now.
        try:
            return self._read_pages(k, namespace, query, page_size, action, lean)
        except PermanentClusterError as exc:
            if exc.status != 410:
                raise
            raise TransientClusterError(
                f"The list of {k.resource} expired twice while being read in pages of "
                f"{page_size}; try again.", status=410, reason=exc.reason) from exc

    def _read_pages(self, k: Kind, namespace: str | None, query: list[tuple[str, str]],
                    page_size: int, action: str, lean: bool) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        version = ""  # every page of one list is read at the first page's version
        while True:
            page_query = [*query, ("limit", str(page_size))]
            if token:
                page_query.append(("continue", token))
            page = self._call("GET", k.path(namespace), kind=k, query=page_query,
                              action=action, collection=True)
            for item in page.get("items") or []:
                item["kind"] = k.kind  # list items come without them; engines need them
                item["apiVersion"] = k.api_version
                if lean:
                    item.get("metadata", {}).pop("managedFields", None)
                items.append(item)
            version = version or str((page.get("metadata") or {}).get("resourceVersion") or "")
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items, version

    def _call(self, method: str, path: str, *, action: str, kind: Kind | None = None,
              query: Iterable[tuple[str, str]] | None = None, body: Any = None,
              content_type: str | None = None, timeout: float | None = None,
              collection: bool = False) -> dict[str, Any]:
        """One request; the decoded JSON answer, or the matching ClusterError."""
        headers = {"Accept": JSON}
        if body is not None:
            headers["Content-Type"] = content_type or JSON
        seconds = timeout or self.config.timeout
        method, url, headers, _, _ = self._api.param_serialize(
            method=method, resource_path=path, query_params=list(query or []),
            header_params=headers, auth_settings=["BearerToken"],
        )
        try:
            if body is None:
                response = self._api.call_api(method, url, headers, _request_timeout=seconds)
            else:
                response = self._send(method, url, headers, body, seconds)
            try:
                data = response.read()
            finally:
                response.response.release_conn()
        except k8s.ApiException as exc:  # the client wraps TLS failures in this, status 0
            if exc.status:
                raise error_from_status(exc.status, exc.body, api_url=self.url, action=action,
                                        http_reason=exc.reason) from exc
            if "SSL" not in str(exc.reason):
                raise PermanentClusterError(
                    f"The request to {self.url} could not be sent while trying to {action}: "
                    f"{_first_line(exc.reason)}.") from exc
            raise PermanentClusterError(
                f"The TLS connection to the Kubernetes API at {self.url} failed while trying "
                f"to {action}: {_first_line(exc.reason)}. Check the cluster's certificate "
                "authority and address in the kubeconfig.", reason="TLSError",
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc, seconds, action) from exc
        if not 200 <= response.status < 300:
            raise self._status_error(response, data, kind, action, collection)
        try:
            return _decode_json(data) if data else {}
        except ValueError as exc:
            raise PermanentClusterError(
                f"The Kubernetes API at {self.url} sent an answer that is not JSON while "
                f"trying to {action}; is {self.url} really a Kubernetes API server?",
                status=response.status,
            ) from exc

    def _send(self, method: str, url: str, headers: dict[str, str], body: Any,
              seconds: float) -> rest.RESTResponse:
        """A request with a body, encoded as the client encodes it (`json.dumps`, values that
        are not JSON as the client sanitises them) but without the client's copy of the whole
        body first: a policy of thousands of rules is a walk of a million values."""
        data = json.dumps(body, default=self._api.sanitize_for_serialization)
        try:
            raw = self._api.rest_client.pool_manager.request(
                method, url, body=data, headers=headers, timeout=urllib3.Timeout(total=seconds),
                preload_content=False)
        except urllib3.exceptions.SSLError as exc:  # wrapped as the client wraps it
            raise k8s.ApiException(status=0, reason=f"{type(exc).__name__}\n{exc}") from exc
        return rest.RESTResponse(raw)

    def _status_error(self, response: Any, data: bytes, kind: Kind | None, action: str,
                      collection: bool) -> ClusterError:
        status = response.status
        if status == 404 and kind is not None and kind.custom:
            details = parse_status(data).get("details") or {}
            if collection or not details.get("name"):
                if kind.kind in CONSOLE_CRD_KINDS:
                    return MissingCRDError(kind.kind)
                return NotFoundError(
                    f"This cluster does not serve {kind.resource} ({kind.api_version}).",
                    status=status, reason="NotFound")
        return error_from_status(
            status, data, api_url=self.url, action=action, http_reason=response.reason,
            retry_after=response.headers.get("Retry-After"),
        )

    def _transport_error(self, exc: BaseException, seconds: float, action: str) -> ClusterError:
        cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        where = f"The Kubernetes API at {self.url}"
        if isinstance(cause, urllib3.exceptions.NameResolutionError):
            return TransientClusterError(
                f"{where} could not be reached: its host name does not resolve.")
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            if isinstance(cause.__cause__ or cause.__context__, ConnectionRefusedError) or (
                    "refused" in str(cause).lower()):
                return TransientClusterError(
                    f"{where} refused the connection while trying to {action}; check that it "
                    "is running and that the address is right.")
            return TransientClusterError(f"{where} could not be reached: {_first_line(cause)}.")
        if isinstance(cause, urllib3.exceptions.TimeoutError | TimeoutError):
            return TransientClusterError(
                f"{where} did not answer within {seconds:g} s while trying to {action}.")
        if isinstance(cause, urllib3.exceptions.SSLError):
            return PermanentClusterError(
                f"The TLS connection to {self.url} failed: {_first_line(cause)}. Check the "
                "cluster's certificate authority and address in the kubeconfig.",
                reason="TLSError")
        return TransientClusterError(
            f"{where} dropped the connection while trying to {action}: {_first_line(cause)}.")


def _watch_events(raw: Any, k: Kind, url: str) -> Iterator[dict[str, Any]]:
    """The events of a watch response, one JSON document per line."""
    pending = b""
    for chunk in raw.stream(amt=None, decode_content=True):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield _watch_event(json.loads(line), k, url)
    if pending.strip():
        yield _watch_event(json.loads(pending), k, url)


def _watch_event(event: dict[str, Any], k: Kind, url: str) -> dict[str, Any]:
    obj = event.get("object") or {}
    if event.get("type") == "ERROR":
        code = int(obj.get("code") or 500)
        raise error_from_status(code, json.dumps(obj).encode(), api_url=url,
                                action=f"watch {k.resource}", http_reason=obj.get("reason") or "")
    obj["kind"] = k.kind
    obj["apiVersion"] = k.api_version
    obj.get("metadata", {}).pop("managedFields", None)
    return event


def _build_client(config: ClusterConfig) -> tuple[k8s.ApiClient, str]:
    configuration = k8s.Configuration()
    configuration.retries = False  # see the module docstring: retries belong to the caller
    # Connections kept for reuse: a watcher (cluster.watch) holds one stream per kind, and
    # its lists and the pages' parallel reads come on top; the default is 5 per CPU.
    configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0,
                                                POOL_SIZE)
    if config.source == "url":
        configuration.host = config.api_url
        return k8s.ApiClient(configuration), str(config.api_url)
    if config.source == "kubeconfig":
        try:
            contexts, current = k8s_config.list_kube_config_contexts(config.kubeconfig)
            k8s_config.load_kube_config(
                config_file=config.kubeconfig, context=config.context,
                client_configuration=configuration, persist_config=False,
            )
        except (k8s_config.ConfigException, OSError, ValueError) as exc:
            raise ClusterConfigError(
                f"Cannot use KUBECONFIG={config.kubeconfig}"
                + (f" with context {config.context!r}" if config.context else "")
                + f": {_first_line(exc)}"
            ) from exc
        name = config.context or (current or {}).get("name") or str(configuration.host)
        if config.context and not any(c.get("name") == config.context for c in contexts):
            raise ClusterConfigError(
                f"KUBECONFIG={config.kubeconfig} has no context named {config.context!r}.")
        return k8s.ApiClient(configuration), name
    directory = config.service_account_dir.rstrip("/")
    try:
        InClusterConfigLoader(
            token_filename=f"{directory}/token", cert_filename=f"{directory}/ca.crt",
            environ={"KUBERNETES_SERVICE_HOST": config.service_host or "",
                     "KUBERNETES_SERVICE_PORT": config.service_port or ""},
        ).load_and_set(configuration)
    except (k8s_config.ConfigException, OSError) as exc:
        raise ClusterConfigError(
            f"Cannot use the in-cluster service account ({directory}): {_first_line(exc)}"
        ) from exc
    return k8s.ApiClient(configuration), "in-cluster"


def _identify(obj: dict[str, Any]) -> tuple[Kind, str, str | None]:
    if not isinstance(obj, dict):
        raise ValueError("a Kubernetes object is a mapping")
    k = kind_of(obj)
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"the {k.kind} has no metadata.name")
    namespace = metadata.get("namespace")
    _check_scope(k, namespace)
    return k, name, namespace if k.namespaced else None


def _check_scope(k: Kind, namespace: str | None) -> None:
    if k.namespaced and not namespace:
        raise ValueError(f"{k.kind} objects live in a namespace; none was given")


def _dry(dry_run: bool) -> list[tuple[str, str]]:
    return [("dryRun", "All")] if dry_run else []


def _ref(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__


def _decode_json(data: bytes | str) -> Any:
    """An API answer decoded with the cyclic garbage collector paused: a list of thousands of
    objects builds millions of dicts, and the collector would rescan the growing heap again
    and again. Nothing decoded forms a cycle."""
    with collector_paused():
        return json.loads(data)
