"""The platform settings form: what the isolation engine and the traffic paths assume."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from console.core.models import PlatformSettings
from isolation.compiler.generate import IsolationSettings

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _lines(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[\s,]+", text or "") if item.strip()]


class PlatformSettingsForm(forms.ModelForm):
    always_allowed_namespaces = forms.CharField(
        label=_("Always allowed namespaces"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Namespaces every isolated project admits ingress from, one per line "
                  "(e.g. kubesphere-monitoring-system for Prometheus scrapes)."))
    snat_cidrs = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Node SNAT and tunnel addresses"),
        help_text=_("CIDRs admitted into every isolated project (the node and tunnel addresses "
                  "external traffic is masqueraded to), one per line."))

    class Meta:
        model = PlatformSettings
        fields = ["always_allowed_namespaces", "detect_ingress_namespaces", "snat_cidrs",
                  "cni_mode", "engine_mode"]
        labels = {"detect_ingress_namespaces": _("Also allow the namespaces running the ingress "
                                                 "controller"),
                  "cni_mode": _("CNI encapsulation"), "engine_mode": _("Who generates the policies")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["always_allowed_namespaces"] = "\n".join(self.instance.always_allowed_namespaces)
            self.initial["snat_cidrs"] = "\n".join(self.instance.snat_cidrs)

    def clean_always_allowed_namespaces(self) -> list[str]:
        names = _lines(self.cleaned_data["always_allowed_namespaces"])
        bad = [n for n in names if not DNS_LABEL.match(n)]
        if bad:
            raise forms.ValidationError(_("Not a namespace name: %(names)s (lowercase letters, "
                                          "digits and '-', at most 63 characters).")
                                        % {"names": ", ".join(bad)})
        return sorted(set(names))

    def clean_snat_cidrs(self) -> list[str]:
        cidrs = _lines(self.cleaned_data["snat_cidrs"])
        for cidr in cidrs:
            try:
                IsolationSettings(snat_cidrs=(cidr,))
            except ValueError as exc:
                raise forms.ValidationError(f"{cidr}: {exc}") from None
        return cidrs

    def isolation_settings(self) -> IsolationSettings:
        """The compiler settings this (valid) form describes."""
        data = self.cleaned_data
        return IsolationSettings(always_allowed_namespaces=tuple(data["always_allowed_namespaces"]),
                                 detect_ingress_namespaces=data["detect_ingress_namespaces"],
                                 snat_cidrs=tuple(data["snat_cidrs"]),
                                 engine_mode=data["engine_mode"])
