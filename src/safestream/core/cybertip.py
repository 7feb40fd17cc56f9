"""CyberTipline terms the store and the reporting code share: NCMEC services, submission states."""

from __future__ import annotations

from enum import StrEnum


class NcmecEnvironment(StrEnum):
    """NCMEC's two services; test reports never reach NCMEC's analysts."""

    TEST = "test"
    PRODUCTION = "production"

    @property
    def default_url(self) -> str:
        """NCMEC's base URL of this environment."""
        if self is NcmecEnvironment.PRODUCTION:
            return "https://report.cybertip.org/ispws"
        return "https://exttest.cybertip.org/ispws"


class SubmissionState(StrEnum):
    """Where a submission is: draft -> opened -> finished, or retracted / failed."""

    DRAFT = "draft"
    OPENED = "opened"
    FINISHED = "finished"
    RETRACTED = "retracted"
    FAILED = "failed"
