"""The label distribution of rows where every source abstained.

Sources do not abstain at random: a spam keyword stays silent on most ham. So the rows no
source covers are not distributed like the class prior. This module estimates
P(y | all sources abstain) from the abstain pattern, holding the label model's
posteriors fixed on covered rows and iterating (EM) on the shared posterior ``u`` of the
uncovered ones:

    P(abstain_j | y = c) = sum_i p_ic [j abstains on i] / sum_i p_ic
    u_c  ∝  prior_c * prod_j P(abstain_j | y = c)
"""

from __future__ import annotations

import numpy as np

from ..matrix import LabelMatrix


def abstain_posterior(L: LabelMatrix, proba: np.ndarray, covered: np.ndarray | None = None,
                      n_iter: int = 50, smoothing: float = 1.0) -> np.ndarray:
    """P(y | no source voted), shape (k,).

    Parameters
    ----------
    L : (N, M) votes
    proba : (N, k) label-model posteriors (used on covered rows only)
    covered : (N,) bool, default rows with at least one vote
    smoothing : pseudo-count added to each (source, class) abstain and vote count
    """
    proba = np.asarray(proba, dtype=np.float64)
    n, k = proba.shape
    if covered is None:
        covered = np.diff(L.indptr) > 0
    n_unc = int((~covered).sum())
    # votes per (source, class-posterior): V[j, c] = sum over rows where j voted of p_ic
    row_of_vote = np.repeat(np.arange(n), np.diff(L.indptr))
    u = np.full(k, 1.0 / k)
    cov_mass = proba[covered].sum(axis=0)
    vote_mass = np.zeros((L.n_sources, k))
    np.add.at(vote_mass, L.sources, proba[row_of_vote])
    for _ in range(n_iter):
        mass = cov_mass + n_unc * u
        prior = mass / mass.sum()
        p_abstain = (mass[None, :] - vote_mass + smoothing) / (mass[None, :] + 2 * smoothing)
        with np.errstate(divide="ignore"):  # a class no row has mass in (no source votes it) gets u_c = 0
            log_u = np.log(prior) + np.log(np.clip(p_abstain, 1e-12, 1.0)).sum(axis=0)
        new = np.exp(log_u - log_u.max())
        new /= new.sum()
        if np.abs(new - u).max() < 1e-9:
            u = new
            break
        u = new
    return u
