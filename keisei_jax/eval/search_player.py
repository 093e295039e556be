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
from keisei_jax.search import SearchSettings
from keisei_jax.shogi.state import State


@dataclasses.dataclass(frozen=True)
class SearchAct:
    """``Act`` of a search player (hashable: it is static under jit).

    apply_fn: hashable ``(params, obs) -> (logits [B, 13527], value [B])`` (``ModuleApply``).
    settings: how it searches (``search.SearchSettings``).
    obs_max_plies: the ply cap the network was trained with, for its progress plane (None: the
      game's own cap).
    """

    apply_fn: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]
    settings: SearchSettings
    obs_max_plies: int | None = None

    def __call__(self, params, state: State, key: jax.Array) -> jax.Array:
        return search.search(apply_fn=self.apply_fn, params=params, state=state, key=key,
                             settings=self.settings, obs_max_plies=self.obs_max_plies).action


_PLAY = SearchSettings()  # every tool's player


def search_player(apply_fn: Callable, params: Any, settings: SearchSettings = _PLAY, *,
                  obs_max_plies: int | None = None, name: str = "search") -> Player:
    """A network searched as ``settings`` say (the default: every tool's player)."""
    if not isinstance(settings, SearchSettings):
        raise TypeError(f"settings must be a search.SearchSettings, got {type(settings).__name__}")
    return Player(SearchAct(apply_fn, settings, obs_max_plies), params, name)
