"""Reports: intake (validation, idempotency, durable storage), encrypted evidence, CyberTip export.

`submit_report(db, report, source=...)` is the entry point for SafeStream's own detectors (the
media matcher, the live monitor, finance alerts); platforms use `POST /v1/reports`.
"""

from safestream.reports.intake import IntakeService, submit_report

__all__ = ["IntakeService", "submit_report"]
