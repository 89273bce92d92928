"""Forms of the workspace and project network isolation pages.

Each allowlist form turns what the user picked into a NamespaceNetworkPolicy `spec` (the
shape KubeSphere's console writes: one rule, one direction) and reads such a spec back for
editing. Field checks here give the message next to the field; the service validates the
whole entry again against the cluster and its issues are mapped back onto these fields.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

DIRECTIONS = [("egress", _("Egress")), ("ingress", _("Ingress"))]
DIRECTION_HELP = _("Egress: pods of this project may open connections to the peers. Ingress: "
                   "pods of the peers may open connections to this project.")
PROTOCOLS = [("TCP", "TCP"), ("UDP", "UDP"), ("SCTP", "SCTP")]
PEER_KEYS = {"ingress": "from", "egress": "to"}
MAX_PORT_ROWS = 20

# URL segments of the workspace pages, so no workspace may take these names.
RESERVED_WORKSPACE_NAMES = ("new", "assign")

RADIO = forms.RadioSelect(attrs={"class": "form-check-input"})
CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PORT_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$")


class IsolationSwitchForm(forms.Form):
    """The confirm step of a switch: which way it goes."""

    enabled = forms.TypedChoiceField(choices=[("1", _("On")), ("0", _("Off"))], coerce=lambda v: v == "1")


class ServiceIssuesMixin:
    """Lets a form show the issues the service found in the spec it built."""

    def add_service_issues(self, issues: Iterable[Any]) -> None:
        add_issues(self, issues)  # type: ignore[arg-type]

    def has_errors(self) -> bool:
        return bool(self.errors)  # type: ignore[attr-defined]


# -- internal allowlist -------------------------------------------------------------------------

class InternalEntryForm(ServiceIssuesMixin, forms.Form):
    """Projects or Services of the same workspace this project may reach or be reached by."""

    direction = forms.ChoiceField(label=_("Traffic direction"), choices=DIRECTIONS,
                                  widget=RADIO, help_text=DIRECTION_HELP,
                                  error_messages={"required": _("Select a traffic direction.")})
    peer_type = forms.ChoiceField(label=_("Type"), choices=[("project", _("Project")), ("service", _("Service"))],
                                  widget=RADIO, initial="project")
    projects = forms.MultipleChoiceField(label=_("Projects"), required=False, widget=CHECKBOXES)
    service_project = forms.ChoiceField(label=_("Project of the Services"), required=False,
                                        widget=forms.Select(attrs={"class": "form-select"}))
    services = forms.MultipleChoiceField(label=_("Services"), required=False, widget=CHECKBOXES)
    resource_version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, project: str, workspace_projects: list[str],
                 services: Callable[[str], list[tuple[str, bool]]],
                 visible_projects: Iterable[str] | None = None, **kwargs) -> None:
        """`services(project)` lists (Service name, has a pod selector) of a project; it is
        called only for the project whose Services are offered, and only when the user may
        see that project. `visible_projects` are the projects the user may see; a peer outside
        them may still be named (as a project, or as the project of the Services) but its
        Services are never listed. None means only `project` itself (fail closed)."""
        super().__init__(*args, **kwargs)
        self.project = project
        self.visible_projects = (frozenset(visible_projects) if visible_projects is not None
                                 else frozenset({project}))
        others = [p for p in workspace_projects if p != project]
        self.fields["projects"].choices = [(p, p) for p in others]
        self.fields["service_project"].choices = [(p, p) for p in workspace_projects]
        chosen = self._chosen_service_project(workspace_projects)
        self.service_project_value = chosen
        self.services_hidden = chosen not in self.visible_projects
        offered = (services(chosen) if self._wants_services() and not self.services_hidden
                   else [])
        self.fields["services"].choices = [
            (f"{chosen}/{name}", name if selector else f"{name} (no pod selector)")
            for name, selector in offered]
        self.services_without_selector = {f"{chosen}/{name}" for name, selector in offered
                                          if not selector}

    def _wants_services(self) -> bool:
        value = self.data.get("peer_type") if self.is_bound else self.initial.get("peer_type")
        return value == "service"

    @property
    def peer_type_value(self) -> str:
        value = self.data.get("peer_type") if self.is_bound else self.initial.get("peer_type")
        return "service" if value == "service" else "project"

    def _chosen_service_project(self, workspace_projects: list[str]) -> str:
        value = (self.data.get("service_project") if self.is_bound
                 else self.initial.get("service_project"))
        return value if value in workspace_projects else self.project

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("peer_type") or "project"
        if kind == "project" and not data.get("projects"):
            self.add_error("projects", _("Select at least one project."))
        if kind == "service":
            chosen = data.get("services") or []
            if self.services_hidden:
                self.errors.pop("services", None)
                self.add_error("services", f"You cannot see the Services of "
                               f"{self.service_project_value}: choose a project you can see, "
                               "or allow the whole project instead.")
            elif not chosen:
                self.add_error("services", _("Select at least one Service."))
            elif any(s in self.services_without_selector for s in chosen):
                self.add_error("services", _("A Service without a pod selector cannot be "
                               "allowed: its pods are unknown."))
        return data

    def spec(self) -> dict[str, Any]:
        """The NamespaceNetworkPolicy spec of the cleaned form (call after is_valid)."""
        data = self.cleaned_data
        if data.get("peer_type") == "service":
            peers = []
            for ref in data["services"]:
                namespace, name = ref.split("/", 1)
                peers.append({"service": {"name": name, "namespace": namespace}})
        else:
            peers = [{"namespace": {"name": name}} for name in data["projects"]]
        direction = data["direction"]
        return {direction: [{PEER_KEYS[direction]: peers}]}


def internal_initial(spec: dict[str, Any]) -> dict[str, Any] | None:
    """Form values for an entry written as this form writes it, or None when it is shaped
    otherwise (several rules, mixed peers, ports), so the page offers its YAML instead."""
    shape = _single_rule(spec)
    if shape is None:
        return None
    direction, rule = shape
    peers = rule.get(PEER_KEYS[direction]) or []
    if rule.get("ports") or not peers:
        return None
    if all(_only_key(p, "namespace") for p in peers):
        return {"direction": direction, "peer_type": "project",
                "projects": [p["namespace"].get("name") for p in peers]}
    if all(_only_key(p, "service") for p in peers):
        namespaces = {p["service"].get("namespace") for p in peers}
        if len(namespaces) != 1:
            return None
        namespace = namespaces.pop()
        return {"direction": direction, "peer_type": "service", "service_project": namespace,
                "services": [f"{namespace}/{p['service'].get('name')}" for p in peers]}
    return None


# -- external allowlist -------------------------------------------------------------------------

class PortRowForm(forms.Form):
    """One protocol + port (or range) row of an external entry; an empty port drops the row."""

    protocol = forms.ChoiceField(label=_("Protocol"), choices=PROTOCOLS, initial="TCP",
                                 widget=forms.Select(attrs={"class": "form-select"}))
    port = forms.CharField(label=_("Port or range"), required=False, max_length=11,
                           widget=forms.TextInput(attrs={"placeholder": "443 or 8000-8080",
                                                         "class": "form-control",
                                                         "inputmode": "numeric"}))

    def clean_port(self) -> tuple[int, int | None] | None:
        value = (self.cleaned_data.get("port") or "").strip()
        if not value:
            return None
        match = _PORT_RANGE.match(value)
        if not match:
            raise forms.ValidationError(_("Enter a port number from 1 to 65535, or a range such "
                                        "as 8000-8080."))
        start, end = int(match.group(1)), match.group(2)
        end_number = int(end) if end is not None else None
        for number in (start, end_number):
            if number is not None and not 1 <= number <= 65535:
                raise forms.ValidationError(_("%(number)s is not a port: use 1 to 65535.")
                                            % {"number": number})
        if end_number is not None and end_number < start:
            raise forms.ValidationError(_("The range ends (%(end)s) before it starts "
                                          "(%(start)s).") % {"end": end_number, "start": start})
        return start, (end_number if end_number != start else None)

    def port_spec(self) -> dict[str, Any] | None:
        value = self.cleaned_data.get("port")
        if value is None:
            return None
        start, end = value
        result: dict[str, Any] = {"protocol": self.cleaned_data.get("protocol") or "TCP",
                                  "port": start}
        if end is not None:
            result["endPort"] = end
        return result


PortRowFormSet = forms.formset_factory(PortRowForm, extra=0, max_num=MAX_PORT_ROWS,
                                       validate_max=True)


class ExternalEntryForm(ServiceIssuesMixin, forms.Form):
    """A network segment (IPv4 or IPv6, with exceptions) and the ports allowed with it."""

    direction = forms.ChoiceField(label=_("Traffic direction"), choices=DIRECTIONS,
                                  widget=RADIO, help_text=DIRECTION_HELP,
                                  error_messages={"required": _("Select a traffic direction.")})
    cidr = forms.CharField(label=_("Network segment (CIDR)"), max_length=64,
                           widget=forms.TextInput(attrs={"placeholder": "10.1.0.0/16 or 2001:db8::/64",
                                                         "class": "form-control",
                                                         "autocomplete": "off"}),
                           help_text=_("IPv4 or IPv6. A single address is taken as /32 or /128."),
                           error_messages={"required": _("Enter a network segment such as "
                                                       "10.1.0.0/16.")})
    except_cidrs = forms.CharField(label=_("Except (optional)"), required=False, max_length=1000,
                                   widget=forms.TextInput(attrs={"placeholder": "10.1.5.0/24, 10.1.6.0/24",
                                                                 "class": "form-control",
                                                                 "autocomplete": "off"}),
                                   help_text=_("Segments inside it that stay blocked, separated "
                                             "by commas."))
    resource_version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, ports_data: QueryDict | dict | None = None,
                 ports_initial: list[dict[str, Any]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ports = PortRowFormSet(ports_data, prefix="ports",
                                    initial=ports_initial if ports_data is None else None)

    def clean_cidr(self) -> str:
        value = self.cleaned_data["cidr"].strip()
        network = _network(value)
        if network is None:
            raise forms.ValidationError(f"{value} is not a network segment: write an address "
                                        "and a prefix length, such as 10.1.0.0/16 or "
                                        "2001:db8::/64.")
        if "/" in value and ipaddress.ip_interface(value).ip != network.network_address:
            # Kubernetes would silently mask them; the user may have meant another prefix.
            raise forms.ValidationError(f"{value} has host bits set; the segment is "
                                        f"{network}. Use that, or a longer prefix.")
        return str(network)

    def clean_except_cidrs(self) -> list[str]:
        raw = self.cleaned_data.get("except_cidrs") or ""
        values = [v for v in re.split(r"[\s,]+", raw) if v]
        result = []
        for value in values:
            network = _network(value)
            if network is None:
                raise forms.ValidationError(f"{value} is not a network segment.")
            result.append(str(network))
        return result

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        outer = _network(data.get("cidr") or "")
        for value in data.get("except_cidrs") or []:
            inner = _network(value)
            if outer is not None and inner is not None and not (
                    inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]
                    and inner.prefixlen > outer.prefixlen):
                self.add_error("except_cidrs", f"{value} must lie strictly inside {outer}.")
        return data

    def is_valid(self) -> bool:
        ports_valid = self.ports.is_valid()
        return super().is_valid() and ports_valid

    def has_errors(self) -> bool:
        return bool(self.errors) or not self.ports.is_valid()

    def spec(self) -> dict[str, Any]:
        """The NamespaceNetworkPolicy spec of the cleaned form (call after is_valid)."""
        data = self.cleaned_data
        block: dict[str, Any] = {"cidr": data["cidr"]}
        if data.get("except_cidrs"):
            block["except"] = data["except_cidrs"]
        rule: dict[str, Any] = {PEER_KEYS[data["direction"]]: [{"ipBlock": block}]}
        ports = [p for p in (row.port_spec() for row in self.ports.forms) if p is not None]
        if ports:
            rule["ports"] = ports
        return {data["direction"]: [rule]}


def external_initial(spec: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Form values and port rows for an entry with one rule naming one ipBlock, else None."""
    shape = _single_rule(spec)
    if shape is None:
        return None
    direction, rule = shape
    peers = rule.get(PEER_KEYS[direction]) or []
    if len(peers) != 1 or not _only_key(peers[0], "ipBlock"):
        return None
    block = peers[0]["ipBlock"]
    rows = []
    for port in rule.get("ports") or []:
        if not isinstance(port, dict) or not isinstance(port.get("port"), int):
            return None
        text = str(port["port"])
        if isinstance(port.get("endPort"), int) and port["endPort"] != port["port"]:
            text += f"-{port['endPort']}"
        rows.append({"protocol": port.get("protocol", "TCP"), "port": text})
    values = {"direction": direction, "cidr": block.get("cidr", ""),
              "except_cidrs": ", ".join(block.get("except") or [])}
    return values, rows


def port_rows_data(data: QueryDict, action: str) -> QueryDict:
    """The posted port rows after an "add-port" or "remove-port-<n>" button, renumbered."""
    rows = _posted_rows(data)
    if action == "add-port" and len(rows) < MAX_PORT_ROWS:
        rows.append({"protocol": "TCP", "port": ""})
    elif action.startswith("remove-port-") and action[12:].isdigit():
        index = int(action[12:])
        rows = [row for i, row in enumerate(rows) if i != index]
    result = data.copy()
    for key in [k for k in result if k.startswith("ports-")]:
        del result[key]
    result["ports-TOTAL_FORMS"] = str(len(rows))
    result["ports-INITIAL_FORMS"] = "0"
    for i, row in enumerate(rows):
        result[f"ports-{i}-protocol"] = row["protocol"]
        result[f"ports-{i}-port"] = row["port"]
    return result


def _posted_rows(data: QueryDict) -> list[dict[str, str]]:
    try:
        total = min(int(data.get("ports-TOTAL_FORMS", "0")), MAX_PORT_ROWS)
    except ValueError:
        total = 0
    return [{"protocol": data.get(f"ports-{i}-protocol", "TCP"),
             "port": data.get(f"ports-{i}-port", "")} for i in range(max(total, 0))]


# -- workspaces and projects --------------------------------------------------------------------

class WorkspaceCreateForm(forms.Form):
    name = forms.CharField(label=_("Workspace name"), max_length=63,
                           widget=forms.TextInput(attrs={"class": "form-control",
                                                         "autocomplete": "off"}),
                           help_text=_("Lower-case letters, digits and '-', starting and ending "
                                     "with a letter or digit."))

    def __init__(self, *args, existing: Iterable[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.existing = set(existing)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not _DNS_LABEL.match(name):
            raise forms.ValidationError(_("Use lower-case letters, digits and '-', starting and "
                                        "ending with a letter or digit."))
        if name in self.existing:
            raise forms.ValidationError(_("There is already a workspace named %(name)s.")
                                        % {"name": name})
        if name in RESERVED_WORKSPACE_NAMES:
            raise forms.ValidationError(_("%(name)s is reserved by the console; choose another "
                                          "name.") % {"name": repr(name)})
        return name


class AssignProjectForm(forms.Form):
    """Put a namespace into a workspace (or move it from another one)."""

    project = forms.ChoiceField(label=_("Project (namespace)"),
                                widget=forms.Select(attrs={"class": "form-select"}))
    workspace = forms.ChoiceField(label=_("Workspace"),
                                  widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, projects: list[tuple[str, str]], workspaces: list[str],
                 **kwargs) -> None:
        """`projects`: (namespace, its current workspace or "") pairs that may be assigned."""
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [
            (name, f"{name} (in {ws})" if ws else f"{name} (no workspace)")
            for name, ws in projects]
        self.fields["workspace"].choices = [(w, w) for w in workspaces]
        self.current = dict(projects)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        project, workspace = data.get("project"), data.get("workspace")
        if project and workspace and self.current.get(project) == workspace:
            self.add_error("workspace", f"{project} is already in {workspace}.")
        return data


# -- mapping the service's issues onto fields ---------------------------------------------------

def add_issues(form: forms.Form, issues: Iterable[Any]) -> None:
    """Show the service's (field path, message) issues next to the field they concern."""
    for issue in issues:
        path, message = _issue_parts(issue)
        target, row = _field_for(form, path)
        if row is not None and isinstance(form, ExternalEntryForm) \
                and row < len(form.ports.forms):
            form.ports.forms[row].add_error("port", message)
        elif target and target in form.fields:
            form.add_error(target, message)
        else:
            form.add_error(None, f"{path}: {message}" if path else message)


def _issue_parts(issue: Any) -> tuple[str, str]:
    if isinstance(issue, tuple | list) and len(issue) == 2:
        return str(issue[0]), str(issue[1])
    return str(getattr(issue, "field", "")), str(getattr(issue, "message", issue))


def _field_for(form: forms.Form, path: str) -> tuple[str | None, int | None]:
    ports = re.search(r"\.ports\[(\d+)\]", path)
    if ports:
        return None, int(ports.group(1))
    if ".except" in path:
        return "except_cidrs", None
    if "ipBlock" in path:
        return "cidr", None
    if ".service" in path:
        return "services", None
    if ".namespace" in path or re.search(r"\.(to|from)", path):
        return ("services" if form.data.get("peer_type") == "service" else "projects"), None
    return None, None


def _single_rule(spec: Any) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(spec, dict):
        return None
    present = [d for d in ("ingress", "egress") if spec.get(d)]
    if len(present) != 1:
        return None
    rules = spec[present[0]]
    if not isinstance(rules, list) or len(rules) != 1 or not isinstance(rules[0], dict):
        return None
    return present[0], rules[0]


def _only_key(peer: Any, key: str) -> bool:
    return isinstance(peer, dict) and isinstance(peer.get(key), dict) and len(peer) == 1


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR or a bare address (as /32 or /128); None when it is neither."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None
