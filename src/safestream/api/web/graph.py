"""Layout of a case's link graph (reports and the identifiers they share) for an inline SVG.

Reports sit on an inner ring and entities on an outer ring; each entity is placed at the mean angle
of the reports that mention it, so an identifier shared by two reports sits between them and the
drawing shows at a glance why the reports were joined. Pure function: no store, no HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 420
REPORT_RING = 0.28
ENTITY_RING = 0.44
LABEL_MAX_CHARS = 22

# One colour per entity kind, so the legend stays short and kinds are told apart without reading.
KIND_COLOURS: dict[str, str] = {
    "account": "#1f6feb",
    "payment_account": "#b35900",
    "email": "#8250df",
    "ip": "#1a7f37",
    "stream": "#cf222e",
    "media_hash": "#57606a",
    "device": "#9a6700",
}
DEFAULT_COLOUR = "#6e7781"


@dataclass(frozen=True)
class GraphInput:
    """What to draw: report ids and, for each, the (kind, value) entities it carries."""

    reports: Sequence[tuple[str, Sequence[tuple[str, str]]]]


@dataclass(frozen=True)
class Node:
    """A placed node: a report or an entity, with its label and colour."""

    key: str
    label: str
    kind: str
    x: float
    y: float
    colour: str
    shared: bool = False


@dataclass(frozen=True)
class Edge:
    """A line from a report node to an entity node."""

    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class GraphLayout:
    """Placed nodes and edges, ready for the SVG template."""

    width: int
    height: int
    reports: list[Node]
    entities: list[Node]
    edges: list[Edge]

    @property
    def kinds(self) -> list[tuple[str, str]]:
        """The entity kinds present, with their colours, for the legend."""
        seen = sorted({n.kind for n in self.entities})
        return [(kind, KIND_COLOURS.get(kind, DEFAULT_COLOUR)) for kind in seen]


def shorten(text: str, limit: int = LABEL_MAX_CHARS) -> str:
    """Cut long identifiers (hashes, emails) to fit a node label, keeping both ends."""
    if len(text) <= limit:
        return text
    keep = (limit - 1) // 2
    return f"{text[:keep]}…{text[-keep:]}"


def _point(angle: float, ring: float, width: int, height: int) -> tuple[float, float]:
    cx, cy = width / 2, height / 2
    radius = ring * min(width, height) * 1.0
    return round(cx + radius * math.cos(angle), 1), round(cy + radius * math.sin(angle), 1)


def _mean_angle(angles: Sequence[float]) -> float:
    return math.atan2(sum(math.sin(a) for a in angles), sum(math.cos(a) for a in angles))


def layout_graph(graph: GraphInput, width: int = WIDTH, height: int = HEIGHT) -> GraphLayout:
    """Place reports on the inner ring and entities on the outer ring, near their reports."""
    count = max(len(graph.reports), 1)
    report_angle: dict[str, float] = {}
    reports: list[Node] = []
    for index, (report_key, _entities) in enumerate(graph.reports):
        angle = -math.pi / 2 + 2 * math.pi * index / count
        report_angle[report_key] = angle
        x, y = _point(angle, REPORT_RING if count > 1 else 0.0, width, height)
        reports.append(Node(report_key, shorten(report_key), "report", x, y, "#24292f"))

    mentions: dict[tuple[str, str], list[str]] = {}
    for report_key, named in graph.reports:
        for kind, value in named:
            holders = mentions.setdefault((kind, value), [])
            if report_key not in holders:
                holders.append(report_key)

    wanted = sorted(
        mentions.items(),
        key=lambda item: (_mean_angle([report_angle[r] for r in item[1]]), item[0]),
    )
    # Spread entities evenly around the ring in the order of their preferred angles, so labels
    # of entities that belong to the same report do not pile up on one spot.
    placed: dict[tuple[str, str], tuple[float, float]] = {}
    entities: list[Node] = []
    total = max(len(wanted), 1)
    start = _mean_angle([report_angle[r] for r in wanted[0][1]]) if wanted else 0.0
    for index, ((kind, value), holders) in enumerate(wanted):
        angle = start + 2 * math.pi * index / total
        x, y = _point(angle, ENTITY_RING, width, height)
        placed[(kind, value)] = (x, y)
        colour = KIND_COLOURS.get(kind, DEFAULT_COLOUR)
        entities.append(
            Node(f"{kind}:{value}", shorten(value), kind, x, y, colour, shared=len(holders) > 1)
        )

    by_key = {node.key: node for node in reports}
    edges = [
        Edge(by_key[report_key].x, by_key[report_key].y, *placed[entity])
        for entity, holders in wanted
        for report_key in holders
    ]
    return GraphLayout(width, height, reports, entities, edges)
