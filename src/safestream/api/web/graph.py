"""Layout of a case's link graph (reports and the identifiers they name) for an inline SVG.

Reports stand in a column on the left and identifiers in a column on the right; every line joins
a report's box to an identifier's dot, so it crosses the empty band between the columns and no
line can pass through a node it does not join (the drawing never suggests a link that is not
there). Identifiers are ordered by the mean row of the reports naming them, so one shared by two
reports sits between them and lines cross as little as they can. Pure function: no store, no HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
MIN_HEIGHT = 120
ROW = 34  # vertical distance between two nodes of a column
MARGIN = 28
REPORT_X = 90
ENTITY_X = 380  # labels go to the right of the dots, away from the lines
REPORT_HALF_WIDTH = 40  # a report box is 80 x 24, centred on its node
REPORT_HALF_HEIGHT = 12
ENTITY_RADIUS = 9
LABEL_MAX_CHARS = 30

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
    """A placed node: a report or an entity, with its label and colour.

    `holders` (entities only): the reports of the case that name it, in report order."""

    key: str
    label: str
    kind: str
    x: float
    y: float
    colour: str
    shared: bool = False
    holders: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        """An entity's identifier without its kind."""
        return self.key[len(self.kind) + 1 :] if self.kind != "report" else self.key


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


def _column(count: int, height: int) -> list[float]:
    """Evenly spaced rows for `count` nodes, centred in the drawing's height."""
    top = (height - ROW * (count - 1)) / 2
    return [round(top + ROW * index, 1) for index in range(count)]


def layout_graph(graph: GraphInput, width: int = WIDTH) -> GraphLayout:
    """Place reports in the left column and the identifiers they name in the right one."""
    mentions: dict[tuple[str, str], list[str]] = {}
    for report_key, named in graph.reports:
        for kind, value in named:
            holders = mentions.setdefault((kind, value), [])
            if report_key not in holders:
                holders.append(report_key)
    rows = max(len(graph.reports), len(mentions), 1)
    height = max(MIN_HEIGHT, ROW * (rows - 1) + 2 * MARGIN)

    report_ys = _column(len(graph.reports), height)
    reports = [
        Node(key, key[:8], "report", float(REPORT_X), y, "#24292f")
        for (key, _named), y in zip(graph.reports, report_ys, strict=True)
    ]
    row_of = {node.key: index for index, node in enumerate(reports)}
    wanted = sorted(
        mentions.items(),
        key=lambda item: (sum(row_of[r] for r in item[1]) / len(item[1]), item[0]),
    )
    entities = [
        Node(
            f"{kind}:{value}",
            shorten(value),
            kind,
            float(ENTITY_X),
            y,
            KIND_COLOURS.get(kind, DEFAULT_COLOUR),
            shared=len(holders) > 1,
            holders=tuple(holders),
        )
        for ((kind, value), holders), y in zip(wanted, _column(len(wanted), height), strict=True)
    ]
    by_key = {node.key: node for node in reports}
    edges = [
        Edge(
            by_key[report].x + REPORT_HALF_WIDTH,
            by_key[report].y,
            entity.x - ENTITY_RADIUS,
            entity.y,
        )
        for entity in entities
        for report in entity.holders
    ]
    return GraphLayout(width, height, reports, entities, edges)
