"""A ``Player`` that searches: Gumbel MuZero over the rules engine with a network as prior and
value. Its ``params`` are the network's (data: swapping them does not recompile), its act
function carries the search settings (static)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax

from keisei_jax import search
from keisei_jax.eval.players import Player
from keisei_jax.shogi.state import State


@dataclasses.dataclass(frozen=True)
class SearchAct:
    """``Act`` of a search player (hashable: it is static under jit).

    apply_fn: hashable ``(params, obs) -> (logits [B, 13527], value [B])`` (``ModuleApply``).
    num_simulations: simulations per move. considered_actions: root candidates of Sequential
    Halving. gumbel_scale: 0 plays the search's best move; > 0 samples among the candidates
    (games against a deterministic opponent then differ). obs_max_plies: the ply cap the
    network was trained with, for its progress plane (None: the game's own cap).
    mate_candidates: checks tried for a mate in one at every node (0: none).
    mate_threat_moves: the root's most probable moves checked for a mate in three of the
    reply, and the root for its own (``search.search``; 0: none).
    mate_five_retries: searches again, at most that many times, when the chosen move allows
    the opponent a mate in five (``search.search``; 0: not checked).
    material_coef: value of a pawn of material won along a line, added to the tree's edges (the
    shaping its network's value was trained with; 0: the game result and the network only).
    q_transform: how completed Q-values become preferences (``search.Q_TRANSFORMS``).
    """

    apply_fn: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]
    num_simulations: int
    considered_actions: int = search.CONSIDERED_ACTIONS
    gumbel_scale: float = 0.0
    obs_max_plies: int | None = None
    mate_candidates: int = search.MATE_CANDIDATES
    material_coef: float = 0.0
    mate_threat_moves: int = 0
    mate_five_retries: int = 0
    q_transform: str = "rescale"

    def __call__(self, params, state: State, key: jax.Array) -> jax.Array:
        return search.search(
            apply_fn=self.apply_fn, params=params, state=state, key=key,
            num_simulations=self.num_simulations,
            max_num_considered_actions=self.considered_actions,
            gumbel_scale=self.gumbel_scale, obs_max_plies=self.obs_max_plies,
            mate_candidates=self.mate_candidates, shaping_coef=self.material_coef,
            mate_threat_moves=self.mate_threat_moves, mate_five_retries=self.mate_five_retries,
            q_transform=self.q_transform,
        ).action


def search_player(
    apply_fn: Callable, params: Any, *, num_simulations: int,
    considered_actions: int = search.CONSIDERED_ACTIONS,
    gumbel_scale: float = 0.0, obs_max_plies: int | None = None, name: str = "search",
    mate_candidates: int = search.MATE_CANDIDATES, material_coef: float = 0.0,
    mate_threat_moves: int = 0, mate_five_retries: int = 0, q_transform: str = "rescale",
) -> Player:
    """A network searched with ``num_simulations`` (>= 1) simulations per move."""
    if num_simulations < 1:
        raise ValueError(f"num_simulations must be >= 1, got {num_simulations!r}")
    if considered_actions < 1:
        raise ValueError(f"considered_actions must be >= 1, got {considered_actions!r}")
    if gumbel_scale < 0:
        raise ValueError(f"gumbel_scale must be >= 0, got {gumbel_scale!r}")
    if mate_candidates < 0:
        raise ValueError(f"mate_candidates must be >= 0, got {mate_candidates!r}")
    if not material_coef >= 0:
        raise ValueError(f"material_coef must be >= 0, got {material_coef!r}")
    if mate_threat_moves < 0:
        raise ValueError(f"mate_threat_moves must be >= 0, got {mate_threat_moves!r}")
    if mate_five_retries < 0:
        raise ValueError(f"mate_five_retries must be >= 0, got {mate_five_retries!r}")
    search.q_transform_fn(q_transform)  # ValueError for an unknown one
    act = SearchAct(apply_fn, int(num_simulations), int(considered_actions),
                    float(gumbel_scale), obs_max_plies, int(mate_candidates), float(material_coef),
                    int(mate_threat_moves), int(mate_five_retries), q_transform)
    return Player(act, params, name)
