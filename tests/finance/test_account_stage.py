"""The account stage: peer groups, benign explanations as reasons, and community ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safestream.finance.alerts import ScoredAccounts, compute_features, score_accounts
from safestream.finance.engine import DuckDBEngine
from safestream.finance.scoring import load_scoring
from tests.finance.ledgers import tx, write

# START (tests.finance.ledgers) is Monday 2024-01-01 12:00 UTC; New York is UTC-5.
OFFICE = 3 / 24  # 15:00 UTC = 10:00 in New York
LATE = 16 / 24  # 04:00 UTC next day = 23:00 in New York


def _score(tmp_path: Path, rows: list[dict[str, Any]]) -> ScoredAccounts:
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", rows))
    return score_accounts(engine, load_scoring())


def _row(scored: ScoredAccounts, role: str, account: str) -> dict[str, Any]:
    return next(r for r in scored.role(role).to_pylist() if r["account_id"] == account)


def _weekday(k: int) -> int:
    return 7 * (k // 5) + k % 5


def test_a_company_paying_staff_by_invoice_in_office_hours_gets_benign_reasons(
    tmp_path: Path,
) -> None:
    rows = [
        tx(f"b{k}", _weekday(k) + OFFICE, payer_id="B", payee_id=f"V{k % 6}", memo=f"INV-{k}")
        for k in range(18)
    ]
    scored = _score(tmp_path, rows)
    b = _row(scored, "payer", "B")
    assert "office_hours=" in b["reasons"] and "invoice_memos=" in b["reasons"]
    assert b["account_points"] < 0
    assert b["score"] < b["rule_score"]


def test_the_same_pattern_late_at_night_with_cover_memos_gets_no_benign_reason(
    tmp_path: Path,
) -> None:
    rows = [
        tx(f"n{k}", _weekday(k) + LATE, payer_id="N", payee_id=f"V{k % 6}", memo="gift")
        for k in range(18)
    ]
    n = _row(_score(tmp_path, rows), "payer", "N")
    assert "office_hours" not in n["reasons"] and "invoice_memos" not in n["reasons"]


def test_long_regular_family_support_is_listed_as_a_benign_reason(tmp_path: Path) -> None:
    rows = [
        tx(f"f{m}", 30 * m + LATE, payer_id="S", payee_id="MUM", amount="150") for m in range(12)
    ]
    s = _row(_score(tmp_path, rows), "payer", "S")
    assert "stable_relationship=" in s["reasons"]


def _suspicious_payer(name: str, payee: str, start: int) -> list[dict[str, Any]]:
    return [
        tx(f"{name}{i}", start + i * 2 + LATE, payer_id=name, payee_id=payee, amount="30",
           memo="school fees")
        for i in range(12)
    ]  # fmt: skip


def _community_ledger() -> list[dict[str, Any]]:
    rows = _suspicious_payer("X1", "F", 0) + _suspicious_payer("X2", "F", 1)
    rows += _suspicious_payer("X3", "F", 2)
    rows.append(tx("once", 40 + OFFICE, payer_id="ONCE", payee_id="F", amount="40"))
    # A busy payee of unremarkable payers: ten people giving once.
    rows += [
        tx(f"g{i}", i + OFFICE, payer_id=f"G{i}", payee_id="HUB", amount="20") for i in range(10)
    ]
    return rows


def test_a_payee_whose_payers_look_like_offenders_outranks_a_busy_payee(tmp_path: Path) -> None:
    scored = _score(tmp_path, _community_ledger())
    f, hub = _row(scored, "payee", "F"), _row(scored, "payee", "HUB")
    assert "community=" in f["reasons"] and "community=" not in hub["reasons"]
    assert f["score"] > hub["score"]


def test_a_one_off_payer_of_a_suspicious_payee_is_raised_by_its_community(tmp_path: Path) -> None:
    scored = _score(tmp_path, _community_ledger())
    once, giver = _row(scored, "payer", "ONCE"), _row(scored, "payer", "G0")
    assert "community=" in once["reasons"] and "(F)" in once["reasons"]
    assert once["score"] >= scored.threshold > giver["score"]
    assert once["first_flag_tx_id"] == "once"


def test_amounts_are_compared_with_peers_in_the_same_corridor(tmp_path: Path) -> None:
    rows = [
        tx(f"p{i}-{k}", i + 30 * k + OFFICE, payer_id=f"P{i}", payee_id=f"R{i}", amount="200")
        for i in range(25)
        for k in range(2)
    ]
    rows += [
        tx(f"low{k}", 3 * k + OFFICE, payer_id="LOW", payee_id="Q", amount="20") for k in range(3)
    ]
    low = _row(_score(tmp_path, rows), "payer", "LOW")
    assert "low_vs_peers=0.1" in low["reasons"]


def test_invoice_memos_are_recognised_in_their_usual_spellings(tmp_path: Path) -> None:
    memos = ["INV1234", "inv-22", "Invoice #3", "VA services May", "Payroll", "PO 991"]
    others = ["school fees", "gift", "inventory", "for the kids", "@angel7", ""]
    rows = [tx(str(i), i, memo=m) for i, m in enumerate(memos + others)]
    engine = DuckDBEngine()
    engine.load(write(tmp_path / "l.csv", rows))
    config = load_scoring()
    compute_features(engine, config, ["tx_id", "is_invoice"])
    rows_out = engine.query("SELECT tx_id, is_invoice FROM features").to_pylist()
    flags = {r["tx_id"]: r["is_invoice"] for r in rows_out}
    assert [flags[str(i)] for i in range(len(memos))] == [1] * len(memos)
    assert [flags[str(len(memos) + i)] for i in range(len(others))] == [0] * len(others)
