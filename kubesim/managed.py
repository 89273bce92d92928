"""Field ownership (metadata.managedFields) and server-side apply.

A field set is a set of paths in the `fieldsV1` notation kube-apiserver uses: `f:<key>` for map
keys, `k:<json>` for items of keyed lists, `v:<json>` for members of scalar sets, `.` for a
keyed list item itself. Only leaves are recorded (scalars, empty maps, atomic lists); that is
enough to decide who owns what, to find apply conflicts and to remove fields an applier
stopped applying.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from kubesim.schema import list_spec

Path = tuple[str, ...]
_SERVER_METADATA = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                    "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}


def _item_key(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    chosen = {k: item[k] for k in keys if k in item}
    return "k:" + json.dumps(chosen, sort_keys=True, separators=(",", ":"))


def _item_matches(item: Any, key: str) -> bool:
    if not isinstance(item, dict):
        return False
    wanted = json.loads(key[2:])
    return all(item.get(k) == v for k, v in wanted.items())


def field_set(obj: dict[str, Any], kind: str, subresource: str = "") -> set[Path]:
    """Leaf paths of `obj` that a manager can own (server-set metadata, apiVersion and kind
    excluded; only `status` for the status subresource, everything but `status` otherwise)."""
    out: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if (key == "status") != (subresource == "status"):
            continue
        if key == "metadata" and isinstance(value, dict):
            for mkey, mvalue in value.items():
                if mkey not in _SERVER_METADATA:
                    _walk(mvalue, kind, ("metadata", mkey), ("f:metadata", f"f:{mkey}"), out)
            continue
        _walk(value, kind, (key,), (f"f:{key}",), out)
    return out


def _walk(value: Any, kind: str, spath: tuple[str, ...], fpath: Path, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _walk(child, kind, (*spath, key), (*fpath, f"f:{key}"), out)
        return
    spec = list_spec(kind, spath) if isinstance(value, list) and value else None
    if spec is not None and spec.is_set:
        out.update((*fpath, "v:" + json.dumps(item, sort_keys=True)) for item in value)
        return
    if spec is not None and spec.keys and all(isinstance(item, dict) for item in value):
        for item in value:
            ikey = _item_key(item, spec.keys)
            out.add((*fpath, ikey, "."))
            for key, child in item.items():
                _walk(child, kind, (*spath, "*", key), (*fpath, ikey, f"f:{key}"), out)
        return
    out.add(fpath)


_MISSING = object()


def value_at(obj: Any, path: Path) -> Any:
    """The value at `path`, or a sentinel that equals nothing when it is absent."""
    node = obj
    for step in path:
        if step == ".":
            continue
        if step.startswith("f:") and isinstance(node, dict) and step[2:] in node:
            node = node[step[2:]]
        elif step.startswith("k:") and isinstance(node, list):
            node = next((item for item in node if _item_matches(item, step)), _MISSING)
        elif step.startswith("v:") and isinstance(node, list):
            wanted = json.loads(step[2:])
            node = wanted if wanted in node else _MISSING
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def remove_at(obj: dict[str, Any], path: Path) -> None:
    """Remove the field at `path` from `obj` (in place); maps left empty on the way are removed."""
    trail: list[tuple[Any, Any]] = []   # (container, key or index)
    node: Any = obj
    steps = [s for s in path if s != "."]
    for step in steps:
        if step.startswith("f:") and isinstance(node, dict) and step[2:] in node:
            trail.append((node, step[2:]))
            node = node[step[2:]]
        elif step.startswith("k:") and isinstance(node, list):
            index = next((i for i, item in enumerate(node) if _item_matches(item, step)), None)
            if index is None:
                return
            trail.append((node, index))
            node = node[index]
        elif step.startswith("v:") and isinstance(node, list):
            wanted = json.loads(step[2:])
            if wanted not in node:
                return
            trail.append((node, node.index(wanted)))
            node = wanted
        else:
            return
    if not trail:
        return
    if path[-1] == "." or steps[-1].startswith(("k:", "v:")):
        container, index = trail.pop()
        container.pop(index)
    else:
        container, key = trail.pop()
        container.pop(key)
    while trail:
        container, key = trail.pop()
        child = container[key]
        if isinstance(child, dict) and not child and isinstance(container, dict):
            container.pop(key)
        else:
            break


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for step in path:
            node = node.setdefault(step, {})
    return tree


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for step, child in (tree or {}).items():
        path = (*prefix, step)
        if isinstance(child, dict) and child:
            out |= from_fields_v1(child, path)
        else:
            out.add(path)
    return out


@dataclass
class Entry:
    manager: str
    operation: str
    subresource: str
    api_version: str
    time: str
    fields: set[Path]

    def render(self) -> dict[str, Any]:
        out = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
               "time": self.time, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(self.fields)}
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def entries_of(obj: dict[str, Any] | None) -> list[Entry]:
    out = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, dict) or not raw.get("manager"):
            continue
        out.append(Entry(raw["manager"], raw.get("operation", "Update"), raw.get("subresource", ""),
                         raw.get("apiVersion", ""), raw.get("time", ""),
                         from_fields_v1(raw.get("fieldsV1") or {})))
    return out


def _changed_paths(old: dict[str, Any] | None, new: dict[str, Any], kind: str, sub: str) -> tuple[set[Path], set[Path]]:
    new_fields = field_set(new, kind, sub)
    old_fields = field_set(old, kind, sub) if old else set()
    changed = {p for p in new_fields if old is None or value_at(old, p) != value_at(new, p)}
    return changed, old_fields - new_fields


def record_update(old: dict[str, Any] | None, new: dict[str, Any], *, kind: str, manager: str,
                  subresource: str, api_version: str, now: str) -> None:
    """Set `new`'s managedFields after a non-apply write by `manager` (in place): the manager takes
    the fields it changed, other managers lose them, removed fields are owned by nobody."""
    entries = entries_of(old)
    changed, removed = _changed_paths(old, new, kind, subresource)
    if not changed and not removed:
        new["metadata"]["managedFields"] = [e.render() for e in entries]
        return
    mine = next((e for e in entries if e.manager == manager and e.operation == "Update"
                 and e.subresource == subresource), None)
    if mine is None and changed:
        mine = Entry(manager, "Update", subresource, api_version, now, set())
        entries.append(mine)
    for entry in entries:
        if entry is not mine:
            entry.fields -= changed | removed
    if mine is not None:
        mine.fields = (mine.fields - removed) | changed
        mine.time = now
    _store(new, entries)


def _store(obj: dict[str, Any], entries: list[Entry]) -> None:
    kept = [e.render() for e in entries if e.fields]
    if kept:
        obj["metadata"]["managedFields"] = kept
    else:
        obj["metadata"].pop("managedFields", None)


class ApplyConflict(Exception):
    """Fields of the applied configuration owned, with other values, by other managers."""

    def __init__(self, conflicts: list[tuple[str, Path]]):
        super().__init__(conflicts)
        self.conflicts = conflicts


def dotted(path: Path) -> str:
    """A path as kube-apiserver prints it in conflict messages: `.metadata.labels.owner`."""
    parts = []
    for step in path:
        if step.startswith("f:"):
            parts.append("." + step[2:])
        elif step.startswith(("k:", "v:")):
            parts.append(f"[{step[2:]}]")
    return "".join(parts)


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _merge(kind: str, live: Any, applied: Any, spath: tuple[str, ...]) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict):
        result = dict(live)
        for key, value in applied.items():
            result[key] = _merge(kind, live.get(key), value, (*spath, key))
        return result
    spec = list_spec(kind, spath)
    if isinstance(live, list) and isinstance(applied, list) and spec is not None:
        if spec.is_set:
            return list(live) + [v for v in applied if v not in live]
        if spec.keys:
            result = list(live)
            for item in applied:
                key = _item_key(item, spec.keys) if isinstance(item, dict) else None
                index = next((i for i, cur in enumerate(result) if key and _item_matches(cur, key)), None)
                if index is None:
                    result.append(copy.deepcopy(item))
                else:
                    result[index] = _merge(kind, result[index], item, (*spath, "*"))
            return result
    return copy.deepcopy(applied)


def apply(live: dict[str, Any] | None, applied: dict[str, Any], *, kind: str, manager: str,
          force: bool, subresource: str, api_version: str, now: str) -> dict[str, Any]:
    """The object after `manager` applies `applied` to `live` (None when it does not exist).

    Guarantees: fields another manager owns with a different value raise ApplyConflict unless
    `force` (then ownership moves); fields this manager applied before and no longer applies are
    removed unless another manager also owns them; the result's managedFields record the apply.
    """
    applied = _strip_nulls(applied)
    entries = entries_of(live)
    base = copy.deepcopy(live) if live is not None else {}
    new_fields = field_set(applied, kind, subresource)
    conflicts = []
    for entry in entries:
        if entry.manager == manager and entry.operation == "Apply":
            continue
        if entry.subresource != subresource:
            continue
        for path in sorted(entry.fields & new_fields):
            if value_at(base, path) != value_at(applied, path):
                conflicts.append((entry.manager, path))
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    mine = next((e for e in entries if e.manager == manager and e.operation == "Apply"
                 and e.subresource == subresource), None)
    if conflicts:
        taken = {path for _m, path in conflicts}
        for entry in entries:
            if entry is not mine:
                entry.fields -= taken
    if mine is not None:
        others = set().union(*(e.fields for e in entries if e is not mine))
        for path in sorted(mine.fields - new_fields, key=len, reverse=True):
            if path not in others:
                remove_at(base, path)
    else:
        mine = Entry(manager, "Apply", subresource, api_version, now, set())
        entries.append(mine)
    body = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
    if "metadata" in body:
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k not in _SERVER_METADATA}
    merged = _merge(kind, base, body, ())
    merged.setdefault("metadata", {})
    mine.fields = new_fields
    mine.time = now
    mine.api_version = api_version
    for entry in entries:
        if entry is not mine:
            entry.fields = {p for p in entry.fields if value_at(merged, p) is not _MISSING}
    _store(merged, entries)
    return merged
