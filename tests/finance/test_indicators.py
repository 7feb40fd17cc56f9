"""Every indicator on a hand-made ledger whose answer is known."""

from __future__ import annotations

from pathlib import Path

from tests.finance.ledgers import features, tx, write


def test_low_value_transfers_count_only_inside_the_window(tmp_path: Path) -> None:
    rows = [tx("1", 0), tx("2", 40), tx("3", 50, amount="500"), tx("4", 60), tx("5", 65)]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["5"]["low_hrj_30"] == 3  # days 40, 60, 65; 500 USD is not low value
    assert f["5"]["hrj_30"] == 4  # day 0 fell out of the 30-day window
    assert f["5"]["low_hrj_90"] == 4
    assert f["5"]["low_hrj_365"] == 4
    assert f["5"]["hrj_total"] == 5


def test_baseline_counts_transfers_under_100_usd_in_30_days(tmp_path: Path) -> None:
    rows = [tx("1", 0, amount="99"), tx("2", 1, amount="100"), tx("3", 2, amount="20")]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["3"]["baseline_30"] == 2


def test_domestic_spending_is_not_a_transfer_into_a_high_risk_country(tmp_path: Path) -> None:
    rows = [tx("1", 0, payee_country="US", payee_id="shop"), tx("2", 1)]
    f = features(write(tmp_path / "l.csv", rows))
    assert "1" not in f
    assert f["2"]["hrj_total"] == 1
    assert f["2"]["dest_risk"] == 1.0


def test_card_purchases_abroad_are_travel_not_transfers(tmp_path: Path) -> None:
    rows = [
        tx("1", 0),
        tx("2", 10, channel="card", merchant_category="hotel", payee_id="H"),
        tx("3", 11, channel="cash", merchant_category="atm", payee_id="ATM"),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["3"]["hrj_total"] == 1
    assert f["3"]["travel_30"] == 2


def test_one_payer_to_many_payees_counts_new_payees_of_an_established_customer(
    tmp_path: Path,
) -> None:
    rows = [
        tx("0", 0, payee_country="US", payee_id="shop"),  # history starts
        tx("1", 70, payee_id="F1"),
        tx("2", 71, payee_id="F2"),
        tx("3", 72, payee_id="F1"),
        tx("4", 73, payee_id="F3"),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["4"]["new_payees_30"] == 3
    assert f["4"]["payees_total"] == 3


def test_payees_paid_at_the_start_of_history_are_not_new_payees(tmp_path: Path) -> None:
    rows = [tx("1", 0, payee_id="F1"), tx("2", 1, payee_id="F2")]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["2"]["new_payees_30"] == 0
    assert f["2"]["payees_total"] == 2


def test_many_payers_to_one_payee_counts_distinct_payers_so_far(tmp_path: Path) -> None:
    rows = [
        tx("1", 0, payer_id="A"),
        tx("2", 1, payer_id="B", payer_country="AU", currency="AUD"),
        tx("3", 2, payer_id="A"),
        tx("4", 3, payer_id="C", payer_country="GB", currency="GBP"),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert [f[k]["payee_payers_total"] for k in "1234"] == [1, 2, 2, 3]
    assert f["4"]["payee_countries_total"] == 3
    assert f["4"]["payee_new_payers_30"] == 3
    assert f["4"]["payee_in_30"] == 4
    assert f["4"]["payee_small_in_30"] == 4


def test_payer_linked_to_a_payee_with_several_payers_counts_hub_links(tmp_path: Path) -> None:
    others = [tx(f"o{i}", i, payer_id=f"P{i}") for i in range(4)]
    rows = [*others, tx("a", 10, payer_id="A"), tx("b", 11, payer_id="A", payee_id="lonely")]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["a"]["payee_payers_total"] == 5
    assert f["b"]["hub_links_30"] == 1


def test_rising_amounts_at_shrinking_gaps_are_escalation(tmp_path: Path) -> None:
    early = [tx(f"e{i}", i * 30, amount="20") for i in range(8)]  # monthly, 20 USD
    late = [tx(f"l{i}", 240 + i * 3, amount="60") for i in range(6)]  # every 3 days, 60 USD
    f = features(write(tmp_path / "l.csv", [*early, *late]))
    last = f["l5"]
    assert last["escalation_amount_ratio"] > 1.5
    assert last["escalation_rate_ratio"] > 2.0
    assert last["is_escalating"] == 1


def test_steady_payments_are_not_escalation(tmp_path: Path) -> None:
    rows = [tx(f"s{i}", i * 14, amount="50") for i in range(20)]
    f = features(write(tmp_path / "l.csv", rows))
    assert all(r["is_escalating"] == 0 for r in f.values())


def test_many_small_payments_at_short_intervals_are_the_prolific_profile(tmp_path: Path) -> None:
    rows = [tx(f"p{i}", i * 5, amount="30") for i in range(22)]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["p20"]["is_prolific"] == 1  # the 21st payment
    assert f["p19"]["is_prolific"] == 0
    assert abs(f["p21"]["hrj_mean_gap_days_365"] - 5.0) < 1e-9


def test_large_payments_are_not_the_prolific_profile(tmp_path: Path) -> None:
    rows = [tx(f"p{i}", i * 5, amount="300") for i in range(22)]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["p21"]["is_prolific"] == 0


def test_value_profile_of_transfers_over_a_year(tmp_path: Path) -> None:
    rows = [tx("1", 0, amount="10"), tx("2", 1, amount="30"), tx("3", 2, amount="50")]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["3"]["hrj_min_usd_365"] == 10
    assert f["3"]["hrj_max_usd_365"] == 50
    assert f["3"]["hrj_avg_usd_365"] == 30
    assert abs(f["3"]["hrj_std_usd_365"] - 20.0) < 1e-9
    assert f["3"]["risk_max_30"] == 1.0


def test_night_is_judged_in_the_payers_local_time(tmp_path: Path) -> None:
    # 13:00 UTC is 23:00 in Australia (UTC+10) but 08:00 in New York (UTC-5).
    au = {"payer_country": "AU", "currency": "AUD"}
    shop = {"payee_id": "shop", "payee_country": "AU", "ts": "2024-01-02T02:00:00Z"}
    rows = [
        tx("au", 0, payer_id="AU1", ts="2024-01-01T13:00:00Z", **au),
        tx("us", 0, payer_id="US1", ts="2024-01-01T13:00:00Z"),
        *[tx(f"d{i}", 0, payer_id="AU1", **au, **shop) for i in range(3)],  # noon local
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["au"]["is_night"] == 1 and f["us"]["is_night"] == 0
    assert f["au"]["night_share_90"] == 1.0
    assert f["au"]["night_excess_90"] == 0.75  # its habit: 1 of 4 payments at night


def test_cover_memos_and_handles_are_found_case_insensitively(tmp_path: Path) -> None:
    rows = [
        tx("1", 0, memo="School FEES"),
        tx("2", 1, memo="add me @sweetie"),
        tx("3", 2, memo="invoice 42"),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert [f[k]["is_memo"] for k in "123"] == [1, 1, 0]
    assert f["3"]["memo_hrj_90"] == 2


def test_even_amounts_are_counted_in_the_sending_currency(tmp_path: Path) -> None:
    rows = [tx("1", 0, amount="50"), tx("2", 1, amount="49.99"), tx("3", 2, amount="1000")]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["3"]["even_hrj_90"] == 2


def test_channel_switches_count_changes_between_consecutive_transfers(tmp_path: Path) -> None:
    channels = ["remittance", "bank", "bank", "crypto", "remittance"]
    rows = [tx(str(i), i, channel=c) for i, c in enumerate(channels)]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["4"]["switches_90"] == 3
    assert f["4"]["crypto_hrj_90"] == 1


def test_vpn_and_livestream_purchases_are_counted(tmp_path: Path) -> None:
    rows = [
        tx("1", 0, channel="card", merchant_category="vpn", payee_id="V", payee_country="US"),
        tx("2", 5, channel="card", merchant_category="livestream_platform", payee_country="US"),
        tx("3", 6),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["3"]["purchases_365"] == 2


def test_travel_after_escalation_is_the_sequence_rule(tmp_path: Path) -> None:
    early = [tx(f"e{i}", i * 30, amount="20") for i in range(8)]
    late = [tx(f"l{i}", 240 + i * 3, amount="60") for i in range(6)]
    trip = [tx("fly", 265, channel="card", merchant_category="airline", payee_id="PAL")]
    f = features(write(tmp_path / "l.csv", [*early, *late, *trip]))
    assert f["fly"]["escalated_90"] == 1
    assert f["fly"]["travel_after_escalation"] == 1


def test_travel_without_escalation_is_not_the_sequence_rule(tmp_path: Path) -> None:
    rows = [
        tx("1", 0),
        tx("fly", 20, channel="card", merchant_category="airline", payee_id="PAL"),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["fly"]["travel_30"] == 1
    assert f["fly"]["travel_after_escalation"] == 0


def test_new_corridor_counts_for_an_established_customer_only(tmp_path: Path) -> None:
    rows = [
        tx("0", 0, payer_id="OLD", payee_id="shop", payee_country="US"),
        tx("1", 90, payer_id="OLD"),
        tx("2", 91, payer_id="OLD", payee_id="T", payee_country="TH"),
        tx("3", 0, payer_id="NEW"),
    ]
    f = features(write(tmp_path / "l.csv", rows))
    assert f["1"]["is_new_corridor"] == 1
    assert f["2"]["new_corridors_90"] == 2
    assert f["3"]["is_new_corridor"] == 0


def test_regular_schedules_have_a_low_spread_of_gaps(tmp_path: Path) -> None:
    regular = [tx(f"r{i}", i * 30, payer_id="R") for i in range(10)]
    irregular_days = [0, 2, 30, 31, 80, 150, 151, 152, 200, 290]
    irregular = [tx(f"i{i}", d, payer_id="I") for i, d in enumerate(irregular_days)]
    f = features(write(tmp_path / "l.csv", [*regular, *irregular]))
    assert f["r9"]["gap_cv_365"] < 0.01
    assert f["i9"]["gap_cv_365"] > 0.8
