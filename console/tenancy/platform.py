"""Changing the platform settings: preview what they do to reachability, save, reconcile."""

from __future__ import annotations

import yaml

from console.core import cluster
from console.core.models import Change, Job
from console.guardrails.services import GuardrailCheck, check_change
from console.tenancy import services
from console.tenancy.platform_forms import PlatformSettingsForm
from isolation.compiler.tenancy import NodeAddress, node_address_candidates
from isolation.review.impact import Impact, impact_of, with_generated_policies
from isolation.text import gettext as _

FIELDS = ("always_allowed_namespaces", "detect_ingress_namespaces", "snat_cidrs", "cni_mode",
          "engine_mode")


def preview(form: PlatformSettingsForm) -> Impact:
    """The reachability change the new settings cause once the engine has applied them."""
    before, after = _sides(form)
    return impact_of(before, after)


def guardrails(form: PlatformSettingsForm, user) -> GuardrailCheck:
    """The connectivity expectations the new settings would newly break."""
    before, after = _sides(form)
    return check_change(user, before, after, key="platform-settings")


def _sides(form: PlatformSettingsForm):
    snapshot = cluster.snapshot()
    before = with_generated_policies(snapshot, services.isolation_settings())[0]
    after = with_generated_policies(snapshot, form.isolation_settings())[0]
    return before, after


def node_addresses() -> list[NodeAddress]:
    """The node and tunnel addresses read from the Nodes, offered for the SNAT field."""
    return node_address_candidates(cluster.snapshot())


def save(form: PlatformSettingsForm, user) -> Job:
    """Store the settings, record the change (its summary a sentence said in each reader's
    language), and reconcile the cluster to them."""
    before = _as_dict(form.instance.__class__.load())
    settings = form.save()
    Change.objects.create(kind="platform-settings", target="platform", author=user,
                          summary=_("Changed the platform settings."),
                          before_yaml=yaml.safe_dump(before, sort_keys=False),
                          after_yaml=yaml.safe_dump(_as_dict(settings), sort_keys=False))
    return services.start_reconcile(user)


def _as_dict(settings) -> dict:
    return {name: getattr(settings, name) for name in FIELDS}
