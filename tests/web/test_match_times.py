"""Bank matches on the case page: where in the reported video each matched, and which bank frame."""

from __future__ import annotations

import pytest

from safestream.api.web.case_page import seconds
from safestream.core.reports import LiveStream, MatchedEntry, ReportedAccount, ReportIn
from safestream.store.banks import BankRepository, NewEntry
from tests.web.conftest import KNOWN_BANK, Console

BANK_VIDEO = "ab" * 32  # SHA-256 of the bank video the entries came from


def _two_frames_of_one_video(console: Console) -> list[int]:
    return BankRepository(console.db).add_entries(
        KNOWN_BANK,
        [
            NewEntry("pdq", "0f" * 32, label="A1", content_id=BANK_VIDEO, t=2.0),
            NewEntry("pdq", "f0" * 32, label="A1", content_id=BANK_VIDEO, t=3.0),
        ],
    )


def _report(entries: list[int], times: list[float | None]) -> ReportIn:
    values = ["0f" * 32, "f0" * 32][: len(entries)]
    matches = [
        MatchedEntry(
            bank=KNOWN_BANK, entry_id=e, signal_type="pdq", value=v, distance=0, label="A1", t=t
        )
        for e, v, t in zip(entries, values, times, strict=True)
    ]
    return ReportIn(
        reported_accounts=[ReportedAccount(platform="examplecall", id="host")],
        live_stream=LiveStream(stream_id="call-t"),
        matches=matches,
    )


def _match_rows(page: str) -> list[str]:
    table = page.split("<h2>Bank matches", 1)[1].split("</table>", 1)[0]
    return table.split("<tr>")[2:]


def test_two_frames_of_one_bank_video_are_two_distinct_rows_with_their_times(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    entries = _two_frames_of_one_video(console)
    _, case_id = console.file(_report(entries, [12.0, 13.5]))
    console.login("reviewer")
    first, second = _match_rows(console.client.get(f"/console/cases/{case_id}").text)
    assert "<td>12.0 s</td>" in first and "<td>13.5 s</td>" in second
    assert "2.0 s <span" in first and "3.0 s <span" in second
    assert f"of {BANK_VIDEO[:12]}" in first


def test_a_match_without_a_time_says_so(console: Console) -> None:
    entries = _two_frames_of_one_video(console)
    _, case_id = console.file(_report(entries[:1], [None]))
    console.login("reviewer")
    [row] = _match_rows(console.client.get(f"/console/cases/{case_id}").text)
    assert '<td><span class="muted">—</span></td>' in row


def test_a_time_beyond_a_week_of_video_is_refused_at_intake() -> None:
    with pytest.raises(ValueError, match="t"):
        MatchedEntry(
            bank=KNOWN_BANK, entry_id=1, signal_type="pdq", value="f" * 64, distance=0,
            t=8 * 24 * 3600.0,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("t", "shown"), [(2.0, "2.0 s"), (65.44, "1:05.4"), (3723.0, "1:02:03.0"), (59.96, "1:00.0")]
)
def test_times_read_as_a_reviewer_reads_them(t: float, shown: str) -> None:
    assert seconds(t) == shown
