"""Forms of the Traffic Paths pages: the client and project filter, and the explainer's case."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from console.traffic.services import Client, parse_client
from isolation.paths.trace import CNI_MODES, DEFAULT_CLIENT_IP

CLIENT_HELP = _("The external client's address, or a CIDR of clients (each stretch of it that "
                "policies treat alike is checked).")


class ClientField(forms.CharField):
    """An IP address or CIDR; empty means the documentation address 203.0.113.9."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Client IP or CIDR"))
        kwargs.setdefault("help_text", CLIENT_HELP)
        super().__init__(required=False, max_length=64, widget=forms.TextInput(attrs={
            "placeholder": DEFAULT_CLIENT_IP, "autocomplete": "off", "spellcheck": "false"}),
            **kwargs)

    def clean(self, value) -> Client:  # type: ignore[override]
        try:
            return parse_client(super().clean(value))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class ClientForm(forms.Form):
    """The client a detail page traces for."""

    client = ClientField()

    def client_or_default(self) -> Client:
        """The chosen client when valid, else the default (the error is shown by the form)."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["client"]
        return parse_client("")


class TrafficFilterForm(ClientForm):
    """The list's filters: the client, and one project or all."""

    project = forms.ChoiceField(label=_("Project"), required=False)

    def __init__(self, *args, projects: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", _("All projects"))] + [(p, p) for p in projects]


YES_NO = [("yes", "Yes: the pod runs on the node the traffic enters"),
          ("no", "No: the pod runs on another node")]


class ExplainForm(forms.Form):
    """One case of the decision table: exposure × policy × CNI × pod placement."""

    exposure = forms.ChoiceField(label=_("Exposed by"), initial="NodePort", choices=[
        ("NodePort", "NodePort"), ("LoadBalancer", _("LoadBalancer (OpenELB)")),
        ("Ingress", "Ingress")], widget=forms.RadioSelect)
    ingress_via = forms.ChoiceField(
        label=_("Ingress controller Service"), initial="NodePort", required=False,
        choices=[("NodePort", "NodePort"), ("LoadBalancer", "LoadBalancer")],
        help_text=_("Only for an Ingress: how clients reach the ingress controller."))
    traffic_policy = forms.ChoiceField(label=_("externalTrafficPolicy"), initial="Cluster",
                                       choices=[("Cluster", "Cluster"), ("Local", "Local")],
                                       widget=forms.RadioSelect)
    cni = forms.ChoiceField(label=_("CNI mode (Calico)"), initial="ipip",
                            choices=[(m, {"routed": "Routed (BGP, no tunnel)", "ipip": "IPIP",
                                          "vxlan": "VXLAN"}[m]) for m in CNI_MODES],
                            widget=forms.RadioSelect)
    pod_on_entry_node = forms.ChoiceField(
        label=_("Pod on the entry node?"), initial="no", choices=YES_NO, widget=forms.RadioSelect,
        help_text=_("For an Ingress: the ingress controller pod; the backend pod runs elsewhere."))

    @classmethod
    def from_query(cls, data) -> ExplainForm:
        """Bound to the query, with the initial value for every field the query leaves out."""
        values = {name: field.initial for name, field in cls.base_fields.items()}
        values.update({k: v for k, v in data.items() if k in values and v})
        return cls(values)

    def case(self) -> dict[str, object]:
        """Keyword arguments of `explain_case` (call after is_valid)."""
        data = self.cleaned_data
        return {"exposure_kind": data["exposure"], "traffic_policy": data["traffic_policy"],
                "cni": data["cni"], "pod_on_entry_node": data["pod_on_entry_node"] == "yes",
                "ingress_via": data["ingress_via"] or "NodePort"}
