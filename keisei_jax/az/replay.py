"""The replay buffer of Gumbel AlphaZero self-play: recent positions, their search targets and,
once their game has ended, its result.

The buffer is laid out by lane, ``[B, L, ...]`` with ``L = replay_size / num_envs`` positions a
lane, so it is sharded over devices exactly like the games (``distributed.runner_shardings``)
and each lane's positions lie in the order they were played. Every iteration writes its
``T = rollout_len`` plies of every lane at slots ``[t, t + T)``, ``t = iteration * T mod L``,
over the oldest ones.

A position's value target is the result of its game, known only when that game ends, usually
several iterations after the position was played. Each position records which of its lane's games
it belongs to (``game``: the lane's count of finished games when it was played), each lane keeps
the results of its last ``K`` finished games, and after every rollout the positions whose game
has ended take that result (``resolve``), and, with the network's material head, the game's
final material balance as an auxiliary target. A position whose game outlives its stay in the
buffer never gets either and teaches only the policy.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from keisei_jax.az.rollout import SearchTransition


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ReplayBuffer:
    """Positions of self-play by lane; ``B`` lanes, ``L`` positions a lane, ``S`` move slots,
    ``K`` results kept a lane.

      obs: float16[B, L, 9, 9, 46]. The observation (0/1 planes and small fractions: float16
        keeps them to 3 significant digits at half the memory).
      legal_bits: uint32[B, L, 507]. The position's packed legal set.
      policy_target: float16[B, L, S]. The search's improved policy by legal-move slot.
      policy_weight: float32[B, L]. 1 where the move was fully searched (a policy target), 0
        for a cheap search (playout-cap randomisation: value only) or a free slot.
      search_value: float32[B, L]. What a result target blends z with (mover's view): the
        search's value of the position, or its lambda-return (``value_blend_with``).
      color: int8[B, L]. The side that moved (0 Black, 1 White).
      game: int32[B, L]. The lane's number of finished games when the position was played.
      value_target: float32[B, L]. What the value learns, valid where ``resolved``.
      resolved: bool[B, L]. The value target is known (its game has ended).
      games_done: int32[B]. Games each lane has finished.
      results: float32[B, K]. Black's result (+1, 0, -1) of each lane's game ``g`` at ``g % K``.
      material_target: float32[B, L] or None. The game's final material balance for the
        position's mover, tanh(pawns / ``MATERIAL_SCALE``), valid where ``resolved``: what the
        network's material head learns (None: no material head; the checkpoints of such runs
        keep their structure).
      final_materials: float32[B, K] or None. Black's final material balance (pawns) of each
        lane's game ``g`` at ``g % K``.
    """

    obs: jax.Array
    legal_bits: jax.Array
    policy_target: jax.Array
    policy_weight: jax.Array
    search_value: jax.Array
    color: jax.Array
    game: jax.Array
    value_target: jax.Array
    resolved: jax.Array
    games_done: jax.Array
    results: jax.Array
    material_target: jax.Array | None = None
    final_materials: jax.Array | None = None


# Pawns of material per unit before the tanh of the material target: a rook and a bishop up
# reads tanh(1.8) = 0.95.
MATERIAL_SCALE = 10.0


def init(num_lanes: int, per_lane: int, *, num_slots: int, num_results: int,
         obs_shape: tuple[int, ...], legal_words: int, material: bool = False) -> ReplayBuffer:
    """An empty buffer of ``per_lane`` positions on each of ``num_lanes`` lanes (``material``:
    with the material head's targets)."""
    b, n = num_lanes, per_lane
    return ReplayBuffer(
        obs=jnp.zeros((b, n, *obs_shape), jnp.float16),
        legal_bits=jnp.zeros((b, n, legal_words), jnp.uint32),
        policy_target=jnp.zeros((b, n, num_slots), jnp.float16),
        policy_weight=jnp.zeros((b, n), jnp.float32),
        search_value=jnp.zeros((b, n), jnp.float32),
        color=jnp.zeros((b, n), jnp.int8),
        game=jnp.full((b, n), -1, jnp.int32),
        value_target=jnp.zeros((b, n), jnp.float32),
        resolved=jnp.zeros((b, n), jnp.bool_),
        games_done=jnp.zeros((b,), jnp.int32),
        results=jnp.zeros((b, num_results), jnp.float32),
        material_target=jnp.zeros((b, n), jnp.float32) if material else None,
        final_materials=jnp.zeros((b, num_results), jnp.float32) if material else None,
    )


def add(buffer: ReplayBuffer, traj: SearchTransition, start: jax.Array, *,
        value_target: jax.Array | None, blend_value: jax.Array | None = None) -> ReplayBuffer:
    """``buffer`` with the rollout ``traj`` [T, B] written at slots ``[start, start + T)`` of every
    lane, and the results of the games it finished recorded.

    ``value_target`` float32[T, B]: targets known now (a lambda-return), stored as resolved;
    None: each position waits for its game's result (``resolve``), to be blended with
    ``blend_value`` float32[T, B] (default: the search values ``traj.search_value``)."""
    done = traj.terminated | traj.truncated  # [T, B]
    # The game each ply belongs to: the lane's finished games before that ply.
    finished_before = jnp.cumsum(done, axis=0) - done
    game = buffer.games_done[None, :] + finished_before.astype(jnp.int32)  # [T, B]
    # Black's result of each game that ended: the mover's result seen from Black (a ply-cap cut
    # is a draw).
    black = jnp.where(traj.color == 0, 1.0, -1.0) * traj.result
    num_results = buffer.results.shape[1]
    lanes = jnp.broadcast_to(jnp.arange(done.shape[1])[None, :], done.shape)
    # Each ended game writes its own cell; a ply without an end writes its old value back.
    cell = game % num_results
    results = buffer.results.at[lanes, cell].set(
        jnp.where(done, black, buffer.results[lanes, cell]))
    materials = None
    if buffer.final_materials is not None:
        black_material = jnp.where(traj.color == 0, 1.0, -1.0) * traj.material
        materials = buffer.final_materials.at[lanes, cell].set(
            jnp.where(done, black_material, buffer.final_materials[lanes, cell]))

    def put(old, new):  # new [T, B, ...] -> old [B, L, ...] at slots [start, start + T)
        new = jnp.swapaxes(new, 0, 1).astype(old.dtype)
        return jax.lax.dynamic_update_slice_in_dim(old, new, start, axis=1)

    known = value_target is not None
    return ReplayBuffer(
        obs=put(buffer.obs, traj.obs),
        legal_bits=put(buffer.legal_bits, traj.legal_bits),
        policy_target=put(buffer.policy_target, traj.policy_target),
        policy_weight=put(buffer.policy_weight, traj.full_search.astype(jnp.float32)),
        search_value=put(buffer.search_value,
                         traj.search_value if blend_value is None else blend_value),
        color=put(buffer.color, traj.color),
        game=put(buffer.game, game),
        value_target=put(buffer.value_target,
                         value_target if known else jnp.zeros(done.shape, jnp.float32)),
        resolved=put(buffer.resolved, jnp.full(done.shape, known)),
        games_done=buffer.games_done + done.sum(0).astype(jnp.int32),
        results=results,
        material_target=(None if buffer.material_target is None
                         else put(buffer.material_target, jnp.zeros(done.shape, jnp.float32))),
        final_materials=materials,
    )


def resolve(buffer: ReplayBuffer, *, search_blend: float) -> ReplayBuffer:
    """``buffer`` with every waiting position whose game has ended given its target:
    ``(1 - search_blend) * z + search_blend * search_value``, ``z`` the game's result for the
    position's mover (+1 won, -1 lost, 0 drawn or cut at the ply cap), ``search_value`` what
    ``add`` stored to blend with."""
    num_results = buffer.results.shape[1]
    ended = (buffer.game >= 0) & (buffer.game < buffer.games_done[:, None])
    # Results older than the last K games are overwritten: ``add`` runs at most T plies, so
    # with K > T every game that ended since the last ``resolve`` is still there.
    kept = buffer.game >= buffer.games_done[:, None] - num_results
    ready = ~buffer.resolved & ended & kept
    z_black = jnp.take_along_axis(buffer.results, jnp.maximum(buffer.game, 0) % num_results,
                                  axis=1)
    z = jnp.where(buffer.color == 0, z_black, -z_black)
    target = (1.0 - search_blend) * z + search_blend * buffer.search_value
    material_target = buffer.material_target
    if material_target is not None:
        m_black = jnp.take_along_axis(buffer.final_materials,
                                      jnp.maximum(buffer.game, 0) % num_results, axis=1)
        m = jnp.where(buffer.color == 0, m_black, -m_black)
        material_target = jnp.where(ready, jnp.tanh(m / MATERIAL_SCALE), material_target)
    return dataclasses.replace(
        buffer,
        value_target=jnp.where(ready, target, buffer.value_target),
        resolved=buffer.resolved | ready,
        material_target=material_target,
    )


def sample(buffer: ReplayBuffer, key: jax.Array, num: int, filled: jax.Array
           ) -> dict[str, jax.Array]:
    """``num`` positions drawn uniformly, with replacement, from the first ``filled`` slots of
    every lane (every lane holds the same number): leaves ``[num, ...]``, observation float32."""
    k_lane, k_slot = jax.random.split(key)
    lane = jax.random.randint(k_lane, (num,), 0, buffer.obs.shape[0])
    slot = jax.random.randint(k_slot, (num,), 0, jnp.maximum(filled, 1))
    take = lambda x: x[lane, slot]  # noqa: E731
    return {
        "obs": take(buffer.obs).astype(jnp.float32),
        "legal_bits": take(buffer.legal_bits),
        "policy_target": take(buffer.policy_target).astype(jnp.float32),
        "policy_weight": take(buffer.policy_weight),
        "value_target": take(buffer.value_target),
        "value_weight": take(buffer.resolved).astype(jnp.float32),
        "material_target": (None if buffer.material_target is None
                            else take(buffer.material_target)),
    }
