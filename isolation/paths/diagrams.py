"""Traffic-path diagrams as self-contained, accessible SVG.

Each path is drawn as a small sequence diagram: one lane per actor (client, load balancer,
nodes, pods), one row per hop. SNAT and DNAT are badges on the node's lane, tunnels are dashed
arrows, the step where a request stops is drawn in a distinct colour and dash with a cross and
its reason. Every diagram has a <title>, a <desc> that reads the whole path in words, and a
legend. Output depends only on the input (no clocks, no randomness, no external fonts or
scripts), so it can be cached and compared against golden files. Its words are said in the
reader's language (`isolation.text`), and every width is estimated on the words as shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape

from isolation.paths.measure import CHAR_WIDTH, clip, columns, fit, text_width, wrap
from isolation.paths.types import Hop, Path, TraceResult, merge_allowlist
from isolation.text import gettext as _

LANE_WIDTH = 176
# What a node of a path that the cluster does not list is called (isolation.paths.legs).
UNKNOWN_NODE = _("(unknown node)")
MARGIN = 24
HEADER_HEIGHT = 58
STEP_HEIGHT = 50
LINE_HEIGHT = 15
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
LANE_MAX = 280  # the widest a lane grows for a long name; longer names get an ellipsis

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies; every state is
# also told apart by dash pattern, icon and text, never by colour alone.
INK, MUTED, GRID = "#1f2328", "#57606a", "#d0d7de"
BLUE, SKY, ORANGE, GREEN, RED = "#0072B2", "#56B4E9", "#E69F00", "#009E73", "#D55E00"
LANE_FILL = {"client": "#f6f8fa", "lb": "#fff8e6", "node": "#eef6fc", "pod": "#eefaf5"}


@dataclass
class PathGroup:
    """Paths that take the same course, drawn once (the first of `paths`)."""

    entry_nodes: list[str]
    paths: list[Path]
    members: list[Path] | None = None  # every path of the group, the drawn ones first


def _course(path: Path, client_ip: str | None) -> tuple:
    """What a path does, without which node or pod it involves."""
    legs = path.legs or [path]
    return (
        path.succeeds, path.steady_state, path.pod_on_entry_node,
        tuple(hop.kind for hop in path.hops),
        tuple(leg.pod_on_entry_node for leg in legs),
        tuple(leg.succeeds for leg in legs),
        path.policy_source == client_ip if path.policy_source else None,
        bool(path.needed_allowlist),
    )


def group_paths(paths: TraceResult | list[Path]) -> list[PathGroup]:
    """Paths that take the same course, each group drawn once, in first-appearance order.

    Two paths share a course when they pass the same kinds of hops, have the pod (and, for an
    Ingress, the controller) on the same side of each hop, and end the same way; which nodes
    and pods they involve, and so their addresses, may differ. `members` keeps every path.
    """
    client_ip = paths.client_ip if isinstance(paths, TraceResult) else None
    items = paths.paths if isinstance(paths, TraceResult) else paths
    groups: list[PathGroup] = []
    index: dict[tuple, PathGroup] = {}
    for path in items:
        key = _course(path, client_ip)
        if key in index:
            group = index[key]
            group.members.append(path)
            if path.entry_node not in group.entry_nodes:
                group.entry_nodes.append(path.entry_node)
        else:
            index[key] = PathGroup([path.entry_node], [path], [path])
            groups.append(index[key])
    return groups


def _titled(markup: str, full: str, shown: str) -> str:
    """A <text> that was shortened carries the full text in a <title> (a tooltip)."""
    if str(full) == shown:
        return markup
    return f"<g><title>{escape(str(full))}</title>{markup}</g>"


def _text(x: float, y: float, content: str, *, size: int = 12, fill: str = INK,
          anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}">{escape(str(content))}</text>')


def _lines(x: float, y: float, lines: list[str], **kwargs) -> str:
    return "".join(_text(x, y + i * LINE_HEIGHT, line, **kwargs) for i, line in enumerate(lines))


def _actors(path: Path) -> list[str]:
    """Lanes in reading order: client, load balancer, nodes, then pods."""
    order = {"client": 0, "lb": 1, "node": 2, "pod": 3}
    seen: list[str] = []
    for hop in path.hops:
        if hop.actor not in seen:
            seen.append(hop.actor)
    return sorted(seen, key=lambda a: (order[a.split(":")[0]], seen.index(a)))


def _lane_title(actor: str, path: Path) -> tuple[str, str, str]:
    """Three lines for a lane header: name, role, address."""
    kind, _sep, name = actor.partition(":")
    address = path.actor_addresses.get(actor, "")
    if kind in ("client", "lb"):
        hop = next(h for h in path.hops if h.actor == actor)
        title, role, address = hop.lane or (_("Client") if kind == "client"
                                            else _("Load balancer"), "", "")
        return str(title), str(role), str(address)
    if kind == "node":
        role = _("entry node") if name == path.entry_node else _("node")
        if name == UNKNOWN_NODE.english:   # the lane's id keeps the English words
            name = str(UNKNOWN_NODE)
        return name, str(role), address
    namespace, _sep, pod = name.partition("/")
    leg1 = path.legs[0] if path.legs else None
    if leg1 is not None and leg1.target == name:
        return pod, str(_("ingress controller in {namespace}", namespace=namespace)), address
    return pod, str(_("pod in {namespace}", namespace=namespace)), address


def _arrow_text(hop: Hop) -> str:
    """The words on an arrow: the hop's label, without what the lane header already says."""
    return str(hop.arrow or hop.label)


def _step_style(hop: Hop) -> tuple[str, str, str]:
    """(stroke colour, dash pattern, marker) of the arrow that ends in this hop."""
    if hop.blocked:
        return RED, "6 4", "cross"
    if hop.kind == "tunnel":
        return BLUE, "9 4", "tunnel"
    return INK, "", "arrow"


def _badge(kind: str) -> tuple[str, str, str]:
    """(badge text, fill, text colour) for a step that stays on one lane."""
    if kind == "snat":
        return "NAT", ORANGE, INK
    if kind == "drop":
        return str(_("✕ DROP")), RED, "#ffffff"
    if kind == "reject":
        return str(_("✕ REJECT")), RED, "#ffffff"
    return "•", GRID, INK


def _outcome(path: Path) -> tuple[str, str]:
    if path.succeeds:
        return str(_("✓ works")), GREEN
    last = path.blocked_hop
    if not path.steady_state:
        return str(_("✕ not reached (stale route only)")), RED
    if last is not None and last.kind == "drop":
        return str(_("✕ dropped")), RED
    if last is not None and last.kind == "reject":
        return str(_("✕ rejected")), RED
    return str(_("✕ blocked")), RED


def _needed_text(entries: list[dict]) -> str:
    parts = []
    for entry in entries:
        if "namespace" in entry:
            parts.append(str(_("namespace {namespace}", namespace=entry["namespace"])))
        else:
            ports = ", ".join(f"{p['port']}/{p['protocol']}" for p in entry.get("ports") or [])
            parts.append(str(_("{cidr} on {ports}", cidr=entry["cidr"], ports=ports)) if ports
                         else entry["cidr"])
    return "; ".join(parts)


class _Canvas:
    def __init__(self, prefix: str, lane: float = LANE_WIDTH) -> None:
        self.lane = lane
        self.prefix = prefix
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)


def _panel(canvas: _Canvas, group: PathGroup, path: Path, top: float, width: float) -> float:
    """Draw one path from `top`; returns the y just below it."""
    actors = _actors(path)
    lane = canvas.lane
    lane_x = {a: MARGIN + i * lane + lane / 2 for i, a in enumerate(actors)}
    label, colour = _outcome(path)
    others = [m for m in group.members or [] if m is not path]
    if path.target and path.target_node:
        heading = _("Enters on {node} → {target} on {target_node}", node=path.entry_node,
                    target=path.target, target_node=path.target_node)
    elif path.target:
        heading = _("Enters on {node} → {target}", node=path.entry_node, target=path.target)
    else:
        heading = _("Enters on {node}", node=path.entry_node)
    add = canvas.add
    add(f'<g class="path" data-entry-node="{escape(path.entry_node)}">')
    add(_text(MARGIN, top + 16, heading, size=14, weight="600"))
    chip_w = columns(label) * 7 + 16
    add(f'<rect x="{width - MARGIN - chip_w:.0f}" y="{top + 2:.0f}" width="{chip_w:.0f}" '
        f'height="20" rx="10" fill="{colour}"/>')
    add(_text(width - MARGIN - chip_w / 2, top + 16, label, fill="#ffffff", anchor="middle",
              weight="600"))
    y = top + 26
    if others:
        alike = "; ".join(f"{m.entry_node} → {m.target or _('no pod')}" for m in others[:4])
        if len(others) > 4:
            same = _("Same course, with their own addresses: {paths}; and {count} more.",
                     paths=alike, count=len(others) - 4)
        else:
            same = _("Same course, with their own addresses: {paths}.", paths=alike)
        for line in wrap(same, width - 2 * MARGIN):
            add(_text(MARGIN, y + 12, line, size=11, fill=MUTED))
            y += LINE_HEIGHT
        y += 2
    lanes_top = y + 6
    steps = path.hops[1:]
    divider_at = len(path.legs[0].hops) - 1 if len(path.legs) > 1 and path.legs[0].succeeds else None
    lanes_bottom = lanes_top + HEADER_HEIGHT + 12 + STEP_HEIGHT * (len(steps) + (divider_at is not None))
    for actor in actors:
        x = lane_x[actor]
        name, role, address = _lane_title(actor, path)
        add(f'<line x1="{x:.0f}" y1="{lanes_top + HEADER_HEIGHT:.0f}" x2="{x:.0f}" '
            f'y2="{lanes_bottom:.0f}" stroke="{GRID}" stroke-width="1.5" stroke-dasharray="3 3"/>')
        add(f'<rect x="{x - lane / 2 + 6:.0f}" y="{lanes_top:.0f}" width="{lane - 12:.0f}" '
            f'height="{HEADER_HEIGHT - 6}" rx="6" fill="{LANE_FILL[actor.split(":")[0]]}" '
            f'stroke="{GRID}"><title>{escape(actor.partition(":")[2] or name)}</title></rect>')
        room = lane - 24  # inside the box, with padding on both sides
        shown = fit(name, room, 12, bold=True, middle=True)
        add(_titled(_text(x, lanes_top + 16, shown, anchor="middle", weight="600"), name, shown))
        for line_y, words in ((31, role), (45, address)):
            shown = fit(words, room, 11)
            add(_titled(_text(x, lanes_top + line_y, shown, size=11, fill=MUTED,
                              anchor="middle"), words, shown))
    y = lanes_top + HEADER_HEIGHT + 12
    for index, hop in enumerate(steps):
        if divider_at is not None and index == divider_at:
            add(f'<line x1="{MARGIN}" y1="{y + 8:.0f}" x2="{width - MARGIN:.0f}" y2="{y + 8:.0f}" '
                f'stroke="{MUTED}" stroke-dasharray="2 4"/>')
            add(_text(MARGIN, y + 26, _("Leg 2: the controller connects to the backend pod IP "
                                        "(from Endpoints: no kube-proxy, no SNAT)"),
                      size=11, fill=MUTED))
            y += STEP_HEIGHT
        _step(canvas, lane_x, path.hops[index].actor, hop, y + STEP_HEIGHT / 2 + 4, width)
        y += STEP_HEIGHT
    y = lanes_bottom + 8
    return _footer(canvas, group, path, y, width)


def _step(canvas: _Canvas, lane_x: dict[str, float], origin: str, hop: Hop, y: float,
          width: float) -> None:
    add = canvas.add
    x2 = lane_x[hop.actor]
    tip = escape(str(hop.detail or hop.label))
    add(f'<g class="hop hop-{hop.kind}{" blocked" if hop.blocked else ""}"><title>{tip}</title>')
    if origin == hop.actor:
        text, fill, ink = _badge(hop.kind)
        badge_w = columns(text) * 7.5 + 12
        add(f'<rect x="{x2 - badge_w / 2:.0f}" y="{y - 11:.0f}" width="{badge_w:.0f}" height="20" '
            f'rx="4" fill="{fill}"/>')
        add(_text(x2, y + 3, text, size=11, fill=ink, anchor="middle", weight="700"))
        colour = RED if hop.blocked else INK
        room = max(width - MARGIN - (x2 + badge_w / 2 + 8), 160)
        words = _arrow_text(hop)
        add(_text(x2 + badge_w / 2 + 8, y + 3, clip(words, int(room / CHAR_WIDTH)), fill=colour))
        if hop.note:
            add(_text(x2 + badge_w / 2 + 8, y + 18, clip(hop.note, int(room / CHAR_WIDTH)),
                      size=11, fill=MUTED))
        add("</g>")
        return
    x1 = lane_x[origin]
    stroke, dash, marker = _step_style(hop)
    direction = 1 if x2 >= x1 else -1
    end = x2 - direction * 8
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    add(f'<line x1="{x1:.0f}" y1="{y:.0f}" x2="{end:.0f}" y2="{y:.0f}" stroke="{stroke}" '
        f'stroke-width="2"{dash_attr} marker-end="url(#{canvas.prefix}-{marker})"/>')
    mid = (x1 + x2) / 2
    label = _arrow_text(hop)
    span = abs(x2 - x1) - 12  # a label never reaches past the lanes its arrow joins
    add(_text(mid, y - 7, fit(label, span), anchor="middle", fill=RED if hop.blocked else INK))
    if hop.blocked:
        add(_text(mid, y + 16, _("✕ blocked by policy"), size=11, fill=RED, anchor="middle",
                  weight="600"))
    elif hop.kind == "pod":
        add(_text(mid, y + 16, _("✓ admitted"), size=11, fill=GREEN, anchor="middle",
                  weight="600"))
    elif hop.note:
        add(_text(mid, y + 16, fit(hop.note, span, 11), size=11, fill=MUTED, anchor="middle"))
    add("</g>")


def _footer(canvas: _Canvas, group: PathGroup, path: Path, y: float, width: float) -> float:
    add = canvas.add
    room = width - 2 * MARGIN
    rows: list[tuple[str, str, str]] = []
    if path.app_source:
        rows.append((_("App sees"), _("{address} ({owner})", address=path.app_source,
                                      owner=path.app_source_label), INK))
    if path.policy_source:
        rows.append((_("Policy sees"), _("{address} ({owner})", address=path.policy_source,
                                         owner=path.policy_source_label), INK))
    if path.forwarded_for:
        rows.append(("X-Forwarded-For", path.forwarded_for, INK))
    rows.append((_("Result") if path.succeeds else _("Why"), path.reason,
                 GREEN if path.succeeds else RED))
    needed = _group_needed(group, path)
    if needed:
        rows.append((_("Allow"), needed, INK))
    for title, value, colour in rows:
        add(_text(MARGIN, y + 12, title, size=11, fill=MUTED, weight="600"))
        lines = wrap(value, room - 110)
        add(_lines(MARGIN + 110, y + 12, lines, size=12, fill=colour))
        y += LINE_HEIGHT * len(lines) + 4
    add("</g>")
    return y + 10


def _group_needed(group: PathGroup, path: Path) -> str:
    """Missing entries of every path of the group."""
    members = group.members or [path]
    entries = [entry for member in members for entry in member.needed_allowlist]
    return _needed_text(merge_allowlist(entries)) if entries else ""


def _legend(canvas: _Canvas, y: float, width: float) -> float:
    add = canvas.add
    add('<g class="legend">')
    add(f'<line x1="{MARGIN}" y1="{y:.0f}" x2="{width - MARGIN:.0f}" y2="{y:.0f}" stroke="{GRID}"/>')
    y += 22
    add(_text(MARGIN, y, _("Legend"), size=12, weight="600"))
    items = [("arrow", INK, ""), ("tunnel", BLUE, "9 4"), ("nat", ORANGE, ""),
             ("blocked", RED, "6 4")]
    words = {"arrow": str(_("hop")), "tunnel": str(_("tunnel (IPIP / VXLAN)")),
             "nat": str(_("NAT on a node (SNAT / DNAT)")),
             "blocked": str(_("blocked or dropped"))}
    x = MARGIN + 64
    for key, colour, dash in items:
        if key == "nat":
            add(f'<rect x="{x:.0f}" y="{y - 11:.0f}" width="34" height="16" rx="4" fill="{ORANGE}"/>')
            add(_text(x + 17, y + 1, "NAT", size=10, anchor="middle", weight="700"))
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            marker = {"blocked": "cross", "tunnel": "tunnel"}.get(key, "arrow")
            add(f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 28:.0f}" y2="{y - 4:.0f}" '
                f'stroke="{colour}" stroke-width="2"{dash_attr} '
                f'marker-end="url(#{canvas.prefix}-{marker})"/>')
        add(_text(x + 42, y, words[key], size=11, fill=MUTED))
        x += 42 + columns(words[key]) * 6 + 26
        if x > width - 160 and key != items[-1][0]:
            x = MARGIN + 64
            y += 20
    add("</g>")
    return y + 16


def _defs(prefix: str) -> str:
    return (
        "<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/>'
        "</marker>"
        f'<marker id="{prefix}-tunnel" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{BLUE}"/>'
        "</marker>"
        f'<marker id="{prefix}-cross" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="10" '
        f'markerHeight="10" orient="auto"><path d="M1,1 L9,9 M9,1 L1,9" stroke="{RED}" '
        'stroke-width="2.2"/></marker>'
        "</defs>"
    )


def _describe(groups: list[PathGroup]) -> str:
    """The diagram in words: each drawn path, then which other paths take the same course."""
    sentences = []
    for group in groups:
        for path in group.paths:
            words = {"node": path.entry_node, "target": path.target or _("no pod"),
                     "steps": " → ".join(str(hop.label) for hop in path.hops),
                     "reason": path.reason}
            if path.succeeds:
                sentences.append(_("Entering on {node} to {target}: {steps}. It works: {reason}.",
                                   **words))
            else:
                sentences.append(_("Entering on {node} to {target}: {steps}. It fails: {reason}.",
                                   **words))
        others = [m for m in group.members or [] if m not in group.paths]
        if others:
            alike = ", ".join(str(_("{node} to {target}", node=m.entry_node,
                                    target=m.target or _("no pod"))) for m in others[:6])
            if len(others) > 6:
                sentences.append(_("The same course, with their own addresses: {paths} and "
                                   "{count} more.", paths=alike, count=len(others) - 6))
            else:
                sentences.append(_("The same course, with their own addresses: {paths}.",
                                   paths=alike))
    return str(_sentences(sentences))


def _sentences(sentences: list) -> str:
    """Sentences one after the other, as the reader's language sets them."""
    text = sentences[0] if sentences else ""
    for sentence in sentences[1:]:
        text = _("{first} {second}", first=text, second=sentence)
    return text


def _summary(result: TraceResult) -> str:
    exposure = result.exposure
    words = {"kind": exposure.kind, "key": exposure.key, "controller": exposure.controller,
             "policy": exposure.traffic_policy, "cni": result.cni, "source": result.cni_source}
    if exposure.controller and exposure.traffic_policy:
        first = _("{kind} {key}, through {controller}, externalTrafficPolicy {policy}, CNI {cni} "
                  "({source}).", **words)
    elif exposure.controller:
        first = _("{kind} {key}, through {controller}, CNI {cni} ({source}).", **words)
    elif exposure.traffic_policy:
        first = _("{kind} {key}, externalTrafficPolicy {policy}, CNI {cni} ({source}).", **words)
    else:
        first = _("{kind} {key}, CNI {cni} ({source}).", **words)
    if result.status == "every":
        second = _("From {client} it works through every entry node.", client=result.client_ip)
    elif result.status == "some":
        second = _("From {client} it works through some entry nodes only.",
                   client=result.client_ip)
    else:
        second = _("From {client} it works through no entry node.", client=result.client_ip)
    return str(_sentences([first, second]))


def _lane_width(paths: list[Path]) -> float:
    """Lanes as wide as their widest title needs (name, role, address), between LANE_WIDTH and
    LANE_MAX, so neighbouring titles never overlap; longer names are shortened."""
    widest = 0.0
    for path in paths:
        for actor in _actors(path):
            name, role, address = _lane_title(actor, path)
            widest = max(widest, text_width(name, 12, bold=True), text_width(role, 11),
                         text_width(address, 11))
    return float(min(max(LANE_WIDTH, round(widest + 24)), LANE_MAX))


def render_svg(trace_or_path_group: TraceResult | list[Path] | PathGroup | Path, *,
               title: str) -> str:
    """An SVG document drawing the given paths, with `title`, a full-text <desc> and a legend.

    A TraceResult is drawn grouped (`group_paths`); a list of paths or a single path is drawn
    as given. Guarantees: the same input gives byte-identical output; all text is escaped; ids
    are prefixed with a hash of the content, so several diagrams can share one HTML page.
    """
    subtitle = ""
    if isinstance(trace_or_path_group, TraceResult):
        groups = group_paths(trace_or_path_group)
        subtitle = _summary(trace_or_path_group)
    elif isinstance(trace_or_path_group, PathGroup):
        groups = [trace_or_path_group]
    elif isinstance(trace_or_path_group, Path):
        groups = [PathGroup([trace_or_path_group.entry_node], [trace_or_path_group])]
    else:
        groups = [PathGroup([p.entry_node], [p]) for p in trace_or_path_group]
    description = _describe(groups) or str(_("No path: nothing enters the cluster for this "
                                             "exposure."))
    prefix = "tp" + hashlib.sha256((title + description).encode()).hexdigest()[:10]
    lanes = max((len(_actors(p)) for g in groups for p in g.paths), default=3)
    lane = _lane_width([p for g in groups for p in g.paths])
    width = max(MARGIN * 2 + lanes * lane, 720)
    canvas = _Canvas(prefix, lane)
    y = 34.0
    canvas.add(_text(MARGIN, 24, title, size=16, weight="700"))
    if subtitle:
        lines = wrap(subtitle, width - 2 * MARGIN)
        canvas.add(_lines(MARGIN, 42, lines, size=12, fill=MUTED))
        y += LINE_HEIGHT * len(lines) + 4
    for group in groups:
        for path in group.paths:
            canvas.add(f'<line x1="{MARGIN}" y1="{y:.0f}" x2="{width - MARGIN:.0f}" y2="{y:.0f}" '
                       f'stroke="{GRID}"/>')
            y = _panel(canvas, group, path, y + 10, width)
    if not groups:
        canvas.add(_text(MARGIN, y + 20, description, fill=MUTED))
        y += 36
    y = _legend(canvas, y, width)
    height = int(y + 8)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
            f'viewBox="0 0 {width:.0f} {height}" role="img" '
            f'aria-labelledby="{prefix}-title {prefix}-desc" font-family="{escape(FONT)}">'
            f'<title id="{prefix}-title">{escape(title)}</title>'
            f'<desc id="{prefix}-desc">{escape(description)}</desc>'
            + _defs(prefix)
            + '<rect width="100%" height="100%" fill="#ffffff"/>')
    return head + "".join(canvas.parts) + "</svg>\n"
