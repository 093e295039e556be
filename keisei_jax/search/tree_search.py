"""Gumbel MuZero search (mctx) over the real rules engine, on the position's legal-move list.

The tree's embedding is the game ``State`` itself: ``recurrent_fn`` is the engine's ``step``, so
there is no learned dynamics. The network supplies the prior (its masked logits) and the leaf
value; a mate in one found at a node (``shogi.mate``) overrides both. Values are the side to
move's, so the discount between plies is -1; a move that ends the game gives the mover's result
as the reward and a discount of 0 (its child is never valued). An optional material term on the
edges (``material_coef``) searches the shaped return a network was trained to predict.

Actions of the tree are *slots*: slot ``i`` of a node is the ``i``-th legal move of its position
in Keisei's action order (``legal_slots``). mctx keeps six ``[B, N + 1, num_actions]`` arrays per
tree; at 13,527 actions that is ~325 kB a node, at ``MAX_LEGAL_MOVES`` = 593 slots ~14 kB, and
every per-node softmax, argmax and Q completion shrinks by the same factor (figures in
docs/results.md, ``experiments/bench_search.py``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import mctx

from keisei_jax import env, shogi
from keisei_jax.search.gumbel import gumbel_policy
from keisei_jax.search.settings import Q_TRANSFORMS, SearchSettings
from keisei_jax.shaping import shaped_reward
from keisei_jax.shogi import mate
from keisei_jax.shogi.game import apply_move
from keisei_jax.shogi.movegen import word_bit_to_action
from keisei_jax.shogi.state import State

# The most legal moves a shogi position can have (promotion and non-promotion counted apart).
MAX_LEGAL_MOVES = 593
_INVALID_LOGIT = -1e9  # finite: an all-invalid node (a finished game) still has a defined softmax
_MATE_LOGIT_BONUS = 30.0  # a mating move's logit above the node's best: all the prior's mass
# In play, the most blocks of ``mate_threat_moves`` root moves checked while none is safe.
MATE_THREAT_BLOCKS = 8

# (params, obs float32[B, 9, 9, 46]) -> (logits float32[B, 13527], value float32[B])
ApplyFn = Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]


def legal_slots(legal_bits: jax.Array, *, num_slots: int = MAX_LEGAL_MOVES
                ) -> tuple[jax.Array, jax.Array]:
    """The legal moves of each position as a padded list, read off the packed words.

    Slot ``j`` is the ``j``-th set bit of the 507 words (word by word, low bit first): a prefix
    sum of the words' popcounts, a binary search for each slot's word and one for its bit, so
    nothing 13,527 wide is built (a scatter of the unpacked mask was most of a search's cost).

    Args:
      legal_bits: uint32[B, 507] packed legal sets.
      num_slots: length of the list (>= 593 holds every legal move of any position).
    Returns:
      actions: int32[B, num_slots]. The legal Keisei actions, then 0.
      count: int32[B]. Number of legal moves (at most ``num_slots`` are listed).
    """
    counts = jax.lax.population_count(legal_bits).astype(jnp.int32)  # [B, 507]
    ends = jnp.cumsum(counts, axis=-1)
    slots = jnp.arange(num_slots, dtype=jnp.int32)
    word = jax.vmap(lambda e: jnp.searchsorted(e, slots, side="right"))(ends)
    word = jnp.minimum(word, legal_bits.shape[-1] - 1).astype(jnp.int32)  # [B, S]
    rank = slots - (jnp.take_along_axis(ends, word, axis=-1)
                    - jnp.take_along_axis(counts, word, axis=-1))
    bits = env.nth_set_bit(jnp.take_along_axis(legal_bits, word, axis=-1), rank)
    total = ends[:, -1]
    actions = jnp.where(slots < total[:, None], word_bit_to_action(word, bits), 0)
    return actions.astype(jnp.int32), jnp.minimum(total, num_slots)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Node:
    """The embedding of a tree node (leading axis ``[B]``).

      state: the game ``State`` of the node.
      actions: int32[B, S]. Its legal moves by slot (``legal_slots``).
    """

    state: State
    actions: jax.Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SearchOutput:
    """Result of one search per game (leading axis ``[B]``; ``S`` = slots).

      action: int32[B]. Keisei action chosen (0 for a game without a legal move).
      slot: int32[B]. Its slot.
      actions: int32[B, S]. Legal Keisei action of each slot, 0-padded.
      num_legal: int32[B]. Legal moves listed (valid slots are ``< num_legal``).
      action_weights: float32[B, S]. The improved policy (softmax of prior logits plus
        completed Q-values), 0 on invalid slots: the policy target of Gumbel AlphaZero.
      visit_counts: int32[B, S]. Root visits per slot.
      root_value: float32[B]. Search value of the root for the side to move.
      network_value: float32[B]. The network's value of the root.
      prior_logits: float32[B, S]. The network's masked logits at the root, by slot.
      tree: the mctx ``Tree`` of the search (``[B, N + 1, S]`` node statistics, its
        ``embeddings`` the ``Node`` of each node) with ``search(return_tree=True)``, else None:
        for a principal variation or analysis of the tree.
    """

    action: jax.Array
    slot: jax.Array
    actions: jax.Array
    num_legal: jax.Array
    action_weights: jax.Array
    visit_counts: jax.Array
    root_value: jax.Array
    network_value: jax.Array
    prior_logits: jax.Array
    tree: mctx.Tree | None = None


def _evaluate(apply_fn: ApplyFn, params: Any, state: State, obs_max_plies: int | None,
              num_slots: int, mate_candidates: int
              ) -> tuple[Node, jax.Array, jax.Array, jax.Array, jax.Array]:
    """(node, prior logits [B, S], value [B], valid bool[B, S], mating slot int32[B] or -1) of
    batched positions. A position whose side to move mates in one (``shogi.mate``, at most
    ``mate_candidates`` checks tried; 0: not looked for) is worth +1 whatever the network
    says, and its mating move gets the prior's mass so the tree plays it."""
    seen = state
    if obs_max_plies is not None:  # the progress plane is ply / the ply cap trained with
        seen = dataclasses.replace(state, max_plies=jnp.full_like(state.max_plies, obs_max_plies))
    logits, value = apply_fn(params, shogi.observe(seen))
    actions, count = legal_slots(state.legal_bits, num_slots=num_slots)
    valid = jnp.arange(num_slots) < count[:, None]
    prior = jnp.take_along_axis(logits.astype(jnp.float32), actions, axis=-1)
    prior = jnp.where(valid, prior, _INVALID_LOGIT)
    value = value.astype(jnp.float32)
    mate_slot = jnp.full(count.shape, -1, jnp.int32)
    if mate_candidates > 0:
        probs = jax.nn.softmax(prior, axis=-1)
        found, slot = jax.vmap(functools.partial(_mate_slot, candidates=mate_candidates))(
            state.board, state.hand, actions, valid, probs)
        found &= ~(state.terminated | state.truncated)
        mate_slot = jnp.where(found, slot, -1)
        value = jnp.where(found, 1.0, value)
        prior = jnp.where(found[:, None] & (jnp.arange(num_slots) == slot[:, None]),
                          jnp.max(prior, axis=-1, keepdims=True) + _MATE_LOGIT_BONUS, prior)
    return Node(state, actions), prior, value, valid, mate_slot


def _mate_slot(board, hand, actions, valid, probs, *, candidates):
    """Mate in one among one position's slots: contact checks first, then the likelier."""
    return mate.mate_in_one(board, hand, actions, valid,
                            probs + mate.contact_priority(board, actions), candidates=candidates)


def _after(node: Node, slot: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(board, hand) of one node's position after its move in ``slot``, from the opponent's
    side (canonical): what the root's mate checks ask the opponent about."""
    return apply_move(node.state.board, node.state.hand, node.actions[slot])


def _root_mate_in_three(node: Node, prior, valid, mate_slot):
    """Mating slot int32[] of one root: its own mate in three when it has no mate in one."""
    board, hand = node.state.board, node.state.hand
    found, slot = mate.mate_in_three(board, hand, node.actions, valid,
                                     jax.nn.softmax(prior) + mate.contact_priority(
                                         board, node.actions))
    playing = ~(node.state.terminated | node.state.truncated)
    return jnp.where((mate_slot < 0) & found & playing, slot, mate_slot)


def _safe_root_moves(root: Node, prior, valid, *, moves: int, blocks: int):
    """bool[B, S]: the root moves the search may choose, once the opponent's mates in three are
    looked for after them (``mated_in_three``), most probable first, ``moves`` at a time.

    The first block is always checked and further ones only while a root has no checked move
    left that is safe (at most ``blocks``). A root with a safe checked move chooses among those
    only: the moves Sequential Halving would consider next are never played unchecked. A root
    whose checked moves all lose chooses among the unchecked ones, and one whose every move
    loses among all its moves."""
    num_slots = valid.shape[-1]
    _, order = jax.lax.top_k(prior, min(moves * blocks, num_slots))  # [B, K]
    order = jnp.pad(order, ((0, 0), (0, moves * blocks - order.shape[-1])),
                    constant_values=num_slots - 1)
    rows = jnp.arange(valid.shape[0])[:, None]

    def allows_mate(node, slot):
        return mate.mated_in_three(*_after(node, slot))

    def unsafe(checked, lost):
        return ~jnp.any(valid & checked & ~lost, axis=-1)

    def more(carry):
        block, checked, lost = carry
        left = jnp.any(valid & ~checked, axis=-1)
        return (block < blocks) & jnp.any((block == 0) | (unsafe(checked, lost) & left))

    def check(carry):
        block, checked, lost = carry
        slots = jax.lax.dynamic_slice_in_dim(order, block * moves, moves, axis=1)  # [B, moves]
        wanted = ((block == 0) | unsafe(checked, lost))[:, None] & valid[rows, slots]
        mated = jax.vmap(jax.vmap(allows_mate, in_axes=(None, 0)))(root, slots)
        return (block + 1, checked.at[rows, slots].max(wanted),
                lost.at[rows, slots].max(wanted & mated))

    none = jnp.zeros_like(valid)
    _, checked, lost = jax.lax.while_loop(more, check, (jnp.int32(0), none, none))
    safe = valid & checked & ~lost
    not_lost = valid & ~lost
    return jnp.where(jnp.any(safe, -1, keepdims=True), safe,
                     jnp.where(jnp.any(not_lost, -1, keepdims=True), not_lost, valid))


def _without_mates_in_five(tree_search, root: Node, valid, root_mate, *, retries: int):
    """(valid, out): the search ``tree_search(valid)`` of every root, its chosen move checked
    for the opponent's mate in five (``mate.mated_in_five``, ~30 ms a quiet position on 2 CPU
    cores): a move that allows one is taken out and the root searched again, at most
    ``retries`` times (a root whose every move allows one keeps its last choice). Roots that
    play a mate of their own are not checked.

    The first search is the loop's first pass, so the program holds one tree search and one
    mate-in-five check, not two of each (a play search: a third less StableHLO, 13% less
    compile time)."""
    playing = ~(root.state.terminated | root.state.truncated) & (root_mate < 0)
    slots = jnp.arange(valid.shape[-1])

    def again(carry):
        tries, valid, out, lost = carry
        without = valid & ~(lost[:, None] & (slots == out.action[:, None]))
        retry = (tries == 0) | (lost & jnp.any(without, axis=-1))
        valid = jnp.where(retry[:, None], without, valid)
        out = env.select_lanes(retry, tree_search(valid), out)
        loses = jax.vmap(lambda node, slot: mate.mated_in_five(*_after(node, slot)))(
            root, out.action)
        return tries + 1, valid, out, retry & loses & playing

    def more(carry):
        tries, _, _, lost = carry
        return (tries == 0) | ((tries <= retries) & jnp.any(lost))

    # The loop's carry needs an output before the first search: zeros of its shapes.
    blank = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype),
                                   jax.eval_shape(tree_search, valid))
    none = jnp.zeros(valid.shape[:1], bool)
    _, valid, out, _ = jax.lax.while_loop(more, again, (jnp.int32(0), valid, blank, none))
    return valid, out


def q_transform_fn(name: str) -> Callable:
    """mctx's ``qtransform`` for ``name`` in ``Q_TRANSFORMS``."""
    if name == "rescale":
        return mctx.qtransform_completed_by_mix_value
    if name == "fixed":
        # (q + 1) / 2 maps [-1, 1] onto [0, 1]; the shift does not change a softmax, so halving
        # mctx's value scale on the raw values is the same map.
        return functools.partial(mctx.qtransform_completed_by_mix_value, rescale_values=False,
                                 value_scale=0.05)
    raise ValueError(f"unknown q_transform {name!r}: expected one of {list(Q_TRANSFORMS)}")


def search(
    *,
    apply_fn: ApplyFn,
    params: Any,
    state: State,
    key: jax.Array,
    settings: SearchSettings,
    num_simulations: int | jax.Array | None = None,
    capacity: int | None = None,
    gumbel_scale: float | jax.Array | None = None,
    material_coef: float | jax.Array | None = None,
    num_slots: int = MAX_LEGAL_MOVES,
    obs_max_plies: int | None = None,
    return_tree: bool = False,
) -> SearchOutput:
    """Gumbel MuZero search from every position of the batch ``state`` [B] (traceable; jit it),
    as ``settings`` (static) say. ``obs_max_plies`` replaces the ply cap in the network's
    progress plane (a GUI game may run past the cap trained with). A finished game or one
    without a legal move is searched harmlessly and gets action 0.

    ``settings.gumbel_scale`` 0 plays the search's best move (evaluation, play); 1 samples the
    root's considered actions by Gumbel top-k (self-play training).

    ``settings.material_coef`` > 0 adds ``material_coef * (material gain + check_bonus_pawns *
    gives check)``, in pawns, to every edge's reward, as the self-play targets do: in training
    the search then sees captures and recaptures before the value network has learned that
    material wins; in play (no check bonus) a network whose value was trained on
    material-shaped returns is searched for the return it predicts.

    ``settings.mate_candidates`` > 0 looks for a mate in one at the root and at every node the
    tree adds (``shogi.mate``, that many checks tried per node): such a node is worth +1 to its
    side to move and its mating move takes the prior's mass, so a move that allows a mate in
    one is seen as lost after one simulation, and a mate at the root is played (and is the
    whole policy target) even when neither the prior nor the tree found it.

    ``settings.mate_threat_moves`` > 0 (play: each move checked costs ~1,200 move generations,
    ~10 ms on a 2-core CPU) also looks for a mate in three at the root, played like a mate in
    one, and checks the root's moves for a mate in three of the opponent's reply
    (``shogi.mate.mated_in_three``), ``mate_threat_moves`` most probable first, then the next
    ones while none of those checked is safe (up to ``MATE_THREAT_BLOCKS`` blocks). The root
    then chooses among its safe checked moves; if it has none, among those not found to lose:
    the mates a few simulations cannot see coming.

    ``settings.mate_five_retries`` > 0 (play) checks the move the search chose for a mate in
    five of the opponent (``shogi.mate.mated_in_five``), and when it allows one searches again
    without it, at most that many times: the king hunts too long for the tree and the mate in
    three.

    ``settings.q_transform`` (``Q_TRANSFORMS``) turns completed Q-values into the preferences
    Sequential Halving and the improved policy add to the prior logits.

    Run-time values in place of the settings' (one compiled program serves them all):
    ``gumbel_scale`` and ``material_coef`` may be traced (training anneals its material term;
    ``keisei-usi`` switches between the best move and a sample). ``capacity`` (static) makes
    the count a run-time value: ``num_simulations`` may then be a traced int32 in [1,
    ``capacity``], the tree holds ``capacity + 1`` nodes, and the search is the one a program
    compiled for that count makes (``search.gumbel``): one program serves every size up to
    ``capacity``. Without ``capacity``, ``num_simulations`` (a Python int) replaces the
    settings' count.

    ``return_tree`` keeps the whole search tree in the output (``SearchOutput.tree``).
    """
    if num_simulations is None:
        num_simulations = settings.num_simulations
    if capacity is None and num_simulations < 1:
        raise ValueError(f"num_simulations must be >= 1, got {num_simulations}")
    if gumbel_scale is None:
        gumbel_scale = settings.gumbel_scale
    if material_coef is None:
        material_coef = settings.material_coef
    max_num_considered_actions = settings.considered_actions
    mate_candidates, mate_threat_moves = settings.mate_candidates, settings.mate_threat_moves
    check_bonus_pawns = settings.check_bonus_pawns
    qtransform = q_transform_fn(settings.q_transform)
    shaping = not (isinstance(material_coef, (int, float)) and material_coef == 0)
    root_node, root_prior, root_value, root_valid, root_mate = _evaluate(
        apply_fn, params, state, obs_max_plies, num_slots, mate_candidates)
    num_legal = root_valid.sum(-1).astype(jnp.int32)  # before any move is taken out below
    if mate_threat_moves > 0:
        root_mate = jax.vmap(_root_mate_in_three)(root_node, root_prior, root_valid, root_mate)
        root_valid = _safe_root_moves(root_node, root_prior, root_valid,
                                      moves=min(mate_threat_moves, num_slots),
                                      blocks=MATE_THREAT_BLOCKS)
        root_prior = jnp.where(root_valid, root_prior, _INVALID_LOGIT)

    def recurrent_fn(params, _key, slot, node: Node):
        action = jnp.take_along_axis(node.actions, slot[:, None], axis=-1)[:, 0]
        nxt = env.step_batch(node.state, action)
        mover = node.state.color.astype(jnp.int32)
        reward = jnp.take_along_axis(nxt.rewards, mover[:, None], axis=-1)[:, 0]
        if shaping:  # a finished game's node gains nothing: its step changed nothing
            finished = node.state.terminated | node.state.truncated
            reward = jnp.where(finished, reward, shaped_reward(
                node.state, nxt, reward, material_coef=material_coef,
                check_bonus_pawns=check_bonus_pawns))
        child, prior, value, _, _ = _evaluate(apply_fn, params, nxt, obs_max_plies, num_slots,
                                              mate_candidates)
        done = nxt.terminated | nxt.truncated
        out = mctx.RecurrentFnOutput(
            reward=reward,
            discount=jnp.where(done, 0.0, -1.0),
            prior_logits=prior,
            value=jnp.where(done, 0.0, value),
        )
        return out, child

    def tree_search(valid):
        root = mctx.RootFnOutput(prior_logits=jnp.where(valid, root_prior, _INVALID_LOGIT),
                                 value=root_value, embedding=root_node)
        if capacity is not None:
            return gumbel_policy(
                params, key, root, recurrent_fn, num_simulations=num_simulations,
                capacity=capacity, invalid_actions=~valid,
                max_num_considered_actions=max_num_considered_actions,
                gumbel_scale=gumbel_scale, qtransform=qtransform)
        return mctx.gumbel_muzero_policy(
            params, key, root, recurrent_fn, num_simulations,
            invalid_actions=~valid,
            max_num_considered_actions=max_num_considered_actions,
            gumbel_scale=gumbel_scale, qtransform=qtransform,
        )

    if settings.mate_five_retries > 0:
        root_valid, out = _without_mates_in_five(tree_search, root_node, root_valid, root_mate,
                                                 retries=settings.mate_five_retries)
    else:
        out = tree_search(root_valid)
    tree = out.search_tree
    # A mate in one at the root is played (and is the whole policy target) whatever the tree saw.
    mates = root_mate >= 0
    slot = jnp.where(mates, root_mate, out.action).astype(jnp.int32)
    action = jnp.take_along_axis(root_node.actions, slot[:, None], axis=-1)[:, 0]
    weights = jnp.where(root_valid, out.action_weights, 0.0)
    weights = jnp.where(mates[:, None], jax.nn.one_hot(slot, num_slots), weights)
    return SearchOutput(
        action=action,
        slot=slot,
        actions=root_node.actions,
        num_legal=num_legal,
        action_weights=weights,
        visit_counts=tree.children_visits[:, tree.ROOT_INDEX].astype(jnp.int32),
        root_value=jnp.where(mates, 1.0, tree.node_values[:, tree.ROOT_INDEX]),
        network_value=root_value,
        prior_logits=root_prior,
        tree=tree if return_tree else None,
    )
