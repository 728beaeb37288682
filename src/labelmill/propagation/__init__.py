"""Propagation: spread label-model probabilities over a kNN graph of the examples' features
to the rows no source covers, and score covered rows whose label disagrees with their
neighbourhood.
"""

from .abstain_prior import abstain_posterior
from .denoise import disagreement_scores, neighbourhood_distribution, worst_rows
from .graph import approximate_knn, check_features, exact_knn, knn_graph
from .propagator import LabelPropagator
from .selection import DEFAULT_GRID, select_propagator
from .spreading import confidence_anchor, normalized_graph, scores_to_proba, spread

__all__ = ["LabelPropagator", "select_propagator", "DEFAULT_GRID", "abstain_posterior", "knn_graph", "exact_knn", "approximate_knn", "check_features", "normalized_graph",
           "spread", "confidence_anchor", "scores_to_proba", "neighbourhood_distribution", "disagreement_scores",
           "worst_rows"]
