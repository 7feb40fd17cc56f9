"""NCMEC CyberTipline reports from a case: `<report>` XML in the schema's element order.

The schema allows at most one `personOrUserReported` per report unless the report is batched, and
its only batching reason is a viral meme, so a case naming several accounts becomes one report per
account, each carrying only what belongs to that account (its IPs, devices and the billing accounts
it paid from). Reports naming no account become one report without a reported person.

Live streams map as the reference notes recommend: `chatImIncident` for the stream,
`escalateToHighPriority` when abuse is happening now, `intendedRecipient` for viewers and
`associatedAccount type="Billing"` for payment accounts. Element order follows the schema's
sequences, since NCMEC rejects any other order (response 4100). Every value passes through a
`FieldCleaner`, so anything intake accepted yields a report the schema accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from safestream.core.reports import IncidentType, IpEvent, LiveStream, Report, ReportSource
from safestream.reports.ncmec_fields import (
    MAX_ADDITIONAL_INFO,
    MAX_ESCALATION,
    FieldCleaner,
)

IP_EVENT_NAMES = {
    "login": "Login",
    "registration": "Registration",
    "purchase": "Purchase",
    "upload": "Upload",
    "stream": "Other",
    "other": "Other",
}
# When linked reports disagree, the incident type that says most about the abuse wins.
INCIDENT_PRECEDENCE = (
    IncidentType.CHILD_SEX_TRAFFICKING,
    IncidentType.CHILD_SEXUAL_MOLESTATION,
    IncidentType.ONLINE_ENTICEMENT,
    IncidentType.CHILD_SEX_TOURISM,
    IncidentType.CHILD_PORNOGRAPHY,
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL,
    IncidentType.MISLEADING_WORDS_OR_IMAGES,
    IncidentType.MISLEADING_DOMAIN_NAME,
)
# Repeated elements are capped so one hostile report cannot make a CyberTip unreadable.
MAX_RECIPIENTS = 100
MAX_STREAMS = 10
MAX_IP_EVENTS = 100
MAX_DEVICES = 20
MAX_BILLING = 100


@dataclass(frozen=True)
class ReportingCompany:
    """Who files the CyberTip (the organisation's settings in Coop's terms)."""

    company: str
    contact_email: str
    first_name: str = ""
    last_name: str = ""
    terms_of_service: str = ""
    legal_url: str = ""


@dataclass(frozen=True)
class CybertipDraft:
    """One CyberTipline report built from a case, before it is submitted."""

    subject: str | None  # "platform:account" of the reported person; None when no one is named
    report_ids: tuple[str, ...]
    evidence_ids: tuple[str, ...]
    xml: str
    notes: tuple[str, ...]  # what the cleaner changed to make the report acceptable


@dataclass
class _Person:
    platform: str
    account: str
    name: str | None = None
    email: str | None = None
    ip_events: list[IpEvent] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    billing: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)


def build_cybertips(
    reports: Sequence[Report], company: ReportingCompany, *, now: datetime | None = None
) -> list[CybertipDraft]:
    """CyberTipline reports for a case's reports: one per reported account, one for the rest."""
    moment = now or datetime.now(UTC)
    people = _people(reports)
    drafts = [_draft(p.reports, company, moment, p, reports) for p in people.values()]
    unattributed = [r for r in reports if not r.body.reported_accounts]
    if unattributed or not drafts:
        drafts.append(_draft(unattributed or list(reports), company, moment, None, reports))
    return drafts


def _key(platform: str, account: str) -> tuple[str, str]:
    return platform.strip(), account.strip()


def _people(reports: Sequence[Report]) -> dict[tuple[str, str], _Person]:
    people: dict[tuple[str, str], _Person] = {}
    for report in reports:
        body = report.body
        for acc in body.reported_accounts:
            key = _key(acc.platform, acc.id)
            person = people.setdefault(key, _Person(*key))
            person.name = person.name or acc.name
            person.email = person.email or acc.email
            person.ip_events.extend(e for e in acc.ip_events if e not in person.ip_events)
            person.devices.extend(d for d in acc.devices if d not in person.devices)
            if report not in person.reports:
                person.reports.append(report)
            if len(body.reported_accounts) == 1:
                person.billing.extend(body.payment_accounts)
    # A payment belongs to whoever paid, whichever report it came in.
    for report in reports:
        stream = report.body.live_stream
        for pay in stream.payments if stream else []:
            for person in people.values():
                if pay.payment_account and (pay.payer_account or "").strip() == person.account:
                    person.billing.append(pay.payment_account)
    for person in people.values():
        person.billing = list(dict.fromkeys(b for b in person.billing if b))
    return people


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _text(parent: etree._Element, tag: str, value: str | None) -> None:
    if value:
        _sub(parent, tag, value)


def _draft(
    reports: Sequence[Report],
    company: ReportingCompany,
    now: datetime,
    person: _Person | None,
    case_reports: Sequence[Report],
) -> CybertipDraft:
    clean = FieldCleaner(now)
    root = etree.Element("report")
    _incident_summary(root, reports, clean, person)
    streams = _streams(reports)
    for stream, platform in streams[:MAX_STREAMS]:
        _chat_incident(root, stream, platform, clean)
    if len(streams) > MAX_STREAMS:
        clean.note(f"{len(streams) - MAX_STREAMS} more live streams not listed")
    _reporter(root, company, clean)
    if person is not None:
        _reported_person(root, person, clean)
    _recipients(root, streams, person, case_reports, clean)
    _additional_info(root, reports, person, clean)
    etree.indent(root)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return CybertipDraft(
        subject=f"{person.platform}:{person.account}" if person else None,
        report_ids=tuple(r.id for r in reports),
        evidence_ids=tuple(dict.fromkeys(e for r in reports for e in r.evidence_ids)),
        xml=xml,
        notes=tuple(clean.notes),
    )


def incident_type(reports: Iterable[Report]) -> IncidentType:
    """The incident type of linked reports: the one that says most about the abuse."""
    found = {r.body.incident_type for r in reports}
    return next((t for t in INCIDENT_PRECEDENCE if t in found), IncidentType.CHILD_PORNOGRAPHY)


def _incident_time(report: Report) -> datetime:
    body = report.body
    started = body.live_stream.started_at if body.live_stream else None
    return body.incident_at or started or report.received_at


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _escalation(reports: Sequence[Report]) -> str | None:
    reasons = []
    if any(r.body.child_in_danger for r in reports):
        reasons.append("The reporter says a child is in danger now.")
    if any(r.body.live_now for r in reports):
        reasons.append("The abuse was being live-streamed when reported.")
    return " ".join(reasons) or None


def _incident_summary(
    root: etree._Element, reports: Sequence[Report], clean: FieldCleaner, person: _Person | None
) -> None:
    summary = _sub(root, "incidentSummary")
    _text(summary, "incidentType", incident_type(reports).ncmec_label)
    platforms = [r.body.platform.name for r in reports if r.body.platform]
    platform = platforms[0] if platforms else (person.platform if person else None)
    _text(summary, "platform", clean.line(platform, "platform"))
    _text(
        summary,
        "escalateToHighPriority",
        clean.block(_escalation(reports), "escalation reason", MAX_ESCALATION),
    )
    earliest = min((_aware(_incident_time(r)) for r in reports), default=clean.now)
    _text(summary, "incidentDateTime", clean.time(earliest, "incident time"))
    if len(reports) > 1:
        _text(
            summary,
            "incidentDateTimeDescription",
            f"Earliest incident time of {len(reports)} linked reports.",
        )


def _streams(reports: Sequence[Report]) -> list[tuple[LiveStream, str | None]]:
    found: dict[str, tuple[LiveStream, str | None]] = {}
    for r in reports:
        stream = r.body.live_stream
        if stream is not None:
            platform = r.body.platform.name if r.body.platform else None
            found.setdefault(stream.stream_id.strip(), (stream, platform))
    return list(found.values())


def _chat_incident(
    root: etree._Element, stream: LiveStream, platform: str | None, clean: FieldCleaner
) -> None:
    details = _sub(root, "internetDetails")
    chat = _sub(details, "chatImIncident")
    _text(chat, "chatClient", clean.line(platform, "platform"))
    _text(chat, "chatRoomName", clean.line(stream.stream_id, "stream id"))
    info = [f"Live stream ({'private' if stream.private else 'public'})."]
    if stream.started_at:
        info.append(f"Started {clean.time(stream.started_at, 'stream start')}.")
    if stream.ended_at:
        info.append(f"Ended {clean.time(stream.ended_at, 'stream end')}.")
    else:
        info.append("Not ended when reported.")
    if stream.viewers:
        info.append(f"{len(stream.viewers)} viewers recorded.")
    if stream.payments:
        totals: dict[str, float] = {}
        for p in stream.payments:
            totals[p.currency] = totals.get(p.currency, 0.0) + p.amount
        sums = ", ".join(f"{v:,.2f} {clean.line(c, 'currency')}" for c, v in sorted(totals.items()))
        info.append(f"{len(stream.payments)} payments or tips ({sums}).")
    _text(chat, "additionalInfo", clean.block(" ".join(info), "stream details", 3000))


def _reporter(root: etree._Element, company: ReportingCompany, clean: FieldCleaner) -> None:
    reporter = _sub(root, "reporter")
    person = _sub(reporter, "reportingPerson")
    _text(person, "firstName", clean.line(company.first_name, "reporter first name"))
    _text(person, "lastName", clean.line(company.last_name, "reporter last name"))
    _text(person, "email", clean.line(company.contact_email, "reporter email"))
    _text(reporter, "companyTemplate", clean.line(company.company, "company"))
    _text(reporter, "termsOfService", clean.line(company.terms_of_service, "terms of service"))
    _text(reporter, "legalURL", clean.line(company.legal_url, "legal URL"))


def _ip_event(parent: etree._Element, event: IpEvent, clean: FieldCleaner) -> None:
    el = _sub(parent, "ipCaptureEvent")
    _sub(el, "ipAddress", event.ip)
    _sub(el, "eventName", IP_EVENT_NAMES[event.event])
    if event.at:
        _sub(el, "dateTime", clean.time(event.at, "IP event time"))
    if event.port is not None:
        _sub(el, "port", str(event.port))


def _location(
    parent: etree._Element,
    clean: FieldCleaner,
    country: str | None,
    city: str | None = None,
    region: str | None = None,
) -> None:
    code = clean.country(country, "country")
    city_text = clean.line(city, "city")
    region_text = clean.line(region, "region")
    if not (code or city_text or region_text):
        return
    loc = _sub(parent, "estimatedLocation")
    loc.set("verified", "false")
    _text(loc, "city", city_text)
    _text(loc, "region", region_text)
    _text(loc, "countryCode", code)


def _reported_person(root: etree._Element, person: _Person, clean: FieldCleaner) -> None:
    user = _sub(root, "personOrUserReported")
    email = clean.line(person.email, "account email")
    if email:
        _text(_sub(user, "personOrUserReportedPerson"), "email", email)
    _text(user, "espIdentifier", clean.line(person.account, "account id"))
    _text(user, "espService", clean.line(person.platform, "account platform"))
    _text(user, "screenName", clean.line(person.name, "screen name"))
    for event in person.ip_events[:MAX_IP_EVENTS]:
        _ip_event(user, event, clean)
    for device in person.devices[:MAX_DEVICES]:
        value = clean.line(device, "device id")
        if value:
            dev = _sub(user, "deviceId")
            _sub(dev, "idType", "Device identifier")
            _sub(dev, "idValue", value)
    hints = [h for r in person.reports for h in r.body.location_hints]
    if hints:
        _location(user, clean, hints[0].country, hints[0].city, hints[0].region)
    for pay in person.billing[:MAX_BILLING]:
        value = clean.line(pay, "billing account")
        if value:
            billing = _sub(user, "associatedAccount")
            billing.set("type", "Billing")
            _sub(billing, "espIdentifier", value)
    if len(person.billing) > MAX_BILLING:
        clean.note(f"{len(person.billing) - MAX_BILLING} more billing accounts not listed")


def _recipients(
    root: etree._Element,
    streams: Sequence[tuple[LiveStream, str | None]],
    person: _Person | None,
    case_reports: Sequence[Report],
    clean: FieldCleaner,
) -> None:
    paid: dict[str, list[str]] = {}
    for report in case_reports:
        stream = report.body.live_stream
        for p in stream.payments if stream else []:
            if p.payer_account:
                paid.setdefault(p.payer_account.strip(), []).append(
                    f"{p.amount:,.2f} {p.currency}"
                    + (f" from billing account {p.payment_account}" if p.payment_account else "")
                )
    viewers = [
        v
        for stream, _ in streams
        for v in stream.viewers
        if (v.account_id or v.ip or v.country)
        and not (person and (v.account_id or "").strip() == person.account)
    ]
    for viewer in viewers[:MAX_RECIPIENTS]:
        rec = _sub(root, "intendedRecipient")
        _text(rec, "espIdentifier", clean.line(viewer.account_id, "viewer account"))
        if viewer.ip:
            _ip_event(rec, IpEvent(ip=viewer.ip, event="stream"), clean)
        _location(rec, clean, viewer.country)
        payments = paid.get((viewer.account_id or "").strip(), [])
        if payments:
            text = f"Viewer of the live stream; paid {len(payments)} times: " + "; ".join(payments)
            _text(rec, "additionalInfo", clean.block(text, "viewer payments", 1000))
    if len(viewers) > MAX_RECIPIENTS:
        clean.note(f"{len(viewers) - MAX_RECIPIENTS} more viewers not listed")


def _report_lines(report: Report, person: _Person | None) -> list[str]:
    body = report.body
    head = f"SafeStream report {report.id} ({body.source.value}"
    lines = [head + (f", {body.detector})" if body.detector else ")") + ":"]
    if body.description.strip():
        lines.append(body.description.strip())
    if body.source is ReportSource.PANIC_BUTTON:
        lines.append("Reported by a viewer with the in-call panic button.")
    if body.media_hashes:
        hashes = ", ".join(f"{h.signal_type.value.upper()} {h.value}" for h in body.media_hashes)
        lines.append(f"Media hashes: {hashes}.")
    for m in body.matches:
        lines.append(
            f"Matched {m.signal_type.value.upper()} entry {m.entry_id} of hash list {m.bank} "
            f"at distance {m.distance} (label {m.label}"
            + (", verified)." if m.verified else ", unverified).")
        )
    if len(body.reported_accounts) > 1 and body.payment_accounts:
        lines.append(
            "Payment accounts named with several accounts: " + ", ".join(body.payment_accounts)
        )
    others = [a for a in body.reported_accounts if not person or a.id.strip() != person.account]
    if others and person:
        lines.append(
            "Also named in this report (reported separately): "
            + ", ".join(f"{a.platform}:{a.id}" for a in others)
        )
    return lines


def _additional_info(
    root: etree._Element, reports: Sequence[Report], person: _Person | None, clean: FieldCleaner
) -> None:
    text = "\n\n".join(" ".join(_report_lines(r, person)) for r in reports)
    notes_room = 600
    body = clean.block(text, "additional information", MAX_ADDITIONAL_INFO - notes_room)
    parts = [body] if body else []
    if clean.notes:
        adjusted = "SafeStream adjusted this report to the CyberTipline schema: "
        notes = clean.block(adjusted + "; ".join(clean.notes) + ".", "notes", notes_room - 2)
        if notes:
            parts.append(notes)
    _text(root, "additionalInfo", "\n\n".join(parts) or None)
