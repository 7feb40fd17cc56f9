"""How a panic press becomes an intake report."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from safestream.api.web.panic_report import PanicReportIn, to_report
from safestream.core.errors import InvalidInput
from safestream.core.reports import ReportSource


def _press(**fields: str) -> PanicReportIn:
    return PanicReportIn.model_validate(
        {"stream_id": "call-1", "description": "A child may be at risk.", **fields}
    )


def test_report_is_a_panic_report_about_the_live_stream_with_evidence_hold() -> None:
    report = to_report(_press())
    assert report.source is ReportSource.PANIC_BUTTON
    assert report.live_stream is not None and report.live_stream.stream_id == "call-1"
    assert report.live_now and report.evidence_hold


def test_only_a_yes_marks_a_child_in_danger_and_every_answer_is_kept() -> None:
    assert to_report(_press(child_in_danger="yes")).child_in_danger
    unsure = to_report(_press(child_in_danger="unsure"))
    assert not unsure.child_in_danger
    assert "Child in danger now: not sure" in unsure.description


def test_widget_idempotency_key_is_namespaced() -> None:
    assert to_report(_press(idempotency_key="abc")).idempotency_key == "panic:abc"


@settings(max_examples=200, deadline=None)
@given(
    stream_id=st.text(min_size=1, max_size=256),
    description=st.text(min_size=1, max_size=4000),
    platform=st.none() | st.text(min_size=1, max_size=256),
    page_url=st.none() | st.text(max_size=2048),
    key=st.none() | st.text(min_size=1, max_size=100),
)
def test_any_accepted_press_becomes_a_valid_report_or_a_clear_error(
    stream_id: str,
    description: str,
    platform: str | None,
    page_url: str | None,
    key: str | None,
) -> None:
    press = PanicReportIn(
        stream_id=stream_id,
        description=description,
        platform=platform,
        page_url=page_url,
        idempotency_key=key,
    )
    # Either a report, or an error the endpoint answers with 422 (never a 500).
    try:
        to_report(press).entities()
    except ValidationError as error:
        assert {str(e["loc"][0]) for e in error.errors()} <= {"stream_id", "name"}
    except InvalidInput as error:
        assert "stream" in str(error)


def test_a_press_without_description_is_accepted_and_says_so() -> None:
    report = to_report(PanicReportIn.model_validate({"stream_id": "call-1"}))
    assert report.description.startswith("(the viewer pressed the button without a description)")


def test_page_address_is_kept_without_its_query_fragment_or_credentials() -> None:
    url = "https://user:pw@calls.example/room/42?join_token=secret&name=Ana#pin=1234"
    report = to_report(_press(page_url=url))
    assert "Reported from page: https://calls.example/room/42\n" in report.description + "\n"
    assert "secret" not in report.description and "1234" not in report.description
    assert "pw" not in report.description
