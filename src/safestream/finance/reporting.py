"""Alerts to the store: one detector report per flagged account, linking payment accounts to cases.

Each report names the flagged account and the flagged accounts on the other side of its payments
as payment accounts, so the case engine joins a payer, the facilitators it paid and the other
payers of those facilitators into one case. Each report goes to the detectors' `EventSink` with a
`PaymentPatternFound` event carrying the account's real score and the flag threshold it was cut at
(triage reads how far above the threshold the strongest pattern of a case is), idempotently:
scoring the same ledger again files nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from safestream.core.cases import Decision
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput
from safestream.core.events import PaymentPatternFound
from safestream.core.principal import Principal
from safestream.core.reports import IncidentType, ReportIn
from safestream.finance.alerts import FLAG_THRESHOLD_KEY
from safestream.finance.engine import LedgerEngine
from safestream.finance.evaluate import POSITIVE, Labels
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.detector_outcomes import DetectorOutcomeRepository

MAX_LINKED = 99  # ReportIn allows 100 payment accounts: the account itself plus 99 others
FINANCE_SOURCE = "finance"


@dataclass(frozen=True)
class FiledReport:
    """What filing one alert produced."""

    role: str
    account_id: str
    report_id: str
    case_id: int | None


def counterparties(engine: LedgerEngine, alerts: pa.Table) -> dict[tuple[str, str], list[str]]:
    """Per flagged account: the flagged accounts it paid or was paid by, most payments first."""
    engine.register("alerted", alerts.select(["role", "account_id"]))
    rows = engine.query(
        """
SELECT f.payer_id, f.payee_id, COUNT(*) AS n
FROM features f
JOIN alerted a ON a.role = 'payer' AND a.account_id = f.payer_id
JOIN alerted b ON b.role = 'payee' AND b.account_id = f.payee_id
WHERE f.is_transfer = 1
GROUP BY f.payer_id, f.payee_id
ORDER BY n DESC, f.payer_id, f.payee_id"""
    ).to_pylist()
    links: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        links.setdefault(("payer", r["payer_id"]), []).append(r["payee_id"])
        links.setdefault(("payee", r["payee_id"]), []).append(r["payer_id"])
    return links


def report_for(alert: dict[str, Any], linked: list[str]) -> ReportIn:
    """The detector report of one alert row."""
    role, account = str(alert["role"]), str(alert["account_id"])
    others = [a for a in linked if a != account][:MAX_LINKED]
    description = (
        f"finance: {role} {account} scored {float(alert['score']):.2f} "
        f"(rank {alert['rank']} of flagged {role}s); first flagged at transaction "
        f"{alert['first_flag_tx_id']}. Reasons: {alert['reasons']}"
    )
    return ReportIn(
        payment_accounts=[account, *others],
        incident_type=IncidentType.CHILD_SEX_TRAFFICKING,
        description=description[:20_000],
        idempotency_key=f"finance:{role}:{account}",
    )


def pattern_found(
    alert: dict[str, Any], linked: list[str], flag_threshold: float
) -> PaymentPatternFound:
    """The detection event of one alert row: the account's score and what it was cut at."""
    account = str(alert["account_id"])
    return PaymentPatternFound(
        at=utcnow(),
        payment_account=account,
        role=str(alert["role"]),
        score=float(alert["score"]),
        flag_threshold=flag_threshold,
        reasons=str(alert["reasons"]),
        counterparties=tuple(a for a in linked if a != account)[:MAX_LINKED],
    )


def flag_threshold_of(alerts: pa.Table) -> float:
    """The flag threshold an alerts table (`alerts_table`) was cut at."""
    metadata = alerts.schema.metadata or {}
    value = metadata.get(FLAG_THRESHOLD_KEY.encode())
    if value is None:
        raise InvalidInput("alerts table does not say its flag threshold; score the ledger again")
    return float(value)


def file_alerts(
    engine: LedgerEngine,
    alerts: pa.Table,
    db: Database,
    settings: Settings | None = None,
    limit_per_role: int | None = None,
) -> list[FiledReport]:
    """File the alerts (the top `limit_per_role` of each role) as detector reports."""
    from safestream.reports.intake import DetectorSink

    threshold = flag_threshold_of(alerts)
    links = counterparties(engine, alerts)
    sink = DetectorSink(db, detector=FINANCE_SOURCE, settings=settings)
    filed = []
    for alert in alerts.to_pylist():
        if limit_per_role is not None and int(alert["rank"]) > limit_per_role:
            continue
        key = (str(alert["role"]), str(alert["account_id"]))
        linked = links.get(key, [])
        report = sink.emit(report_for(alert, linked), [pattern_found(alert, linked, threshold)])
        filed.append(FiledReport(key[0], key[1], report.id, report.case_id))
    return filed


def decisions_from_store(db: Database, principal: Principal | None = None) -> Labels:
    """Analysts' decisions on filed finance alerts, as labels for `learning`.

    With `principal`, only the cases and reports it may see count (the store's tenant scope);
    without, the installation operator's view (the CLI on the operator's own store).

    Each filed alert names its account in its idempotency key (`finance:role:account`); the
    decision on its case (after any merge) labels it: confirm or refer make it an offender or a
    facilitator, dismiss makes it `dismissed`. Open and escalated cases teach nothing yet.
    """
    # The system principal sees every case and report, as the operator's own CLI does.
    acting = principal or Principal.system(FINANCE_SOURCE)
    by_role: dict[str, dict[str, tuple[str, str]]] = {"payer": {}, "payee": {}}
    for outcome in DetectorOutcomeRepository(db).outcomes(acting, FINANCE_SOURCE):
        parts = str(outcome.idempotency_key or "").split(":", 2)
        if len(parts) != 3 or parts[0] != FINANCE_SOURCE or parts[1] not in by_role:
            continue
        if outcome.decision in (Decision.CONFIRM, Decision.REFER):
            by_role[parts[1]][parts[2]] = (POSITIVE[parts[1]], "")
        elif outcome.decision is Decision.DISMISS:
            by_role[parts[1]][parts[2]] = ("dismissed", "")
    return Labels(by_role)
