"""Traffic paths of the live cluster: what the Traffic Paths pages show, and the diagram cache.

Verdicts use the isolation policies the cluster holds. For a namespace whose generated
policies are not in the cluster yet (the engine has not reconciled it), the policies the
engine will generate from the current intent stand in, so a page is right either way and says
which namespaces that concerns.

Traces and drawings are cached under `trace_digest` of the inputs (which includes the client
address and the CNI override): any change of the Service, its pods, the nodes or the project's
policies gives a new key, so nothing is ever invalidated by hand. Drawings are made by the
"render-diagram" job (console/traffic/jobs.py); traces are cheap and made where needed.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from console.core import cluster, jobs
from console.core.models import Job, JobStatus, PlatformSettings
from console.tenancy import services as iso
from console.tenancy.reconcile import generated_policies
from isolation.compiler.generate import IsolationSettings
from isolation.compiler.tenancy import TenancyInputError
from isolation.paths.cache import trace_digest
from isolation.paths.diagrams import render_svg
from isolation.paths.explain import explain_case
from isolation.paths.trace import (
    DEFAULT_CLIENT_IP,
    Exposure,
    PathInputError,
    TraceResult,
    exposures,
    trace,
)
from isolation.paths.types import merge_allowlist
from isolation.review.impact import with_generated_policies
from isolation.snapshot import KIND_FIELDS, Snapshot
from isolation.text import gettext as _

CACHE_PREFIX = "traffic:v1"
CACHE_SECONDS = 24 * 3600  # keys are content digests: an entry is never stale, only unused
MAX_CLIENT_SAMPLES = 16
RENDER_JOB = "render-diagram"
LIST_VERSION = "1"  # bump when the rows' content changes, so older lists are not shown
KINDS = ("service", "ingress")
STATUS_ORDER = {"none": 0, "some": 1, "every": 2, "unknown": -1}


# ---- the client --------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """The external client: one address, or a CIDR of them."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    @property
    def single(self) -> bool:
        return self.network.num_addresses == 1

    @property
    def text(self) -> str:
        return str(self.network.network_address) if self.single else str(self.network)

    def samples(self, snapshot: Snapshot) -> list[str]:
        """Addresses standing for the whole range: one per stretch no ipBlock boundary cuts.

        Policies match clients by ipBlock ranges, so the outcome is the same for every address
        between two boundaries; the first address of each stretch is traced. At most
        MAX_CLIENT_SAMPLES are returned (the first ones in address order).
        """
        first = int(self.network.network_address)
        last = int(self.network.broadcast_address)
        starts = {first}
        for block in _ip_blocks(snapshot):
            if block.version != self.network.version:
                continue
            for edge in (int(block.network_address), int(block.broadcast_address) + 1):
                if first < edge <= last:
                    starts.add(edge)
        make = ipaddress.ip_address
        return [str(make(value)) for value in sorted(starts)[:MAX_CLIENT_SAMPLES]]

    def sample_count(self, snapshot: Snapshot) -> int:
        return len(self.samples(snapshot)) if not self.single else 1


def parse_client(text: str | None) -> Client:
    """The client of a form field; empty means the documentation address 203.0.113.9.

    Raises ValueError with a message for the user when `text` is neither an address nor a CIDR.
    """
    value = (text or "").strip() or DEFAULT_CLIENT_IP
    try:
        return Client(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError(_("{value} is neither an IP address nor a CIDR: write one such as "
                           "{address} or {cidr}.", value=value, address=DEFAULT_CLIENT_IP,
                           cidr="203.0.113.0/24")) from None


def _ip_blocks(snapshot: Snapshot) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    found = []
    for policy in snapshot.network_policies:
        spec = policy.get("spec") or {}
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for peer in (rule or {}).get("from") or (rule or {}).get("to") or []:
                block = (peer or {}).get("ipBlock") or {}
                for cidr in [block.get("cidr"), *(block.get("except") or [])]:
                    try:
                        found.append(ipaddress.ip_network(str(cidr), strict=False))
                    except ValueError:
                        continue
    return found


# ---- what the verdicts are computed on -------------------------------------------------------


@dataclass
class TrafficContext:
    """The cluster as the pages trace it.

    `snapshot` is the live cluster with generated policies anticipated where the cluster does
    not hold them yet (`anticipated` names those namespaces); `live` is the cluster as read;
    `modes` is each namespace's isolation mode as the intent says.
    """

    live: Snapshot
    snapshot: Snapshot
    anticipated: set[str] = field(default_factory=set)
    cni: str | None = None
    warnings: list[str] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)  # namespace -> off/workspace/project


def context_from(live: Snapshot, settings: IsolationSettings, cni: str | None = None, *,
                 recompile: set[str] | frozenset[str] = frozenset()) -> TrafficContext:
    """The context for `live`: its own generated policies, or the compiled ones where it has none.

    Namespaces in `recompile` always take the compiled policies (a what-if after an intent
    change). Guarantee: never raises for intent the compiler refuses; the live policies are
    then used as they are, with a warning.
    """
    try:
        compiled = with_generated_policies(live, settings)[1]
    except TenancyInputError as exc:
        return TrafficContext(live, live, set(), cni or None, [
            _("The isolation intent cannot be compiled ({error}); verdicts use the cluster's "
              "NetworkPolicies as they are.", error=str(exc))])
    ours = {_ref(p) for p in generated_policies(live.network_policies, None, settings.engine_mode)}
    held = {namespace for namespace, _ in ours} - set(recompile)
    kept = [p for p in live.network_policies if _ref(p) not in ours or _ref(p)[0] in held]
    added = [p for p in compiled.policies if _ref(p)[0] not in held]
    anticipated = {_ref(p)[0] for p in added}
    return TrafficContext(live, live.with_network_policies(kept + added), anticipated, cni or None,
                          modes=dict(compiled.modes))


def load_context() -> TrafficContext:
    """The context of the connected cluster now (raises ClusterError when it cannot be read)."""
    cni = PlatformSettings.load().cni_mode or None
    return context_from(cluster.snapshot(), iso.isolation_settings(), cni)


def _ref(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "default", meta.get("name") or ""


# ---- tracing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """One exposure: a NodePort/LoadBalancer Service ("service") or an Ingress ("ingress")."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, exposure: Exposure) -> Ref:
        return cls("ingress" if exposure.kind == "Ingress" else "service",
                   exposure.namespace, exposure.name)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def target(self) -> dict[str, tuple[str, str]]:
        return {self.kind: (self.namespace, self.name)}


def digest_of(ctx: TrafficContext, ref: Ref, client_ip: str) -> str:
    return trace_digest(ctx.snapshot, client_ip=client_ip, cni=ctx.cni, **ref.target())


def trace_one(ctx: TrafficContext, ref: Ref, client_ip: str) -> tuple[str, TraceResult]:
    """(digest, trace) for one client address, from the cache when its inputs are unchanged.

    Raises PathInputError when the exposure cannot be traced.
    """
    digest = digest_of(ctx, ref, client_ip)
    key = f"{CACHE_PREFIX}:trace:{digest}"
    result = cache.get(key)
    if result is None:
        result = trace(ctx.snapshot, client_ip=client_ip, cni=ctx.cni, **ref.target())
        cache.set(key, result, CACHE_SECONDS)
    return digest, result


@dataclass
class Traced:
    """An exposure traced for a client (several sample addresses when it is a range).

    `result` is the trace shown in detail (for a range: the sample doing worst); `status` and
    `needed` hold over every sample, with single-address client entries widened to the range.
    """

    ref: Ref
    client: Client
    digest: str
    result: TraceResult
    samples: list[tuple[str, str]]
    status: str
    needed: list[dict[str, Any]]
    truncated: bool = False

    @property
    def summary(self) -> str:
        return self.result.summary()


def traced(ctx: TrafficContext, ref: Ref, client: Client) -> Traced:
    """The exposure `ref` traced for `client`. Raises PathInputError when it cannot be."""
    addresses = [client.text] if client.single else client.samples(ctx.snapshot)
    runs = [(address, *trace_one(ctx, ref, address)) for address in addresses]
    statuses = {result.status for _, _, result in runs}
    status = statuses.pop() if len(statuses) == 1 else "some"
    worst = min(runs, key=lambda run: STATUS_ORDER[run[2].status])
    needed = []
    for address, _sample, result in runs:
        own = f"{address}/{ipaddress.ip_address(address).max_prefixlen}"
        for entry in result.needed_allowlist():
            widened = not client.single and entry.get("cidr") == own
            needed.append({**entry, "cidr": client.text} if widened else entry)
    truncated = not client.single and len(addresses) == MAX_CLIENT_SAMPLES
    return Traced(ref, client, worst[1], worst[2],
                  [(address, result.status) for address, _, result in runs], status,
                  merge_allowlist(needed), truncated)


@dataclass
class ExposureRow:
    """One line of the Traffic Paths list."""

    exposure: Exposure
    ref: Ref
    status: str
    summary: str
    outcomes: dict[str, str] = field(default_factory=dict)  # entry node -> works/intermittent/fails


def exposure_rows(ctx: TrafficContext, client: Client, visible_namespaces: set[str] | None,
                  project: str = "") -> list[ExposureRow]:
    """Every exposure in the visible namespaces (None: all), optionally of one project only.

    An exposure that cannot be traced gets the status "unknown" and the reason as summary.
    """
    rows = []
    for exposure in exposures(ctx.snapshot):
        if visible_namespaces is not None and exposure.namespace not in visible_namespaces:
            continue
        if project and exposure.namespace != project:
            continue
        ref = Ref.of(exposure)
        try:
            result = traced(ctx, ref, client)
            rows.append(ExposureRow(exposure, ref, result.status, result.summary,
                                    result.result.outcome_by_entry_node()))
        except PathInputError as exc:
            rows.append(ExposureRow(exposure, ref, "unknown", exc.args[0] if exc.args
                                    else str(exc)))
    return rows


# ---- the list, traced in the background -------------------------------------------------------
#
# Tracing every exposure of a large cluster takes seconds to a minute, so a page never does it:
# the "trace-exposures" job traces all of them once per state of the cluster and caches the
# rows under `list_key` of what they depend on; pages read that entry, or show the latest rows
# with a "being traced" note while the job runs. One job per key (single flight).

LIST_JOB = "trace-exposures"


@dataclass
class ExposureList:
    """Every exposure of the cluster traced for one client (all namespaces; pages filter)."""

    key: str
    rows: list[ExposureRow]
    namespaces: list[str]
    anticipated: set[str]
    warnings: list[str]
    traced_at: datetime


def list_key(live: Snapshot, settings: IsolationSettings, cni: str | None, client: Client) -> str:
    """A digest of everything the list's rows depend on: each object's identity and
    resourceVersion (its whole content when it has none), the isolation settings, the CNI
    override and the client. Cheap: no object is serialised when versions are present."""
    digest = hashlib.sha256()
    digest.update(f"{LIST_VERSION}|{settings!r}|{cni or ''}|{client.text}".encode())
    for kind in KIND_FIELDS.values():
        for obj in getattr(live, kind):
            meta = obj.get("metadata") or {}
            version = meta.get("resourceVersion")
            if version is None:
                version = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str)
                                         .encode()).hexdigest()
            digest.update(f"\n{kind}|{meta.get('namespace', '')}|{meta.get('name', '')}|"
                          f"{version}".encode())
    return digest.hexdigest()


def compute_list(ctx: TrafficContext, client: Client, key: str) -> ExposureList:
    """Trace every exposure of `ctx` for `client` and cache the rows under `key`."""
    listing = ExposureList(key, exposure_rows(ctx, client, None), exposure_namespaces(ctx),
                           set(ctx.anticipated), list(ctx.warnings), timezone.now())
    cache.set(f"{CACHE_PREFIX}:list:{key}", listing, CACHE_SECONDS)
    cache.set(f"{CACHE_PREFIX}:list-latest:{client.text}", listing, CACHE_SECONDS)
    return listing


def cached_list(key: str) -> ExposureList | None:
    return cache.get(f"{CACHE_PREFIX}:list:{key}")


def latest_list(client: Client) -> ExposureList | None:
    """The rows last traced for `client`, whatever the cluster's state then (shown while the
    current state is being traced, marked as such)."""
    return cache.get(f"{CACHE_PREFIX}:list-latest:{client.text}")


def request_list(user, key: str, client: Client) -> Job:
    """The job tracing the list for `key`: one already queued or running for it, else a new one."""
    waiting = Job.objects.filter(Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING),
                                 kind=LIST_JOB, params__key=key).first()
    if waiting is not None:
        return waiting
    return jobs.start(LIST_JOB, target=_("every exposure"), user=user,
                      params={"key": key, "client": client.text})


@dataclass
class ListInputs:
    """What the list page reads on every request: the live cluster and the settings."""

    live: Snapshot
    settings: IsolationSettings
    cni: str | None
    exposed: list[str]  # namespaces with at least one exposure


def list_inputs() -> ListInputs:
    """The inputs of the list now (raises ClusterError when the cluster cannot be read)."""
    live = cluster.snapshot()
    return ListInputs(live, iso.isolation_settings(), PlatformSettings.load().cni_mode or None,
                      sorted({e.namespace for e in exposures(live)}))


def current_list(inputs: ListInputs, user, client: Client) -> tuple[ExposureList | None, Job | None, bool]:
    """(rows, job, stale): the rows for the cluster's current state, starting their job when
    they are not cached; while it runs, the latest rows with stale=True (or None)."""
    key = list_key(inputs.live, inputs.settings, inputs.cni, client)
    listing = cached_list(key)
    job = None
    if listing is None:
        job = request_list(user, key, client)
        listing = cached_list(key)  # traced already when jobs run eagerly
    if listing is not None:
        return listing, job, False
    latest = latest_list(client)
    return latest, job, latest is not None


def list_job(key: str) -> Job | None:
    """The latest job asked to trace the list for `key`."""
    return Job.objects.filter(kind=LIST_JOB, params__key=key).order_by("-pk").first()


def exposure_namespaces(ctx: TrafficContext) -> list[str]:
    return sorted({e.namespace for e in exposures(ctx.snapshot)})


def find_exposure(ctx: TrafficContext, ref: Ref) -> Exposure | None:
    kind = "Ingress" if ref.kind == "ingress" else None
    for exposure in exposures(ctx.snapshot):
        if (exposure.namespace, exposure.name) == (ref.namespace, ref.name) and (
                (exposure.kind == "Ingress") == (kind == "Ingress")):
            return exposure
    return None


# ---- diagrams --------------------------------------------------------------------------------


def diagram_title(exposure: Exposure) -> str:
    return f"{exposure.kind} {exposure.key}"


def _svg_key(digest: str) -> str:
    """Drawings are kept per language: their words are the reader's."""
    return f"{CACHE_PREFIX}:svg:{translation.get_language() or 'en'}:{digest}"


def cached_svg(digest: str) -> str | None:
    """The drawing cached under `digest` in the current language, or None."""
    entry = cache.get(_svg_key(digest))
    return entry["svg"] if entry else None


def cached_drawing_for(digest: str, ref: Ref) -> str | None:
    """The drawing under `digest` if it was drawn for `ref` (so a digest names nothing else),
    in the current language."""
    entry = cache.get(_svg_key(digest))
    if entry and entry["ref"] == (ref.kind, ref.namespace, ref.name):
        return entry["svg"]
    return None


def draw(ctx: TrafficContext, ref: Ref, client_ip: str) -> tuple[str, str]:
    """(digest, SVG) of one exposure for one client address, drawn now and cached.

    Raises PathInputError when the exposure cannot be traced.
    """
    digest, result = trace_one(ctx, ref, client_ip)
    svg = render_svg(result, title=diagram_title(result.exposure))
    cache.set(_svg_key(digest), {"ref": (ref.kind, ref.namespace, ref.name), "svg": svg},
              CACHE_SECONDS)
    return digest, svg


def request_drawing(user, ref: Ref, client_ip: str, digest: str) -> Job:
    """The job drawing `digest` in the current language: one already queued or running for
    it, else a new one."""
    language = translation.get_language() or "en"
    waiting = Job.objects.filter(Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING),
                                 kind=RENDER_JOB, params__digest=digest,
                                 params__language=language).first()
    if waiting is not None:
        return waiting
    return jobs.start(RENDER_JOB, target=f"{ref.kind} {ref.key}", user=user, project=ref.namespace,
                      params={"kind": ref.kind, "namespace": ref.namespace, "name": ref.name,
                              "client_ip": client_ip, "digest": digest, "language": language})


def drawing_job(digest: str) -> Job | None:
    """The latest job asked to draw `digest` in the current language."""
    return Job.objects.filter(kind=RENDER_JOB, params__digest=digest,
                              params__language=translation.get_language() or "en"
                              ).order_by("-pk").first()


# ---- the explainer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Explained:
    """One decision-table case: its path, drawing and title."""

    path: Any        # isolation.paths.types.Path
    svg: str
    title: str


def explained(exposure_kind: str, traffic_policy: str, cni: str, pod_on_entry_node: bool,
              ingress_via: str = "NodePort") -> Explained:
    """The case traced on the two-node case cluster and drawn (no cluster needed), in the
    current language."""
    return _explained(translation.get_language() or "en", exposure_kind, traffic_policy, cni,
                      pod_on_entry_node, ingress_via)


@functools.lru_cache(maxsize=256)
def _explained(language: str, exposure_kind: str, traffic_policy: str, cni: str,
               pod_on_entry_node: bool, ingress_via: str) -> Explained:
    """Cached in the process: a case's output depends on nothing but its arguments and the
    language its words are in."""
    path = explain_case(exposure_kind, traffic_policy, cni, pod_on_entry_node,
                        ingress_via=ingress_via)
    exposure = (gettext("Ingress via %(carrier)s") % {"carrier": ingress_via}
                if exposure_kind == "Ingress" else exposure_kind)
    if exposure_kind == "Ingress":
        placed = (gettext("controller pod on the entry node") if pod_on_entry_node
                  else gettext("controller pod on another node"))
    else:
        placed = (gettext("pod on the entry node") if pod_on_entry_node
                  else gettext("pod on another node"))
    title = f"{exposure}, {traffic_policy}, {CNI_NAMES[cni]}, {placed}"
    return Explained(path, render_svg(path, title=title), title)


CNI_NAMES = {"routed": "routed", "ipip": "IPIP", "vxlan": "VXLAN"}
