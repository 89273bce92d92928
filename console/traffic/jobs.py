"""Job handlers for the traffic area (registered with console.core.jobs.handler)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_noop

from cluster.errors import ClusterError
from console.core import jobs
from console.traffic import services
from isolation.paths.trace import PathInputError
from isolation.text import gettext as _
from isolation.text import ngettext


@jobs.handler(services.RENDER_JOB)
def render_diagram(ctx: jobs.JobContext) -> dict[str, Any]:
    """Trace one exposure on the cluster as it is now, draw it and cache the drawing.

    Idempotent: the drawing is keyed by the digest of its inputs, so running twice stores the
    same bytes under the same key. When the cluster changed since the page asked, the drawing
    is stored under the new digest and the result says so.
    """
    params = ctx.params
    ref = services.Ref(params["kind"], params["namespace"], params["name"])
    ctx.progress(10, gettext_noop("Reading the cluster"))
    context = services.load_context()
    ctx.progress(50, _("Tracing and drawing {ref}", ref=ref.key))
    try:
        with translation.override(params.get("language") or "en"):
            digest, svg = services.draw(context, ref, params["client_ip"])
    except PathInputError as exc:
        # The reason may be a sentence itself: kept as one.
        raise ClusterError(_("{ref} cannot be traced: {error}", ref=ref.key,
                             error=exc.args[0] if exc.args else exc)) from exc
    changed = digest != params.get("digest")
    size = len(svg) // 1024 or 1
    message = (_("Drew {size} KiB for {ref}: the cluster changed since the page was opened, "
                 "reload it", size=size, ref=ref.key) if changed
               else _("Drew {size} KiB for {ref}", size=size, ref=ref.key))
    return {"message": message, "digest": digest, "changed": changed}


@jobs.handler(services.LIST_JOB)
def trace_exposures(ctx: jobs.JobContext) -> dict[str, Any]:
    """Trace every exposure on the cluster as it is now for one client and cache the rows.

    Idempotent: the rows are keyed by the digest of what they depend on. When the cluster
    changed since the page asked, the rows are stored under the new key (and as the latest),
    and the result says so.
    """
    params = ctx.params
    client = services.parse_client(params["client"])
    ctx.progress(10, gettext_noop("Reading the cluster"))
    live = services.cluster.snapshot()
    settings = services.iso.isolation_settings()
    cni = services.PlatformSettings.load().cni_mode or None
    key = services.list_key(live, settings, cni, client)
    context = services.context_from(live, settings, cni)
    ctx.progress(30, gettext_noop("Tracing every exposure"))
    listing = services.compute_list(context, client, key)
    changed = key != params.get("key")
    count = len(listing.rows)
    message = (ngettext("Traced {count} exposure: the cluster changed since the page was opened",
                        "Traced {count} exposures: the cluster changed since the page was opened",
                        count, count=count) if changed
               else ngettext("Traced {count} exposure", "Traced {count} exposures", count,
                             count=count))
    return {"message": message, "key": key, "changed": changed}
