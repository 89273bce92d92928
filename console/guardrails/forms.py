"""The expectation editor's form (YAML, checked field by field) and the override form."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.utils.translation import gettext_lazy as _

from console.core.access import Access
from console.guardrails import services
from isolation import fielderrors as fe
from isolation.guardrails.model import (
    API_VERSION,
    CLUSTER_KIND,
    NAMESPACED_KIND,
    validate_expectation,
)
from isolation.yamlio import YamlInputError, load_documents

MAX_BYTES = 64 * 1024


def template_document(namespace: str | None) -> str:
    """A starting point for a new expectation: namespaced in `namespace`, else cluster-scoped."""
    if namespace:
        doc: dict[str, Any] = {
            "apiVersion": API_VERSION, "kind": NAMESPACED_KIND,
            "metadata": {"name": "", "namespace": namespace},
            "spec": {"description": "", "from": {"namespace": namespace},
                     "to": {"namespace": "", "podSelector": {"matchLabels": {"app": ""}}},
                     "ports": [{"port": 443, "protocol": "TCP"}], "expect": "Allowed"}}
    else:
        doc = {"apiVersion": API_VERSION, "kind": CLUSTER_KIND, "metadata": {"name": ""},
               "spec": {"description": "", "from": {"namespaceSelector": {}, "podSelector": {}},
                        "to": {"cidr": "169.254.169.254/32"},
                        "ports": [{"port": 80, "protocol": "TCP"}], "expect": "Denied"}}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


class ExpectationForm(forms.Form):
    """One expectation as YAML. Valid means: one document, a valid expectation (each problem
    named by its field path), one the user may write, and, when editing, the same object."""

    document = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
                               label=_("Expectation (YAML)"), max_length=MAX_BYTES)
    resource_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, access: Access, workspace_of: dict[str, str],
                 original: tuple[str, str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        self.workspace_of = workspace_of
        self.original = original     # (kind, namespace, name) when editing
        self.issues: list[tuple[str, str]] = []

    def clean_document(self) -> dict[str, Any]:
        text = self.cleaned_data["document"]
        try:
            documents = load_documents(text, max_bytes=MAX_BYTES)
        except YamlInputError as exc:
            raise forms.ValidationError(_("The YAML cannot be read: %(error)s")
                                        % {"error": exc}) from exc
        if len(documents) != 1:
            raise forms.ValidationError(_("Give exactly one expectation document."))
        obj = documents[0].data
        issues = validate_expectation(obj)
        if isinstance(obj, dict) and obj.get("kind") == NAMESPACED_KIND \
                and isinstance(obj.get("metadata"), dict) and not obj["metadata"].get("namespace"):
            issues.append(fe.required("metadata.namespace", "the project it belongs to"))
        if issues:
            self.issues = [(i.field, i.message) for i in issues]
            raise forms.ValidationError([f"{i.field}: {i.message}" if i.field else i.message
                                         for i in issues])
        meta = obj["metadata"]
        kind, namespace, name = obj["kind"], meta.get("namespace") or "", meta["name"]
        if self.original is not None and (kind, namespace, name) != self.original:
            raise forms.ValidationError(_("kind, metadata.name and metadata.namespace cannot "
                                        "change: create a new expectation instead."))
        if not services.editable(kind, namespace, self.access, self.workspace_of):
            if kind == CLUSTER_KIND:
                raise forms.ValidationError(_("kind: only platform admins manage "
                                            "ClusterConnectivityExpectations."))
            raise forms.ValidationError(f"metadata.namespace: you cannot manage expectations "
                                        f"of {namespace!r}; use a project you administer.")
        obj.pop("status", None)
        return obj


class OverrideForm(forms.Form):
    """The override of a change that breaks a platform guardrail: a reason, platform admins
    only. Bind it to the POST with the change's GuardrailCheck and the user:

        form = OverrideForm(request.POST, check=check, user=request.user)
        if form.is_valid():          # always valid when the change needs no override
            reason = form.cleaned_data["override_reason"]   # "" when none was needed
    """

    override_reason = forms.CharField(
        label=_("Reason for the override"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the History with the change."))

    def __init__(self, *args, check: services.GuardrailCheck, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.check = check
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            data["override_reason"] = services.require_override(
                self.user, self.check, data.get("override_reason") or "")
        except services.GuardrailBlocked as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data
