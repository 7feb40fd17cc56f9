"""Reports: what one source said, validated at the edge (pydantic), with the entities it names.

`ReportIn` is what a platform, the panic button, a detector or an imported tip submits; `Report` is
what the store holds after intake (an id, the organisation, when it arrived, its case).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from safestream.core.entities import Entity, EntityKind, normalize_identifier_text
from safestream.core.errors import InvalidInput
from safestream.core.signals import SignalType, normalize_hash


class IncidentType(StrEnum):
    """The NCMEC CyberTipline incident types; `ncmec_label` is the exact text the XSD expects."""

    CHILD_PORNOGRAPHY = "child_pornography"
    CHILD_SEX_TRAFFICKING = "child_sex_trafficking"
    CHILD_SEX_TOURISM = "child_sex_tourism"
    CHILD_SEXUAL_MOLESTATION = "child_sexual_molestation"
    MISLEADING_DOMAIN_NAME = "misleading_domain_name"
    MISLEADING_WORDS_OR_IMAGES = "misleading_words_or_images"
    ONLINE_ENTICEMENT = "online_enticement"
    UNSOLICITED_OBSCENE_MATERIAL = "unsolicited_obscene_material"

    @property
    def ncmec_label(self) -> str:
        """The incident type as written in the CyberTipline schema."""
        return NCMEC_INCIDENT_LABELS[self]


NCMEC_INCIDENT_LABELS: dict[IncidentType, str] = {
    IncidentType.CHILD_PORNOGRAPHY: "Child Pornography (possession, manufacture, and distribution)",
    IncidentType.CHILD_SEX_TRAFFICKING: "Child Sex Trafficking",
    IncidentType.CHILD_SEX_TOURISM: "Child Sex Tourism",
    IncidentType.CHILD_SEXUAL_MOLESTATION: "Child Sexual Molestation",
    IncidentType.MISLEADING_DOMAIN_NAME: "Misleading Domain Name",
    IncidentType.MISLEADING_WORDS_OR_IMAGES: "Misleading Words or Digital Images on the Internet",
    IncidentType.ONLINE_ENTICEMENT: "Online Enticement of Children for Sexual Acts",
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL: "Unsolicited Obscene Material Sent to a Child",
}


class ReportSource(StrEnum):
    """Who sent a report."""

    PLATFORM = "platform"
    PANIC_BUTTON = "panic_button"
    DETECTOR = "detector"
    TIP = "tip"


def _ip(value: str) -> str:
    try:
        return ipaddress.ip_address(value.strip()).compressed
    except ValueError as exc:
        raise ValueError("not an IPv4 or IPv6 address") from exc


def refuse_control_characters(value: str) -> str:
    """Pydantic validator for identifier text: NFKC form; refuse controls and invisible characters.

    Same rule as linking (`normalize_identifier_text`), so what is stored is what links."""
    try:
        return normalize_identifier_text(value)
    except InvalidInput as exc:
        # pydantic names the field only for ValueError.
        raise ValueError(str(exc)) from None


def _email(value: str) -> str:
    text = value.strip()
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or " " in text:
        raise ValueError("not an email address")
    return text.lower()


def _country(value: str) -> str:
    text = value.strip().upper()
    if len(text) != 2 or not text.isalpha() or not text.isascii():
        raise ValueError("use an ISO 3166-1 alpha-2 country code such as 'PH'")
    return text


IpText = Annotated[str, Field(max_length=64), AfterValidator(_ip)]
EmailText = Annotated[
    str, Field(max_length=254), AfterValidator(refuse_control_characters), AfterValidator(_email)
]
# An optional identifier (viewer, payer): same normalisation, no minimum length.
OptionalIdText = Annotated[str, Field(max_length=256), AfterValidator(refuse_control_characters)]
CountryCode = Annotated[str, Field(max_length=2), AfterValidator(_country)]
# Identifiers: surrounding spaces dropped, so a blank one is refused instead of linking on "".
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=256),
    AfterValidator(refuse_control_characters),
]
LongText = Annotated[str, Field(max_length=20_000)]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IpEvent(_Part):
    """An IP address seen for an account, and at what kind of event (NCMEC `ipCaptureEvent`)."""

    ip: IpText
    event: Literal["login", "registration", "purchase", "upload", "stream", "other"] = "other"
    at: datetime | None = None
    port: int | None = Field(default=None, ge=0, le=65535)


class ReportedAccount(_Part):
    """An account on a platform that the report is about."""

    platform: ShortText
    id: ShortText
    name: Annotated[str, Field(max_length=256)] | None = None
    email: EmailText | None = None
    ip_events: list[IpEvent] = Field(default_factory=list, max_length=100)
    devices: list[ShortText] = Field(default_factory=list, max_length=20)


class Reporter(_Part):
    """Who reports; every field is optional so a viewer may stay anonymous."""

    name: Annotated[str, Field(max_length=256)] | None = None
    email: EmailText | None = None
    organisation: Annotated[str, Field(max_length=256)] | None = None


class Platform(_Part):
    """The service the abuse happened on; its country steers routing."""

    name: ShortText
    country: CountryCode | None = None


class Viewer(_Part):
    """A viewer of a live stream."""

    account_id: OptionalIdText | None = None
    country: CountryCode | None = None
    ip: IpText | None = None


class Payment(_Part):
    """A payment or tip seen on a live stream."""

    payer_account: OptionalIdText | None = None
    # Optional: blank means none given (skipped), unlike the required identifiers.
    payment_account: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=256),
            AfterValidator(refuse_control_characters),
        ]
        | None
    ) = None
    amount: float = Field(ge=0, le=1e12)
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    at: datetime | None = None


class LiveStream(_Part):
    """Fields of a live stream; no `ended_at` means the stream was live when reported."""

    stream_id: ShortText
    started_at: datetime | None = None
    ended_at: datetime | None = None
    private: bool = False
    viewers: list[Viewer] = Field(default_factory=list, max_length=10_000)
    payments: list[Payment] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _ends_after_start(self) -> LiveStream:
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class MediaHash(_Part):
    """A hash of reported media, in canonical form."""

    signal_type: SignalType
    value: Annotated[str, Field(max_length=128)]

    @model_validator(mode="after")
    def _valid_hash(self) -> MediaHash:
        # normalize_hash raises InvalidSignal; pydantic needs ValueError to name the field.
        try:
            canonical = normalize_hash(self.signal_type, self.value)
        except Exception as exc:
            raise ValueError(str(exc)) from exc
        object.__setattr__(self, "value", canonical)
        return self


class MediaFile(_Part):
    """Media attached to a report; stored encrypted only under an evidence hold."""

    filename: Annotated[str, Field(min_length=1, max_length=256)]
    content_type: Annotated[str, Field(max_length=128)] = "application/octet-stream"
    data_base64: Annotated[str, Field(min_length=1, max_length=14_000_000)]


class LocationHint(_Part):
    """Where the abuse or a party may be, and how that is known."""

    country: CountryCode
    region: Annotated[str, Field(max_length=128)] | None = None
    city: Annotated[str, Field(max_length=128)] | None = None
    source: Literal["ip", "reporter", "platform", "investigator", "other"] = "other"


MAX_MEDIA_SECONDS = 7 * 24 * 3600  # a week of stream: longer is a wrong unit, not a video


class MatchedEntry(_Part):
    """A bank match a detector found for this report's media."""

    bank: ShortText
    entry_id: int = Field(ge=0, le=2**31 - 1)
    signal_type: SignalType
    value: Annotated[str, Field(max_length=128)]
    distance: int = Field(ge=0, le=256)
    label: Annotated[str, Field(max_length=32)] = "unclassified"
    verified: bool = True
    # Where in the reported video the match was found (seconds from its start); None: an image.
    t: float | None = Field(default=None, ge=0, le=MAX_MEDIA_SECONDS)


class ReportIn(_Part):
    """A report as submitted, before intake gives it an id."""

    source: ReportSource = ReportSource.PLATFORM
    detector: Annotated[str, Field(max_length=64)] | None = None
    reporter: Reporter | None = None
    platform: Platform | None = None
    reported_accounts: list[ReportedAccount] = Field(default_factory=list, max_length=100)
    payment_accounts: list[ShortText] = Field(default_factory=list, max_length=100)
    incident_type: IncidentType = IncidentType.CHILD_PORNOGRAPHY
    incident_at: datetime | None = None
    description: LongText = ""
    child_in_danger: bool = False
    live_stream: LiveStream | None = None
    media_hashes: list[MediaHash] = Field(default_factory=list, max_length=1000)
    matches: list[MatchedEntry] = Field(default_factory=list, max_length=1000)
    media: list[MediaFile] = Field(default_factory=list, max_length=10)
    evidence_hold: bool = False
    location_hints: list[LocationHint] = Field(default_factory=list, max_length=50)
    idempotency_key: Annotated[str, Field(min_length=1, max_length=128)] | None = None

    def entities(self) -> list[Entity]:
        """Every identifier this report names, deduplicated, in a stable order."""
        found: list[Entity] = []
        for acc in self.reported_accounts:
            found.append(Entity.of(EntityKind.ACCOUNT, f"{acc.platform}:{acc.id}"))
            if acc.email:
                found.append(Entity.of(EntityKind.EMAIL, acc.email))
            found.extend(Entity.of(EntityKind.IP, e.ip) for e in acc.ip_events)
            found.extend(Entity.of(EntityKind.DEVICE, d) for d in acc.devices)
        found.extend(Entity.of(EntityKind.PAYMENT_ACCOUNT, p) for p in self.payment_accounts)
        if self.live_stream:
            found.append(Entity.of(EntityKind.STREAM, self.live_stream.stream_id))
            found.extend(
                Entity.of(EntityKind.PAYMENT_ACCOUNT, p.payment_account)
                for p in self.live_stream.payments
                if p.payment_account
            )
        for h in self.media_hashes:
            found.append(Entity.of(EntityKind.MEDIA_HASH, f"{h.signal_type.value}:{h.value}"))
        return list(dict.fromkeys(found))

    def country_hints(self) -> list[tuple[str, str]]:
        """(country, how it is known) for every location hint and stream viewer."""
        hints = [(h.country, "location hint") for h in self.location_hints]
        if self.live_stream:
            hints += [(v.country, "stream viewer") for v in self.live_stream.viewers if v.country]
        return list(dict.fromkeys(hints))

    @property
    def live_now(self) -> bool:
        """True when the report is about a live stream that had not ended."""
        return self.live_stream is not None and self.live_stream.ended_at is None


class ReportStatus(StrEnum):
    """Intake stores a report as `received`; linking makes it `linked` to a case."""

    RECEIVED = "received"
    LINKED = "linked"


class Report(BaseModel):
    """A stored report: the submission plus what intake added."""

    model_config = ConfigDict(frozen=True)

    id: str
    org: str
    received_at: datetime
    status: ReportStatus
    case_id: int | None = None
    evidence_ids: list[str] = Field(default_factory=list)
    body: ReportIn
