"""Request routing: discovery documents and the REST verbs of every served resource."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kubesim import errors
from kubesim.crud import FIELD_VALIDATION, WARNINGS, Crud, is_yaml_body, parse_body
from kubesim.errors import ApiError
from kubesim.resources import Registry, ResourceType
from kubesim.selectors import parse_field_selector, parse_label_selector
from kubesim.services import Allocator
from kubesim.store import Store
from kubesim.tables import as_table, wants_table
from kubesim.watch import open_watch

VERSION = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.0+kubesim",
    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z", "goVersion": "go1.22.5", "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]          # lower-case names
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    text: str | None = None


@dataclass
class Target:
    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str
    watch_path: bool


class Api:
    """Answers one request at a time (thread-safe: all state lives in the store)."""

    def __init__(self, store: Store, registry: Registry, allocator: Allocator) -> None:
        self.store = store
        self.registry = registry
        self.crud = Crud(store, registry, allocator)

    def handle(self, req: Request) -> Response:
        validation = req.param("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            exc = errors.bad_request(f'fieldValidation must be one of "Ignore", "Warn" or "Strict" (got {validation!r})')
            return Response(exc.code, exc.status())
        FIELD_VALIDATION.set(validation)
        warnings: list[str] = []
        WARNINGS.set(warnings)
        try:
            response = self._route(req)
        except ApiError as exc:
            return Response(exc.code, exc.status(), dict(exc.headers))
        if warnings:
            response.headers["Warning"] = ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)
        return response

    # -- routing ----------------------------------------------------------------------------------
    def _route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if req.path.rstrip("/") == "/version":
            return Response(200, VERSION)
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return Response(200, text="ok")
        if not parts or parts[0] not in ("api", "apis"):
            if not parts:
                return Response(200, {"paths": ["/api", "/api/v1", "/apis", "/version", "/healthz"]})
            raise errors.no_such_path()
        if parts[0] == "api":
            if len(parts) == 1:
                return Response(200, {"kind": "APIVersions", "versions": ["v1"],
                                      "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                      "serverAddress": req.headers.get("host", "")}]})
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) == 1:
                return Response(200, self._group_list())
            group = parts[1]
            if len(parts) == 2:
                return Response(200, self._group(group))
            version, rest = parts[2], parts[3:]
        if not rest:
            return Response(200, self._resource_list(group, version))
        target = self._target(group, version, rest)
        return self._dispatch(req, target)

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        watch_path = rest[0] == "watch"
        if watch_path:
            rest = rest[1:]
        namespace = None
        if (len(rest) >= 3 and rest[0] == "namespaces"
                and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))):
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise errors.no_such_path()
        rtype = self.registry.lookup(group, version, rest[0])
        if rtype is None or (namespace is not None and not rtype.namespaced):
            raise errors.no_such_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else ""
        if sub and not ((sub == "status" and rtype.status_subresource)
                        or (sub == "finalize" and rtype.kind == "Namespace")):
            raise errors.no_such_path()
        return Target(rtype, namespace, name, "status" if sub == "finalize" else sub, watch_path)

    def _dispatch(self, req: Request, t: Target) -> Response:
        method = req.method
        dry_run = self._dry_run(req)
        ns = t.namespace or ""
        if t.name is None:
            if method == "GET":
                if t.watch_path or req.param("watch") in ("true", "1"):
                    return self._watch(req, t)
                return self._list(req, t)
            if method == "POST":
                if t.rtype.namespaced and t.namespace is None:
                    raise errors.method_not_allowed(method)
                obj = self.crud.create(t.rtype, ns, parse_body(req.body, self._ctype(req)),
                                       manager=self._manager(req), dry_run=dry_run,
                                       fresh=not is_yaml_body(self._ctype(req)))
                return Response(201, obj)
            if method == "DELETE":
                matches = self._matcher(req, t.rtype)
                deleted = self.crud.delete_collection(t.rtype, t.namespace, matches, dry_run=dry_run)
                return Response(200, {"kind": t.rtype.list_kind, "apiVersion": t.rtype.api_version,
                                      "metadata": {"resourceVersion": str(self.store.rv)}, "items": deleted})
            raise errors.method_not_allowed(method)
        if t.rtype.namespaced and t.namespace is None:
            raise errors.no_such_path()
        if method == "GET":
            return self._maybe_table(req, t.rtype, self.crud.get(t.rtype, ns, t.name))
        if method == "PUT":
            obj = self.crud.update(t.rtype, ns, t.name, parse_body(req.body, self._ctype(req)),
                                   subresource=t.subresource, manager=self._manager(req), dry_run=dry_run,
                                   fresh=not is_yaml_body(self._ctype(req)))
            return Response(200, obj)
        if method == "PATCH":
            force = req.param("force")
            applying = self._ctype(req).startswith("application/apply-patch")
            manager = req.param("fieldManager") if applying else self._manager(req)
            status, obj = self.crud.patch(t.rtype, ns, t.name, req.body, self._ctype(req),
                                          subresource=t.subresource, manager=manager,
                                          force=None if force is None else force == "true", dry_run=dry_run)
            return Response(status, obj)
        if method == "DELETE":
            options = parse_body(req.body, "json") if req.body.strip() else {}
            if not isinstance(options, dict):
                raise errors.bad_request("the body of a DELETE must be DeleteOptions")
            dry_run = dry_run or "All" in (options.get("dryRun") or [])
            status, body = self.crud.delete(t.rtype, ns, t.name, options, dry_run=dry_run)
            return Response(status, body)
        raise errors.method_not_allowed(method)

    # -- parameters -------------------------------------------------------------------------------
    @staticmethod
    def _ctype(req: Request) -> str:
        return req.headers.get("content-type", "application/json")

    @staticmethod
    def _manager(req: Request) -> str:
        manager = req.param("fieldManager")
        if manager:
            return manager
        agent = req.headers.get("user-agent", "unknown")
        return agent.split("/")[0] or "unknown"

    @staticmethod
    def _dry_run(req: Request) -> bool:
        values = req.query.get("dryRun") or []
        for value in values:
            if value != "All":
                raise errors.bad_request(f'Invalid dry run value "{value}": supported values: "All"')
        return bool(values)

    @staticmethod
    def _matcher(req: Request, rtype: ResourceType) -> Any:
        by_label = parse_label_selector(req.param("labelSelector"))
        by_field = parse_field_selector(req.param("fieldSelector"), rtype.fields)
        return lambda obj: by_label(obj) and by_field(obj)

    # -- list and watch ---------------------------------------------------------------------------
    def _list(self, req: Request, t: Target) -> Response:
        matches = self._matcher(req, t.rtype)
        limit_text = req.param("limit")
        try:
            limit = int(limit_text) if limit_text else 0
        except ValueError:
            raise errors.bad_request(f"invalid limit {limit_text!r}") from None
        list_rv, after = self._continue(req.param("continue"))
        with self.store.lock:
            list_rv = list_rv or self.store.rv
            scan = self.store.scan(t.rtype.key, t.namespace, after)
        items: list[dict[str, Any]] = []
        token = None
        for obj in scan:
            if not matches(obj):
                continue
            if limit and len(items) == limit:
                last = items[-1]["metadata"]
                token = _encode_continue(list_rv, (last.get("namespace") or "", last["name"]))
                break
            items.append(obj)
        metadata: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if token:
            metadata["continue"] = token
            if not req.param("labelSelector") and not req.param("fieldSelector"):
                last = items[-1]["metadata"]
                metadata["remainingItemCount"] = self.store.count_after(
                    t.rtype.key, t.namespace, (last.get("namespace") or "", last["name"]))
        body = {"kind": t.rtype.list_kind, "apiVersion": t.rtype.api_version, "metadata": metadata,
                "items": items}
        return self._maybe_table(req, t.rtype, body)

    @staticmethod
    def _continue(token: str | None) -> tuple[int, tuple[str, str] | None]:
        if not token:
            return 0, None
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
            return int(data["rv"]), (str(data["start"][0]), str(data["start"][1]))
        except (ValueError, KeyError, TypeError, IndexError, binascii.Error):
            raise errors.bad_request("continue key is not valid: the token could not be decoded") from None

    def _watch(self, req: Request, t: Target) -> Response:
        timeout_text = req.param("timeoutSeconds")
        try:
            timeout = float(timeout_text) if timeout_text else None
        except ValueError:
            raise errors.bad_request(f"invalid timeoutSeconds {timeout_text!r}") from None
        stream = open_watch(self.store, t.rtype, t.namespace, self._matcher(req, t.rtype),
                            req.param("resourceVersion"), timeout)
        return Response(200, stream=stream)

    def _maybe_table(self, req: Request, rtype: ResourceType, body: dict[str, Any]) -> Response:
        if wants_table(req.headers.get("accept", "")):
            return Response(200, as_table(rtype, body))
        return Response(200, body)

    # -- discovery --------------------------------------------------------------------------------
    def _group_entry(self, group: str, versions: list[str]) -> dict[str, Any]:
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": listed, "preferredVersion": listed[0]}

    def _group_list(self) -> dict[str, Any]:
        groups = [self._group_entry(g, vs) for g, vs in self.registry.group_versions().items()]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _group(self, group: str) -> dict[str, Any]:
        versions = self.registry.group_versions().get(group)
        if not versions:
            raise errors.no_such_path()
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_entry(group, versions)}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        types = self.registry.in_group_version(group, version)
        if not types:
            raise errors.no_such_path()
        resources = [entry for rtype in types for entry in rtype.discovery()]
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": types[0].api_version,
                "resources": resources}


def _encode_continue(rv: int, start: tuple[str, str]) -> str:
    raw = json.dumps({"rv": rv, "start": list(start)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
