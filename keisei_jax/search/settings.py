"""Every setting of a search, in one frozen dataclass with one set of defaults.

``search.search``, a search player (``eval.search_player``, ``LoadedPolicy.player``), the
training loop's self-play and evaluations, and ``keisei-usi`` all take a ``SearchSettings``. The
defaults are a player's (every tool's: ``keisei_jax.default_player``); self-play builds its own
from the ``TrainConfig`` (``az.selfplay_settings``), without the root's mate checks, which cost
play ~10 ms a checked move.
"""

from __future__ import annotations

import dataclasses
import math

from keisei_jax.default_player import (
    CONSIDERED_ACTIONS,
    MATE_CANDIDATES,
    MATE_FIVE_RETRIES,
    MATE_THREAT_MOVES,
    PLAY_SIMULATIONS,
    SEARCH_COUNT_LEAST,
)

# How the root's completed Q-values become preferences: "rescale" (mctx's default) maps each
# node's Q-values onto [0, 1] by their own min and max, so the gap between its best and worst
# child becomes the whole preference however small it is; "fixed" reads them against the
# game's bounds [-1, 1], so a small gap stays a small preference.
Q_TRANSFORMS = ("rescale", "fixed")

_SCALES = ("gumbel_scale", "material_coef", "check_bonus_pawns")  # finite, >= 0


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """How a search plays (hashable: a jitted search takes it as a static argument).

    num_simulations: simulations a move (>= 1).
    considered_actions: root candidates of Sequential Halving (>= 1).
    gumbel_scale: 0 plays the search's best move (play, evaluation); > 0 samples among the
      root's candidates by Gumbel top-k (1: self-play; games against a fixed opponent differ).
    mate_candidates: checks tried for a mate in one at every node (0: none).
    mate_threat_moves: the root's most probable moves checked for a mate in three of the
      reply, and the root for its own (0: none).
    mate_five_retries: searches again, at most that many times, when the chosen move allows the
      opponent a mate in five (0: not checked).
    material_coef: value of a pawn won along a line, added to every edge's reward: the material
      shaping the network's value was trained with (0: the game result and the network only).
    check_bonus_pawns: pawns added to a move's material gain when it gives check (training's
      shaping; players use 0).
    q_transform: how completed Q-values become preferences (``Q_TRANSFORMS``).
    """

    num_simulations: int = PLAY_SIMULATIONS
    considered_actions: int = CONSIDERED_ACTIONS
    gumbel_scale: float = 0.0
    mate_candidates: int = MATE_CANDIDATES
    mate_threat_moves: int = MATE_THREAT_MOVES
    mate_five_retries: int = MATE_FIVE_RETRIES
    material_coef: float = 0.0
    check_bonus_pawns: float = 0.0
    q_transform: str = "rescale"

    def __post_init__(self):
        # Plain Python numbers, so equal settings hash equal (a numpy int would not).
        for name, least in SEARCH_COUNT_LEAST.items():
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < least:
                raise ValueError(f"SearchSettings.{name} must be an integer >= {least}, "
                                 f"got {value!r}")
            object.__setattr__(self, name, int(value))
        for name in _SCALES:
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"SearchSettings.{name} must be finite and >= 0, "
                                 f"got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        if self.q_transform not in Q_TRANSFORMS:
            raise ValueError(f"SearchSettings.q_transform must be one of {list(Q_TRANSFORMS)}, "
                             f"got {self.q_transform!r}")

    def replace(self, **changes) -> SearchSettings:
        """A copy with ``changes`` (field names; an unknown one is a ValueError naming it)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown search settings {unknown}; known: "
                             f"{[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)

    @property
    def root_mate_checks(self) -> bool:
        """Whether the root checks for mates in three or five (the costly checks of play)."""
        return self.mate_threat_moves > 0 or self.mate_five_retries > 0

    def as_dict(self) -> dict:
        """The settings as a JSON-able dict (results files)."""
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """Every setting that changes the moves, in words (the headline of every tool)."""
        choice = ("best move" if self.gumbel_scale == 0
                  else f"sampled among its candidates, gumbel scale {self.gumbel_scale:g}")
        return (f"{self.num_simulations} simulations, {self.considered_actions} considered "
                f"actions, {choice}, mate checks: {self.mate_candidates} per node, "
                f"{self.mate_threat_moves} root moves against a mate in three, "
                f"{self.mate_five_retries} retries against a mate in five, material "
                f"{self.material_coef:g} a pawn, {self.q_transform} Q")
