"""The case graph layout: reports inside, shared identifiers drawn between their reports."""

from __future__ import annotations

import math

from safestream.api.web.graph import GraphInput, layout_graph, shorten


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
    ends = [(e.x2, e.y2) for e in layout.edges]
    assert ends.count((shared[0].x, shared[0].y)) == 2
    assert len(layout.edges) == 4


def test_all_nodes_lie_inside_the_drawing() -> None:
    layout = layout_graph(_two_reports_sharing_an_email(), width=300, height=200)
    for node in layout.reports + layout.entities:
        assert 0 <= node.x <= 300 and 0 <= node.y <= 200


def test_no_two_entities_are_placed_on_the_same_spot() -> None:
    many = GraphInput(reports=[("r", [("ip", f"192.0.2.{i}") for i in range(12)])])
    layout = layout_graph(many)
    spots = {(n.x, n.y) for n in layout.entities}
    assert len(spots) == 12
    closest = min(math.dist(a, b) for a in spots for b in spots if a != b)
    assert closest > 20


def test_single_report_sits_in_the_centre() -> None:
    layout = layout_graph(GraphInput(reports=[("r", [("stream", "s-1")])]), width=200, height=100)
    assert (layout.reports[0].x, layout.reports[0].y) == (100.0, 50.0)


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
