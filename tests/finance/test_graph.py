"""Personalised PageRank spreads suspicion from seeds to their payment neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from safestream.finance.graph import neighbour_share, personalised_pagerank


def _chain() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # payer 0 - payee 1 - payer 2 - payee 3 - payer 4 ; node 5 is isolated
    src = np.array([0, 2, 2, 4])
    dst = np.array([1, 1, 3, 3])
    return src, dst, np.ones(4)


def test_rank_is_a_probability_distribution() -> None:
    src, dst, w = _chain()
    restart = np.zeros(6)
    restart[0] = 1.0
    rank = personalised_pagerank(src, dst, w, 6, restart)
    assert rank.sum() == pytest.approx(1.0)
    assert (rank >= 0).all()


def test_suspicion_falls_with_distance_from_the_seed() -> None:
    src, dst, w = _chain()
    restart = np.zeros(6)
    restart[0] = 1.0
    share = neighbour_share(personalised_pagerank(src, dst, w, 6, restart), restart, 0.85)
    assert share[1] > share[2] > share[3] > share[4] > 0
    assert share[5] == 0.0


def test_no_seeds_means_no_suspicion() -> None:
    src, dst, w = _chain()
    rank = personalised_pagerank(src, dst, w, 6, np.zeros(6))
    assert not rank.any()


def test_a_payee_paid_by_two_seeds_outranks_one_paid_by_one() -> None:
    # seeds 0 and 2 both pay payee 1; seed 0 alone pays payee 3
    src = np.array([0, 2, 0])
    dst = np.array([1, 1, 3])
    restart = np.array([1.0, 0, 1.0, 0])
    share = neighbour_share(personalised_pagerank(src, dst, np.ones(3), 4, restart), restart, 0.85)
    assert share[1] > share[3]


def test_restart_vector_must_match_the_nodes() -> None:
    src, dst, w = _chain()
    with pytest.raises(ValueError):
        personalised_pagerank(src, dst, w, 6, np.ones(3))
