"""Create, read, update, patch, apply and delete, with kube-apiserver's rules for metadata,
preconditions, dry-run, finalizers and field ownership."""

from __future__ import annotations

import contextvars
import datetime
import functools
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import yaml

from isolation.collector import collector_paused
from isolation.fielderrors import FieldIssue
from isolation.netpol import validation as netpol
from isolation.yamlio import plain_copy
from kubesim import errors, managed
from kubesim.admission import Context, admit, spec_changed, tracks_generation
from kubesim.errors import ApiError
from kubesim.patches import PatchError, json_patch, merge_patch, strategic_merge_patch
from kubesim.resources import Registry, ResourceType
from kubesim.services import Allocator
from kubesim.store import Store

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
_SERVER_OWNED = ("uid", "creationTimestamp", "generation", "deletionTimestamp",
                 "deletionGracePeriodSeconds", "managedFields", "selfLink")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
# per request: the fieldValidation parameter, and the warnings the answer carries
FIELD_VALIDATION: contextvars.ContextVar[str] = contextvars.ContextVar("field_validation", default="Warn")
WARNINGS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("warnings", default=None)


def _drop_unknown_fields(rtype: ResourceType, obj: dict[str, Any]) -> list[FieldIssue] | None:
    """Drop fields the kind does not have, as the API server's decoder does: with a warning, or
    refused with 400 BadRequest under fieldValidation=Strict. (NetworkPolicies; custom resources
    are pruned by their schema.) Answers the values of a wrong type the same walk found, for
    `admit` (None for another kind)."""
    if rtype.custom or rtype.kind != "NetworkPolicy":
        return None
    found = netpol.unknown_fields(obj)
    unknown = [i for i in found if i.reason == "FieldValueUnknown"]
    wrong_types = [i for i in found if i.reason != "FieldValueUnknown"]
    if not unknown:
        return wrong_types
    if FIELD_VALIDATION.get() == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(i.message for i in unknown))
    warnings = WARNINGS.get()
    for issue in unknown:
        if warnings is not None and FIELD_VALIDATION.get() != "Ignore":
            warnings.append(issue.message)
        *parents, last = netpol.parse_field_path(issue.field)
        node: Any = obj
        for step in parents:
            node = node[step]
        del node[last]
    return wrong_types


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_body(body: bytes, content_type: str, *, yaml_ok: bool = True) -> Any:
    """The request body as data; 400 BadRequest when it does not parse. Data read from JSON
    shares no object with anything else (`create` and `update` may keep it as it is)."""
    text = body.decode("utf-8", "replace")
    if not text.strip():
        raise errors.bad_request("the request body is empty")
    try:
        if is_yaml_body(content_type, yaml_ok):
            return yaml.safe_load(text)
        with collector_paused():
            return json.loads(text, parse_constant=_not_json)
    except (ValueError, yaml.YAMLError) as exc:
        raise errors.bad_request(f"the request body could not be decoded: {exc}") from None


def _not_json(token: str) -> Any:
    """NaN and Infinity, which Python's reader takes and JSON (and so the API server) does not."""
    raise ValueError(f"{token} is not a JSON value")


def is_yaml_body(content_type: str, yaml_ok: bool = True) -> bool:
    """Whether `parse_body` reads a body of `content_type` as YAML (else as JSON)."""
    return "yaml" in content_type and yaml_ok


def _building_plain_data(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` with the cyclic garbage collector paused: a write copies, defaults and
    validates plain data (no reference cycles), and a policy of thousands of rules would
    otherwise start collections over the whole store, several times per write."""
    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        with collector_paused():
            return method(*args, **kwargs)
    return run


class Crud:
    """Object operations over the store for one simulator."""

    def __init__(self, store: Store, registry: Registry, allocator: Allocator) -> None:
        self.store = store
        self.registry = registry
        self.allocator = allocator
        self.ctx = Context(allocator, now)

    @property
    def restoring(self) -> bool:
        """True while objects are loaded as they are (seed, snapshot import): identity, status
        and addresses are kept instead of being set by the server."""
        return self.ctx.restoring

    @restoring.setter
    def restoring(self, value: bool) -> None:
        self.ctx.restoring = value

    # -- helpers ----------------------------------------------------------------------------------
    def _ns_type(self) -> ResourceType:
        ns_type = self.registry.lookup("", "v1", "namespaces")
        assert ns_type is not None
        return ns_type

    def _require_namespace(self, rtype: ResourceType, namespace: str, name: str) -> None:
        ns = self.store.get("namespaces", "", namespace)
        if ns is None:
            raise errors.not_found(self._ns_type(), namespace)
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            raise errors.forbidden(rtype, name, f"unable to create new content in namespace {namespace} "
                                   "because it is being terminated")

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rtype.key, namespace if rtype.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rtype, name)
        return obj

    @staticmethod
    def _check_identity(rtype: ResourceType, obj: Any, namespace: str, name: str | None) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise errors.bad_request(f"the body must be a {rtype.kind} object")
        if obj.get("kind") not in (None, "", rtype.kind):
            raise errors.bad_request(f'the object kind "{obj["kind"]}" does not match the expected kind '
                                     f'"{rtype.kind}"')
        if obj.get("apiVersion") not in (None, "", rtype.api_version):
            raise errors.bad_request(f'the API version in the data ({obj["apiVersion"]}) does not match the '
                                     f"expected API version ({rtype.api_version})")
        metadata = obj.get("metadata")
        if metadata is None:
            metadata = obj["metadata"] = {}
        if not isinstance(metadata, dict):
            raise errors.bad_request("metadata must be an object")
        if rtype.namespaced:
            if metadata.get("namespace") and metadata["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        if name is not None and metadata.get("name") not in (None, name):
            raise errors.bad_request(f"the name of the object ({metadata['name']}) does not match the name on "
                                     f"the URL ({name})")
        if name is not None:
            metadata["name"] = name
        rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        return {"apiVersion": rtype.api_version, "kind": rtype.kind, **rest}

    def _invalid_if(self, rtype: ResourceType, name: str, causes: list[dict[str, str]]) -> None:
        if causes:
            raise errors.invalid(rtype, name, causes)

    # -- create -----------------------------------------------------------------------------------
    @_building_plain_data
    def create(self, rtype: ResourceType, namespace: str, body: Any, *, manager: str,
               dry_run: bool, managed_done: bool = False, fresh: bool = False) -> dict[str, Any]:
        """Store a new object; answers the stored object (201). A `fresh` body (data nothing
        else holds or shares, such as a parsed JSON request body) is used instead of a copy."""
        obj = self._check_identity(rtype, body if fresh else plain_copy(body), namespace, None)
        metadata = obj["metadata"]
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + "".join(random.choices(_NAME_CHARS, k=5))
        name = metadata.get("name") or ""
        with self.store.lock:
            if rtype.namespaced:
                self._require_namespace(rtype, namespace, name)
            saved = {k: metadata.get(k) for k in _SERVER_OWNED} if self.restoring else {}
            for key in (*_SERVER_OWNED, "resourceVersion"):
                if key != "managedFields" or not managed_done:
                    metadata.pop(key, None)
            metadata["uid"] = saved.get("uid") or str(uuid.uuid4())
            metadata["creationTimestamp"] = saved.get("creationTimestamp") or now()
            if tracks_generation(rtype):
                metadata["generation"] = saved.get("generation") or 1
            wrong_types = _drop_unknown_fields(rtype, obj)
            status = plain_copy(obj.get("status"))
            # a status in a create body is ignored where a status subresource owns it (nodes
            # excepted: kubelets register them with their addresses)
            if rtype.status_subresource and rtype.kind != "Node":
                obj.pop("status", None)
            self._invalid_if(rtype, name, admit(rtype, obj, None, self.ctx, wrong_types=wrong_types))
            if self.restoring and status is not None:
                obj["status"] = status
            if self.store.get(rtype.key, metadata.get("namespace") or "", name) is not None:
                raise errors.already_exists(rtype, name)
            if self.restoring:
                # restored objects keep the field owners their cluster recorded, if any
                if saved.get("managedFields"):
                    metadata["managedFields"] = saved["managedFields"]
            elif not managed_done:
                managed.record_update(None, obj, kind=rtype.kind, manager=manager, subresource="",
                                      api_version=rtype.api_version, now=metadata["creationTimestamp"])
            if dry_run:
                return obj
            stored = self.store.put(rtype.key, obj)
            self._after_write(rtype, None, stored)
            return stored

    # -- update -----------------------------------------------------------------------------------
    def _merged(self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any],
                subresource: str) -> dict[str, Any]:
        """The object a write of `new` produces: server-owned metadata from `old`, and status or
        everything but status taken from `old`, depending on the subresource written."""
        if subresource == "status":
            merged = plain_copy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            return merged
        merged = new
        for key in _SERVER_OWNED:
            if key in old["metadata"]:
                merged["metadata"][key] = old["metadata"][key]
            else:
                merged["metadata"].pop(key, None)
        if rtype.status_subresource:
            if "status" in old:
                merged["status"] = plain_copy(old["status"])
            else:
                merged.pop("status", None)
        return merged

    @_building_plain_data
    def update(self, rtype: ResourceType, namespace: str, name: str, body: Any, *, subresource: str,
               manager: str, dry_run: bool, fresh: bool = False) -> dict[str, Any]:
        """PUT: replace the object (409 on a stale resourceVersion); a `fresh` body as in `create`."""
        new = self._check_identity(rtype, body if fresh else plain_copy(body), namespace, None)
        if new["metadata"].get("name") != name:
            raise errors.bad_request(f"the name of the object ({new['metadata'].get('name')}) does not match "
                                     f"the name on the URL ({name})")
        with self.store.lock:
            old = self.get(rtype, namespace, name)
            wanted = new["metadata"].get("resourceVersion")
            if not wanted and rtype.custom:
                raise errors.invalid(rtype, name, [errors.cause(
                    "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            merged = self._merged(rtype, old, new, subresource)
            return self._commit_update(rtype, old, merged, subresource=subresource, manager=manager,
                                       dry_run=dry_run)

    def _commit_update(self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any], *,
                       subresource: str, manager: str, dry_run: bool, managed_done: bool = False) -> dict[str, Any]:
        name = old["metadata"]["name"]
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if subresource != "status":
            wrong_types = _drop_unknown_fields(rtype, new)
            self._invalid_if(rtype, name, admit(rtype, new, old, self.ctx, wrong_types=wrong_types))
        if tracks_generation(rtype) and spec_changed(old, new):
            new["metadata"]["generation"] = (old["metadata"].get("generation") or 0) + 1
        if not managed_done:
            managed.record_update(old, new, kind=rtype.kind, manager=manager, subresource=subresource,
                                  api_version=rtype.api_version, now=now())
        if _same(old, new):
            return old
        metadata = new["metadata"]
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            if dry_run:
                return new
            final = self.store.remove(rtype.key, new)
            self._after_write(rtype, old, None)
            return final
        if dry_run:
            return new
        stored = self.store.put(rtype.key, new)
        self._after_write(rtype, old, stored)
        return stored

    # -- patch ------------------------------------------------------------------------------------
    def patch(self, rtype: ResourceType, namespace: str, name: str, body: bytes, content_type: str, *,
              subresource: str, manager: str | None, force: bool | None, dry_run: bool) -> tuple[int, dict[str, Any]]:
        """PATCH in any of the four formats; answers (HTTP status, object)."""
        media = content_type.split(";")[0].strip().lower()
        if media not in (SMP, MERGE, JSONPATCH, APPLY) or (media == SMP and rtype.custom):
            raise errors.unsupported_media_type(content_type)
        if media == APPLY:
            return self._apply(rtype, namespace, name, parse_body(body, "yaml"), subresource=subresource,
                               manager=manager, force=bool(force), dry_run=dry_run)
        if force is not None:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not '
                           "be specified for non-apply patch", {"kind": "PatchOptions", "group": "meta.k8s.io"})
        patch = parse_body(body, "json")
        if media == JSONPATCH and not isinstance(patch, list):
            raise errors.bad_request("a JSON patch must be a list of operations")
        if media != JSONPATCH and not isinstance(patch, dict):
            raise errors.bad_request("the patch must be a JSON object")
        with self.store.lock:
            old = self.get(rtype, namespace, name)
            try:
                if media == JSONPATCH:
                    patched = json_patch(old, patch)
                elif media == MERGE:
                    patched = merge_patch(old, patch)
                else:
                    patched = strategic_merge_patch(rtype.kind, old, patch)
            except PatchError as exc:
                # kube-apiserver answers a patch that cannot be applied with a bare 422: the
                # patch's own error as the message, no causes.
                raise errors.ApiError(422, "Invalid", str(exc)) from None
            if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
                raise errors.invalid(rtype, name, [errors.cause("metadata", "Required value",
                                                                "FieldValueRequired")])
            wanted = patched["metadata"].get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            new = self._check_identity(rtype, patched, namespace, None)
            if new["metadata"].get("name") != name:
                raise errors.bad_request("the name of the object may not be changed by a patch")
            merged = self._merged(rtype, old, new, subresource)
            return 200, self._commit_update(rtype, old, merged, subresource=subresource,
                                            manager=manager or "unknown", dry_run=dry_run)

    def _apply(self, rtype: ResourceType, namespace: str, name: str, applied: Any, *, subresource: str,
               manager: str | None, force: bool, dry_run: bool) -> tuple[int, dict[str, Any]]:
        if not manager:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                           "is required for apply patch",
                           {"kind": "PatchOptions", "group": "meta.k8s.io", "causes": [errors.cause(
                               "fieldManager", "Required value: is required for apply patch",
                               "FieldValueRequired")]})
        if not isinstance(applied, dict) or not applied.get("apiVersion") or not applied.get("kind"):
            raise errors.bad_request("an applied configuration needs apiVersion and kind")
        applied = self._check_identity(rtype, plain_copy(applied), namespace, None)
        if applied["metadata"].get("name") != name:
            raise errors.bad_request(f"the name of the object ({applied['metadata'].get('name')}) does not "
                                     f"match the name on the URL ({name})")
        with self.store.lock:
            old = self.store.get(rtype.key, namespace if rtype.namespaced else "", name)
            wanted = applied["metadata"].get("resourceVersion")
            if old is not None and wanted and wanted != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            try:
                merged = managed.apply(old, applied, kind=rtype.kind, manager=manager, force=force,
                                       subresource=subresource, api_version=rtype.api_version, now=now())
            except managed.ApplyConflict as exc:
                raise _apply_conflict(rtype, name, exc) from None
            merged["apiVersion"], merged["kind"] = rtype.api_version, rtype.kind
            merged["metadata"]["name"] = name
            if rtype.namespaced:
                merged["metadata"]["namespace"] = namespace
            if old is None:
                return 201, self.create(rtype, namespace, merged, manager=manager, dry_run=dry_run,
                                        managed_done=True)
            fields = merged["metadata"].get("managedFields") or []
            new = self._merged(rtype, old, merged, subresource)
            new["metadata"]["managedFields"] = fields
            return 200, self._commit_update(rtype, old, new, subresource=subresource, manager=manager,
                                            dry_run=dry_run, managed_done=True)

    # -- delete -----------------------------------------------------------------------------------
    def delete(self, rtype: ResourceType, namespace: str, name: str, options: dict[str, Any], *,
               dry_run: bool) -> tuple[int, dict[str, Any]]:
        """DELETE; objects with finalizers only get a deletionTimestamp. Answers (status, body)."""
        with self.store.lock:
            old = self.get(rtype, namespace, name)
            metadata = old["metadata"]
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != metadata.get("uid"):
                raise errors.conflict(rtype, name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                                      f"UID in object meta: {metadata.get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != metadata.get("resourceVersion"):
                raise errors.conflict(rtype, name, "Precondition failed: ResourceVersion in precondition: "
                                      f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                      f"{metadata.get('resourceVersion')}")
            if metadata.get("finalizers"):
                if metadata.get("deletionTimestamp"):
                    return 200, old
                marked = plain_copy(old)
                marked["metadata"]["deletionTimestamp"] = now()
                marked["metadata"]["deletionGracePeriodSeconds"] = 0
                if dry_run:
                    return 200, marked
                return 200, self.store.put(rtype.key, marked)
            if rtype.kind == "Namespace":
                return 200, self._delete_namespace(old, dry_run)
            if dry_run:
                final = old
            else:
                final = self.store.remove(rtype.key, old)
                self._after_write(rtype, old, None)
        if rtype.returns_deleted:
            return 200, final
        details = {"name": name, "kind": rtype.plural, "uid": metadata.get("uid")}
        if rtype.group:
            details["group"] = rtype.group
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": details}

    def _delete_namespace(self, ns: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        terminating = plain_copy(ns)
        terminating["metadata"]["deletionTimestamp"] = now()
        terminating["status"] = {"phase": "Terminating"}
        if dry_run:
            return terminating
        name = ns["metadata"]["name"]
        for resource in self.store.resources():
            rtype = self.registry.by_key(resource)
            if rtype is None or not rtype.namespaced:
                continue
            for obj in list(self.store.scan(resource, name)):
                self.store.remove(resource, obj)
                self._after_write(rtype, obj, None)
        return self.store.remove("namespaces", terminating)

    def delete_collection(self, rtype: ResourceType, namespace: str | None, matches: Any, *,
                          dry_run: bool) -> list[dict[str, Any]]:
        deleted = []
        with self.store.lock:
            for obj in list(self.store.scan(rtype.key, namespace if rtype.namespaced else None)):
                if matches(obj):
                    md = obj["metadata"]
                    _status, body = self.delete(rtype, md.get("namespace") or "", md["name"], {},
                                                dry_run=dry_run)
                    deleted.append(body if body.get("kind") != "Status" else obj)
        return deleted

    # -- side effects -----------------------------------------------------------------------------
    def _after_write(self, rtype: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rtype.kind == "Service" and not rtype.custom:
            self.allocator.changed(old, new)
        elif rtype.kind == "CustomResourceDefinition" and not rtype.custom:
            if new is not None:
                self.registry.register_crd(new)
            else:
                self._drop_crd(old or {})

    def _drop_crd(self, crd: dict[str, Any]) -> None:
        types = self.registry.unregister_crd(crd["metadata"]["name"])
        if types:
            for obj in list(self.store.scan(types[0].key)):
                self.store.remove(types[0].key, obj)


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    def strip(obj: dict[str, Any]) -> dict[str, Any]:
        metadata = {k: v for k, v in obj["metadata"].items() if k not in ("managedFields", "resourceVersion")}
        return {**obj, "metadata": metadata}
    return strip(old) == strip(new)


def _apply_conflict(rtype: ResourceType, name: str, exc: managed.ApplyConflict) -> ApiError:
    conflicts = exc.conflicts
    listed = "\n".join(f'- conflict with "{m}": {managed.dotted(p)}' for m, p in conflicts)
    if len(conflicts) == 1:
        m, p = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{m}": {managed.dotted(p)}'
    else:
        message = f"Apply failed with {len(conflicts)} conflicts: conflicts with:\n{listed}"
    details = {"name": name, "kind": rtype.plural, "causes": [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": managed.dotted(p)}
        for m, p in conflicts]}
    if rtype.group:
        details["group"] = rtype.group
    return ApiError(409, "Conflict", message, details)
