"""What of the cluster's reachability one user may see, and how the rest is hidden.

Decision (documented for every reachability and history page): a user who is not a global
viewer sees pods, Services and policies only in the projects their role bindings reach.
Pods of other projects never appear by name: in matrices they are aggregated into one
"other projects" row (status only, no counts and no drill-down, so neither their names nor
their number leak); in impact lists and explanations a connection end outside the scope is
written as "a pod in another project" (a change's totals, and its counts per project pair
with "other projects", are still shown: they name nothing); as a check's source they may be named only as an IP
address outside the pod network (a pod's own address is refused). Namespaces outside every
workspace (kube-system and the like) count as outside the scope for everyone but platform
admins and global viewers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from console.core.access import Access
from isolation import text as sentences

# The words that stand for what is hidden are sentences (`isolation.text`): equal to their
# English, so they compare, sort and serialise as before, and said in the reader's language
# wherever they are shown.
OTHER = "other"
OTHER_LABEL = sentences.gettext("Other projects")
HIDDEN_POD = sentences.gettext("a pod in another project")
HIDDEN_NAMESPACE = sentences.gettext("other projects")
HIDDEN_PROJECT = sentences.gettext("another project")
OUTSIDE = sentences.gettext("(outside the cluster)")

# ASCII word characters: a name stays recognised beside the words of any language.
_REF = re.compile(r"(?<![\w.-])([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)/([A-Za-z0-9][-A-Za-z0-9._]*)",
                  re.ASCII)


@dataclass(frozen=True)
class Scope:
    """The namespaces one user may see, with the directory needed to name workspaces."""

    everything: bool
    visible: frozenset[str]
    known: frozenset[str]
    workspace_of: Mapping[str, str]
    workspaces: tuple[str, ...] = ()

    @classmethod
    def of(cls, access: Access, namespaces: Iterable[str], workspace_of: Mapping[str, str],
           workspaces: Iterable[str] = ()) -> Scope:
        """The scope of `access` over the cluster's `namespaces`."""
        names = sorted(set(namespaces))
        if access.view_all:
            visible = frozenset(names)
        else:
            visible = frozenset(access.visible_projects(names, workspace_of))
        shown = access.visible_workspaces(sorted(set(workspaces)), workspace_of)
        return cls(access.view_all, visible, frozenset(names), dict(workspace_of), tuple(shown))

    def sees(self, namespace: str | None) -> bool:
        """Whether pods and policies of `namespace` may be shown by name."""
        if not namespace:
            return False
        return self.everything or namespace in self.visible

    def sees_ref(self, ref: str) -> bool:
        """Whether a connection end ("namespace/pod" or an IP address) may be shown."""
        if "/" not in ref:
            return True
        return self.sees(ref.split("/", 1)[0])

    def show_ref(self, ref: str) -> str:
        return ref if self.sees_ref(ref) else HIDDEN_POD

    def show_namespace(self, namespace: str) -> str:
        if namespace == OUTSIDE:
            return OUTSIDE
        return namespace if self.sees(namespace) else HIDDEN_NAMESPACE

    def redact(self, text: str) -> str:
        """`text` with every "namespace/name" of a namespace outside the scope replaced by "a
        pod in another project" in the language `text` is shown in (a domain sentence stays
        one: see `isolation.text.transform`)."""
        if self.everything:
            return text
        return transformed(text, self._redacted)

    def _redacted(self, text: str) -> str:
        hidden = gettext(HIDDEN_POD)

        def replace(match: re.Match[str]) -> str:
            namespace = match.group(1)
            if namespace in self.known and not self.sees(namespace):
                return hidden
            return match.group(0)

        return _REF.sub(replace, text)

    def key(self) -> str:
        """A stable string naming this scope, for cache keys and job reuse."""
        if self.everything:
            return "*"
        return ",".join(sorted(self.visible))


def scoped_delta(delta: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """A reachability delta (Impact.to_dict() shape) as `scope` may see it.

    Connections with both ends outside the scope are dropped and counted in `hidden`; an end
    outside it is renamed, and connections that become alike are listed once with a `count`;
    project pairs outside it merge into "other projects"; warnings are redacted. The totals `allowed`/`blocked` stay those of the whole change (they reveal
    no names), so the user knows more happened than they are shown.
    """
    result: dict[str, Any] = {"allowed": int(delta.get("allowed") or 0),
                              "blocked": int(delta.get("blocked") or 0), "hidden": 0}
    for name in ("newly_allowed", "newly_blocked"):
        shown: dict[tuple, dict[str, Any]] = {}
        for connection in delta.get(name) or []:
            src, dst = str(connection.get("from", "")), str(connection.get("to", ""))
            if not scope.sees_ref(src) and not scope.sees_ref(dst):
                result["hidden"] += 1
                continue
            entry = {**connection, "from": scope.show_ref(src), "to": scope.show_ref(dst),
                     "outside": "/" not in src}
            key = (entry["from"], entry["to"], entry.get("port"), entry.get("protocol"))
            if key in shown:
                shown[key]["count"] += 1
            else:
                shown[key] = {**entry, "count": 1}
        result[name] = list(shown.values())
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for pair in delta.get("pairs") or []:
        src = scope.show_namespace(str(pair.get("from", "")))
        dst = scope.show_namespace(str(pair.get("to", "")))
        if src == HIDDEN_NAMESPACE and dst == HIDDEN_NAMESPACE:
            continue
        merged = pairs.setdefault((src, dst), {"from": src, "to": dst, "allowed": 0,
                                               "blocked": 0})
        merged["allowed"] += int(pair.get("allowed") or 0)
        merged["blocked"] += int(pair.get("blocked") or 0)
    result["pairs"] = sorted(pairs.values(),
                             key=lambda p: (-(p["allowed"] + p["blocked"]), p["from"], p["to"]))
    result["warnings"] = [scope.redact(_warning(w)) for w in delta.get("warnings") or []]
    return result


def _warning(kept: Any) -> str:
    """A delta's warning: a sentence (a `Text`, or kept by `isolation.text.dump` in a history
    entry) to be said in the reader's language, or text as it was recorded."""
    sentence = sentences.load(kept)
    return sentence if isinstance(sentence, str) else str(sentence)


def redact_names(text: str, scope: Scope) -> str:
    """`text` with "namespace/pod" outside `scope` replaced (Scope.redact), and the bare name
    of every workspace project outside `scope` written as "another project".

    Namespaces outside every workspace (kube-system, the ingress controller's) stay named when
    bare: they belong to no tenant, and a fix (allow DNS, allow the ingress controller) must
    name them; their pods are still unnamed.
    """
    if scope.everything:
        return text
    hidden = sorted((ns for ns in scope.workspace_of if not scope.sees(ns)), key=len,
                    reverse=True)
    if not hidden:
        return scope.redact(text)
    names = "|".join(re.escape(ns) for ns in hidden)
    end = r"(?![\w/-]|\.\w)"  # a whole name: not a longer name, a pod, or a domain

    def redacted(text: str) -> str:
        project = gettext(HIDDEN_PROJECT).replace("\\", "\\\\")
        text = scope._redacted(text)
        text = re.sub(rf"\b(?:project|namespace) (?:{names}){end}", project, text,
                      flags=re.ASCII)
        return re.sub(rf"(?<![\w./=:-])(?:{names}){end}", project, text, flags=re.ASCII)

    return transformed(text, redacted)


def transformed(value: str, function: Callable[[str], str]) -> str:
    """`function(value)`; a domain sentence stays one (`isolation.text.transform`), its English
    value made with the English words of `function` (which says its own words with Django's
    `gettext`) whatever the active language."""
    if isinstance(value, sentences.Text):
        with translation.override(None):
            return sentences.transform(value, function)
    return function(value)
