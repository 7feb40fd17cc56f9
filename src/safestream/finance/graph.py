"""Network expansion: personalised PageRank over the payer-payee graph.

From seed accounts (flagged by the rules, or known from investigations), a random walk that
restarts at the seeds spreads suspicion to the accounts that pay the same payees or are paid by
the same payers: AUSTRAC's "identify one offender, find the whole network".
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def personalised_pagerank(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    n_nodes: int,
    restart: np.ndarray,
    damping: float = 0.85,
    iterations: int = 40,
) -> np.ndarray:
    """Stationary visit probabilities of a walk on the undirected graph restarting at `restart`.

    `src`, `dst` and `weight` list edges between node indices; `restart` is a non-negative
    vector over nodes (normalised here). Nodes without edges send their mass back to the seeds.
    """
    if restart.shape != (n_nodes,):
        raise ValueError("restart must have one entry per node")
    total = float(restart.sum())
    if total <= 0:
        return np.zeros(n_nodes)
    p = restart / total
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    vals = np.concatenate([weight, weight]).astype(np.float64)
    adj = sp.csr_matrix((vals, (rows, cols)), shape=(n_nodes, n_nodes))
    degree = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    walk = sp.diags(inv) @ adj  # row-stochastic where degree > 0
    dangling = degree == 0
    rank = p.copy()
    for _ in range(iterations):
        spread = walk.T @ rank
        lost = rank[dangling].sum()
        rank = damping * (spread + lost * p) + (1 - damping) * p
    return np.asarray(rank)


def neighbour_share(rank: np.ndarray, restart: np.ndarray, damping: float) -> np.ndarray:
    """PageRank earned through edges (own restart mass removed), as a share of the highest."""
    total = float(restart.sum())
    own = (1 - damping) * restart / total if total > 0 else np.zeros_like(rank)
    earned = np.clip(rank - own, 0, None)
    top = float(earned.max()) if len(earned) else 0.0
    return np.asarray(earned / top if top > 0 else earned)
