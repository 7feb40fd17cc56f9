"""Reports: intake (validation, idempotency, durable storage), encrypted evidence, CyberTip export.

SafeStream's own detectors (the media matcher, the live monitor, finance alerts) hand reports and
their detection events to `DetectorSink(db, detector=...).emit(report, events)`; platforms use
`POST /v1/reports`.
"""

from safestream.reports.intake import DetectorSink, IntakeService

__all__ = ["DetectorSink", "IntakeService"]
