"""The case graph layout: reports in one column, identifiers in another, lines only between."""

from __future__ import annotations

import math
import random

import pytest

from safestream.api.web.graph import (
    ENTITY_RADIUS,
    REPORT_HALF_HEIGHT,
    REPORT_HALF_WIDTH,
    Edge,
    GraphInput,
    GraphLayout,
    layout_graph,
    shorten,
)


def _two_reports_sharing_an_email() -> GraphInput:
    return GraphInput(
        reports=[
            ("r-1", [("email", "a@example.org"), ("account", "callapp:1")]),
            ("r-2", [("email", "a@example.org"), ("ip", "192.0.2.7")]),
        ]
    )


def test_each_distinct_entity_is_drawn_once() -> None:
    layout = layout_graph(_two_reports_sharing_an_email())
    assert sorted(n.key for n in layout.entities) == [
        "account:callapp:1",
        "email:a@example.org",
        "ip:192.0.2.7",
    ]


def test_entity_named_by_two_reports_is_marked_shared_and_has_two_edges() -> None:
    layout = layout_graph(_two_reports_sharing_an_email())
    shared = [n for n in layout.entities if n.shared]
    assert [n.key for n in shared] == ["email:a@example.org"]
    assert shared[0].holders == ("r-1", "r-2")
    ends = [(e.x2, e.y2) for e in layout.edges]
    assert ends.count((shared[0].x - ENTITY_RADIUS, shared[0].y)) == 2
    assert len(layout.edges) == 4


def test_all_nodes_lie_inside_the_drawing() -> None:
    layout = layout_graph(_random_graph(random.Random(3), reports=9, identifiers=25))
    for node in layout.reports + layout.entities:
        assert 0 <= node.x <= layout.width and 0 <= node.y <= layout.height


def test_no_two_entities_are_placed_on_the_same_spot() -> None:
    many = GraphInput(reports=[("r", [("ip", f"192.0.2.{i}") for i in range(12)])])
    layout = layout_graph(many)
    spots = {(n.x, n.y) for n in layout.entities}
    assert len(spots) == 12
    closest = min(math.dist(a, b) for a in spots for b in spots if a != b)
    assert closest > 20


def test_a_shared_identifier_sits_between_the_reports_naming_it() -> None:
    layout = layout_graph(
        GraphInput(
            reports=[
                ("r-1", [("account", "a:1")]),
                ("r-2", [("account", "a:2")]),
                ("r-3", [("account", "a:3"), ("stream", "s-1")]),
                ("r-4", [("stream", "s-1")]),
            ]
        )
    )
    stream = next(n for n in layout.entities if n.key == "stream:s-1")
    third, fourth = layout.reports[2], layout.reports[3]
    assert third.y <= stream.y <= fourth.y + 1


def _random_graph(rnd: random.Random, *, reports: int, identifiers: int) -> GraphInput:
    pool = [("account", f"p:{i}") for i in range(identifiers)]
    return GraphInput(
        reports=[
            (f"r-{r}", rnd.sample(pool, rnd.randint(1, min(5, identifiers))))
            for r in range(reports)
        ]
    )


def _passes_through(edge: Edge, x: float, y: float, half_w: float, half_h: float) -> bool:
    """Whether the segment enters the box [x +- half_w, y +- half_h] (sampled finely)."""
    for step in range(201):
        t = step / 200
        px, py = edge.x1 + (edge.x2 - edge.x1) * t, edge.y1 + (edge.y2 - edge.y1) * t
        if abs(px - x) < half_w and abs(py - y) < half_h:
            return True
    return False


def _crossings(layout: GraphLayout) -> list[str]:
    found = []
    for edge in layout.edges:
        for node in layout.reports:
            joins = (edge.x1, edge.y1) == (node.x + REPORT_HALF_WIDTH, node.y)
            if not joins and _passes_through(
                edge, node.x, node.y, REPORT_HALF_WIDTH, REPORT_HALF_HEIGHT
            ):
                found.append(f"{edge} through report {node.key}")
        for node in layout.entities:
            joins = (edge.x2, edge.y2) == (node.x - ENTITY_RADIUS, node.y)
            if not joins and _passes_through(edge, node.x, node.y, ENTITY_RADIUS, ENTITY_RADIUS):
                found.append(f"{edge} through {node.key}")
    return found


@pytest.mark.parametrize("seed", range(20))
def test_no_line_passes_through_a_node_it_does_not_join(seed: int) -> None:
    rnd = random.Random(seed)
    graph = _random_graph(rnd, reports=rnd.randint(2, 12), identifiers=rnd.randint(2, 30))
    assert _crossings(layout_graph(graph)) == []


def test_legend_lists_each_kind_present_once() -> None:
    layout = layout_graph(_two_reports_sharing_an_email())
    assert [kind for kind, _colour in layout.kinds] == ["account", "email", "ip"]


def test_long_identifiers_are_shortened_keeping_both_ends() -> None:
    value = "pdq:" + "ab" * 32
    short = shorten(value, limit=21)
    assert len(short) == 21
    assert short.startswith("pdq:abab") and short.endswith("abab")
    assert "…" in short


def test_empty_case_draws_nothing() -> None:
    layout = layout_graph(GraphInput(reports=[]))
    assert layout.reports == [] and layout.entities == [] and layout.edges == []


def test_the_crossing_check_sees_a_line_through_a_node() -> None:
    layout = layout_graph(_two_reports_sharing_an_email())
    first, second = layout.reports
    through = Edge(first.x, first.y - 40, second.x, second.y + 40)  # straight down the column
    assert _crossings(GraphLayout(layout.width, layout.height, layout.reports, [], [through]))
