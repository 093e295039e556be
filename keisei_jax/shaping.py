"""Material shaping: a switchable dense reward for the otherwise sparse win/loss signal.

Random self-play games last ~380 plies and a third of them end at the ply cap, so a fresh network
sees a win/loss signal only hundreds of moves after the moves that caused it. The shaping reward
is the mover's material gain of its move (captures, promotions) plus, optionally, a bonus for a
move that gives check (against a player who does not defend, checks are what turn material into
mates), scaled by a coefficient that the trainer anneals to zero over ``shaping_anneal_frac`` of
the run (the late policy then optimises the game result alone) or, with ``shaping_anneal_frac``
0, keeps for the whole run (the ``az`` config).

Evaluation scores game results only: no match, record or Elo fit adds shaped reward. A
searching player, though, adds ``material_coef(config, step)`` of its checkpoint's run to the
tree's edges (``LoadedPolicy.material_coef``, the training evaluations' searches), because
a value trained on shaped returns predicts the result plus that material: 0 once annealed away.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.config import TrainConfig
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.state import State

# code -> value in pawns (``tables.PIECE_VALUE``), negative for the opponent's pieces.
BOARD_VALUE = np.concatenate([T.PIECE_VALUE, -T.PIECE_VALUE[1:]]).astype(np.float32)
HAND_VALUE = T.HAND_PIECE_VALUE.astype(np.float32)  # hand slots P L N S G B R


def material(state: State) -> jax.Array:
    """float32[...]: material balance in pawns from the side to move's point of view."""
    board = jnp.take(jnp.asarray(BOARD_VALUE), state.board.astype(jnp.int32)).sum(-1)
    hand = state.hand.astype(jnp.float32) @ jnp.asarray(HAND_VALUE)  # [..., 2]
    return board + hand[..., 0] - hand[..., 1]


def material_gain(before: State, after: State) -> jax.Array:
    """float32[...]: the mover's material gain of the move ``before -> after`` (sides swap)."""
    return -material(after) - material(before)


def shaped_reward(before: State, after: State, reward: jax.Array, *, material_coef: jax.Array,
                  check_bonus_pawns: float) -> jax.Array:
    """float32[...]: the mover's ``reward`` plus ``material_coef * (material gain +
    check_bonus_pawns * gives check)`` of the move ``before -> after``."""
    gain = material_gain(before, after) + check_bonus_pawns * after.in_check.astype(jnp.float32)
    return reward + material_coef * gain


def material_coef(config: TrainConfig, iteration: jax.Array | int) -> jax.Array:
    """The material term's coefficient at ``iteration`` (pawns): ``material_shaping``,
    annealed linearly to 0 over ``shaping_anneal_frac`` of the run (0: never annealed). Every
    other place names this quantity ``material_coef`` (``search.SearchSettings``,
    ``LoadedPolicy``, the rollouts)."""
    cfg = config
    if cfg.material_shaping == 0:
        return jnp.float32(0.0)
    if cfg.shaping_anneal_frac == 0:
        return jnp.float32(cfg.material_shaping)
    horizon = cfg.shaping_anneal_frac * cfg.total_iterations
    return cfg.material_shaping * jnp.maximum(0.0, 1.0 - iteration / horizon)
