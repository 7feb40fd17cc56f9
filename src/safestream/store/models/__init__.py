"""All tables; importing this module registers every part's models on `Base.metadata`."""

from safestream.store.base import Base
from safestream.store.models import access, audit, cases, cybertip, exchange, media, reports

__all__ = ["Base", "access", "audit", "cases", "cybertip", "exchange", "media", "reports"]
