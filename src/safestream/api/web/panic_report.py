"""What the panic-button widget sends, and how it becomes a report for intake.

A viewer answers two questions (what is happening; is a child in danger now). The report carries
the call's stream id and an evidence hold, so the live monitor keeps its buffer for that stream.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from safestream.core.reports import LiveStream, Platform, ReportIn, ReportSource

DANGER_ANSWERS = {"yes": "yes", "no": "no", "unsure": "not sure"}


class PanicReportIn(BaseModel):
    """The panic-button form as posted by the widget."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: Annotated[str, Field(min_length=1, max_length=256)]
    # A viewer in distress may press without typing anything: the press alone is the report.
    description: Annotated[str, Field(max_length=4000)] = ""
    child_in_danger: Literal["yes", "no", "unsure"] = "unsure"
    platform: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    page_url: Annotated[str, Field(max_length=2048)] | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=100)] | None = None


def page_without_query(url: str) -> str:
    """The page a press came from, without the query and fragment, where call links carry
    join tokens, passwords and names; widgets before this rule sent the whole address."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def to_report(panic: PanicReportIn) -> ReportIn:
    """The intake report for a panic press: live stream, evidence hold, the viewer's answers."""
    danger = DANGER_ANSWERS[panic.child_in_danger]
    said = panic.description.strip() or "(the viewer pressed the button without a description)"
    lines = [said, "", f"Child in danger now: {danger}"]
    if panic.page_url:
        lines.append(f"Reported from page: {page_without_query(panic.page_url)}")
    return ReportIn(
        source=ReportSource.PANIC_BUTTON,
        platform=Platform(name=panic.platform) if panic.platform else None,
        description="\n".join(lines),
        child_in_danger=panic.child_in_danger == "yes",
        live_stream=LiveStream(stream_id=panic.stream_id),
        evidence_hold=True,
        # Namespaced so a widget's random key can never collide with a platform's own keys.
        idempotency_key=f"panic:{panic.idempotency_key}" if panic.idempotency_key else None,
    )
