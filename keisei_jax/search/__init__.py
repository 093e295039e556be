"""Search over the rules engine: Gumbel MuZero (mctx) with the network as prior and value."""

from keisei_jax.search.settings import (
    CONSIDERED_ACTIONS,
    MATE_CANDIDATES,
    MATE_FIVE_RETRIES,
    MATE_THREAT_MOVES,
    Q_TRANSFORMS,
    SearchSettings,
)
from keisei_jax.search.tree_search import (
    MAX_LEGAL_MOVES,
    Node,
    SearchOutput,
    legal_slots,
    q_transform_fn,
    search,
)

__all__ = ["CONSIDERED_ACTIONS", "MATE_CANDIDATES", "MATE_FIVE_RETRIES", "MATE_THREAT_MOVES",
           "MAX_LEGAL_MOVES", "Node", "Q_TRANSFORMS", "SearchOutput", "SearchSettings",
           "legal_slots", "q_transform_fn", "search"]
