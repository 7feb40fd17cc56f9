"""Tables of access: organisations, users, API keys, console sessions, login attempts, wellbeing,
shifts, views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safestream.store.base import Base, utcnow


class OrganisationRow(Base):
    """A platform, hotline or agency using SafeStream."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # platform, operator or agency (core.principal.OrgKind): decides what it may see.
    kind: Mapped[str] = mapped_column(String(16), default="platform")
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserRow(Base):
    """A person who signs in to the console; `password_hash` is Argon2id."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKeyRow(Base):
    """An organisation's API key; only its SHA-256 is stored (keys are long random tokens)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PanicKeyRow(Base):
    """A publishable panic-button key: only its SHA-256 is stored; it works only from its
    `origins` (space-separated) and for stream ids starting with `stream_prefix`."""

    __tablename__ = "panic_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    origins: Mapped[str] = mapped_column(Text)
    stream_prefix: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsoleSessionRow(Base):
    """A logged-in console session; the cookie holds the token, the store only its SHA-256."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # logout, password_changed, user_disabled
    ended_because: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LoginAttemptRow(Base):
    """A console login (or password check) counted against its account and client address.

    Counted in the store so every server process sees every attempt; `key_hash` is the SHA-256 of
    `account:EMAIL` or `address:IP` (no typed text is kept). A right password takes its attempt
    back; the rest expire after the throttle's window.
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (Index("ix_login_attempts_key_hash_attempted_at", "key_hash", "attempted_at"),)


class WellbeingPreferenceRow(Base):
    """A reviewer's display preferences; safe defaults (blurred, grayscale, muted)."""

    __tablename__ = "wellbeing_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blur: Mapped[bool] = mapped_column(Boolean, default=True)
    grayscale: Mapped[bool] = mapped_column(Boolean, default=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=True)
    exposure_budget: Mapped[int] = mapped_column(Integer, default=20)


class ShiftRow(Base):
    """A reviewer's shift; media views inside it count against the exposure budget."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    budget: Mapped[int] = mapped_column(Integer)


class MediaViewRow(Base):
    """One time a person saw a file (hotlines and NCMEC need to know whether it was seen)."""

    __tablename__ = "media_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    evidence_id: Mapped[str] = mapped_column(String(36), index=True)
    shift_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
