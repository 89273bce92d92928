"""Forms of the Network Policies pages: list filters, the YAML draft, template choice, delete."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from console.policies.draft import normalise
from console.policies.kinds import KINDS
from console.policies.services import SORTS, ListQuery
from console.policies.text import TEMPLATES
from isolation.yamlio import YamlInputError, decode_text

SORT_CHOICES = [(s, s) for s in SORTS] + [(f"-{s}", f"-{s}") for s in SORTS]
REVIEW, APPLY, MERGE = "review", "apply", "merge"


class PolicyFilterForm(forms.Form):
    """The list's query string; a bad value falls back to its default instead of failing."""

    workspace = forms.CharField(required=False, max_length=253)
    project = forms.CharField(required=False, max_length=253)
    q = forms.CharField(required=False, max_length=253, label=gettext_lazy("Search by name"))
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
    kind = forms.ChoiceField(required=False, choices=[("", "")] + [
        (k.slug, k.slug) for k in KINDS.values()])

    def query(self) -> ListQuery:
        data = self.cleaned_data if self.is_valid() else {
            name: self.cleaned_data.get(name) for name in self.fields
            if name not in self.errors}
        return ListQuery(workspace=data.get("workspace") or "", project=data.get("project") or "",
                         q=(data.get("q") or "").strip(), sort=data.get("sort") or "project",
                         page=data.get("page") or 1, kind=data.get("kind") or "")


class TemplateForm(forms.Form):
    """Which template the create page starts from, for which project."""

    template = forms.ChoiceField(required=False, choices=[("", gettext_lazy("Blank policy"))] + [
        (t.key, t.label) for t in TEMPLATES.values()])
    project = forms.CharField(required=False, max_length=253)


class PolicyDraftForm(forms.Form):
    """The editor's content (or an uploaded file), and what to do with it."""

    yaml = forms.CharField(required=False, strip=False, widget=forms.Textarea, label=gettext_lazy("Policy YAML"))
    upload = forms.FileField(required=False, label=gettext_lazy("Or load a YAML file"))
    base_version = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    reviewed = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # The signed object the edit started from (console.policies.conflict.sign_base).
    base = forms.CharField(required=False, widget=forms.HiddenInput,
                           max_length=2 * settings.MAX_YAML_BYTES)
    live_version = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    action = forms.ChoiceField(required=False, choices=[(REVIEW, REVIEW), (APPLY, APPLY),
                                                        (MERGE, MERGE)])

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return None
        limit = settings.MAX_YAML_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                gettext("The file is %(size)s bytes; a policy file may be at most %(limit)s "
                        "bytes.") % {"size": f"{upload.size:,}", "limit": f"{limit:,}"})
        try:
            return decode_text(upload.read(limit + 1))
        except YamlInputError as exc:
            raise forms.ValidationError(f"{upload.name}: {exc}") from None

    def clean(self):
        data = super().clean()
        text = data.get("upload") if data.get("upload") is not None else data.get("yaml") or ""
        text = normalise(text)
        limit = settings.MAX_YAML_BYTES
        size = len(text.encode("utf-8"))
        if "upload" not in self.errors and size > limit:
            self.add_error("yaml", gettext("The YAML is %(size)s bytes; a policy may be at "
                                           "most %(limit)s bytes.") % {
                "size": f"{size:,}", "limit": f"{limit:,}"})
        data["text"] = text
        if data.get("upload") is not None:
            data["action"] = REVIEW  # a loaded file is reviewed before it can be applied
        data["action"] = data.get("action") or REVIEW
        return data


class DeleteForm(forms.Form):
    resource_version = forms.CharField(max_length=64, widget=forms.HiddenInput)
