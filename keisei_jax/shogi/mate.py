"""Short forced mates for one canonical position: mate in one (the greedy baseline's first choice
and the search's knowledge at every node: a side that can mate at once has won, whatever its
network thinks), mate in three (the search's check of its root and of the replies to its
candidate moves) and mate in five (its check of the move it chose).

The functions take a list of candidate actions (all 13,527, or the search's legal-move slots),
so their cost follows the list's length. Only direct checks are tried (the moved piece attacks
the king from its destination, by a step or along a line that is empty once the piece has left
its square); each costs one move generation, so at most ``candidates`` of them are tried, best
``priority`` first. Discovered checks are not searched. Pawn-drop mate is never found: it is not
a legal move. Positions carry no history or ply count here, so a mate that the ply cap would cut
(a draw) is still reported.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import movegen
from keisei_jax.shogi import tables as T
from keisei_jax.shogi.game import apply_move
from keisei_jax.shogi.state import unpack_legal_bits

# Material of a captured piece (``tables.PIECE_VALUE``), by the opponent's piece code (the
# captures the mover can make); 0 for the mover's own codes.
_CAPTURED_VALUE = np.concatenate([np.zeros(T.OPP + 1), T.PIECE_VALUE[1:]]).astype(np.float32)
_ACTION_FROM = np.maximum(T.ACTION_FROM, 0).astype(np.int32)
_ACTION_TO = T.ACTION_TO.astype(np.int32)
_ACTION_IS_DROP = T.ACTION_FROM < 0
# Code of the piece an action puts on its destination, given the code it moves (drops: slot + 1).
_DROP_CODE = np.maximum(T.ACTION_DROP_SLOT, 0).astype(np.int32) + 1
_STEP_BITS = np.int32(T.STEP_MASK)  # one-step and knight moves: no path to clear
_ALL_ACTIONS = np.arange(T.NUM_ACTIONS, dtype=np.int32)


def _near_king_actions() -> np.ndarray:
    """int32[81, M]: by the opponent's king square, the actions (padded with -1) that land next
    to it or a knight's jump from it, by a drop or a move some piece can make: the checks a
    mate in three's last move is looked for among (1/18 of all actions)."""
    to, frm = T.ACTION_TO, T.ACTION_FROM
    geometric = (frm < 0) | (T.MOVE_BITS[np.maximum(frm, 0), to] != 0)
    rows = []
    for king in range(81):
        near = ((T.KING_DISTANCE[king] == 1)
                | ((T.ROW == T.ROW[king] + 2) & (np.abs(T.COL - T.COL[king]) == 1)))
        rows.append(np.flatnonzero(near[to] & geometric))
    table = np.full((81, max(len(r) for r in rows)), -1, np.int32)
    for king, r in enumerate(rows):
        table[king, :len(r)] = r
    return table


_NEAR_KING_ACTIONS = _near_king_actions()
# Mate in three: of the ``FIRST_CHECKS`` best direct checks (one move generation each counts
# its replies), the ``THREE_CANDIDATES`` with fewest replies are followed; a check with more
# than ``EVASIONS`` replies is not (most have a handful: king steps, captures of the checker,
# interpositions); each reply is answered by ``LAST_CANDIDATES`` checks. Chosen on 600 positions
# of engine games where cshogi finds a mate in three but not in one: 94% of them found, ~10 ms
# a position on 2 CPU cores (8, 16 and 8 found 86%; the same with contact checks ordered
# without the defended-square term, 63%).
FIRST_CHECKS = 32
THREE_CANDIDATES = 12
EVASIONS = 8
LAST_CANDIDATES = 12
# Mate in five: the checks with fewest replies followed, and the most replies a followed check
# may have (each reply costs a mate in three).
FIVE_CANDIDATES = 8
FIVE_EVASIONS = 6


def capture_values(board: jax.Array, actions: jax.Array) -> jax.Array:
    """float32[S]: material (pawns) each of ``actions`` int32[S] captures on ``board`` int8[81]
    (0 for drops)."""
    value = jnp.asarray(_CAPTURED_VALUE)[board.astype(jnp.int32)[jnp.asarray(_ACTION_TO)[actions]]]
    return jnp.where(jnp.asarray(_ACTION_IS_DROP)[actions], 0.0, value)


def direct_checks(board: jax.Array, actions: jax.Array) -> jax.Array:
    """bool[S]: which of ``actions`` int32[S] put a piece that attacks the opponent's king on
    its destination (legality not tested)."""
    board = board.astype(jnp.int32)
    to = jnp.asarray(_ACTION_TO)[actions]
    code = jnp.where(jnp.asarray(_ACTION_IS_DROP)[actions], jnp.asarray(_DROP_CODE)[actions],
                     board[jnp.asarray(_ACTION_FROM)[actions]])
    code = jnp.where(jnp.asarray(T.ACTION_PROMOTE)[actions], jnp.asarray(T.PROMOTES_TO)[code], code)
    opp_king = jnp.argmax(board == T.KING + T.OPP)
    reach = jnp.asarray(T.CAPS)[code.astype(jnp.int32)] & jnp.asarray(T.MOVE_BITS)[to, opp_king]
    occupied = movegen.pack_squares(board != 0)
    between = jnp.asarray(T.BETWEEN_BB)[opp_king][to]  # [S, 3]
    vacated = jnp.asarray(T.ACTION_FROM_BB)[actions]
    path_clear = ~jnp.any((between & occupied & ~vacated) != 0, axis=-1)
    return ((reach & _STEP_BITS) != 0) | (((reach & ~_STEP_BITS) != 0) & path_clear)


def _best_checks(board, actions, valid, priority, k: int) -> tuple[jax.Array, jax.Array]:
    """(score float32[k], index int32[k]) of the ``k`` legal direct checks among ``actions`` of
    highest ``priority`` (ties: lowest index); a score <= 0 marks a slot with no check left."""
    score = jnp.where(valid & direct_checks(board, actions), 1.0 + priority, -1.0)
    return jax.lax.top_k(score, min(k, actions.shape[-1]))


def mate_in_one(board: jax.Array, hand: jax.Array, actions: jax.Array, valid: jax.Array,
                priority: jax.Array, *, candidates: int) -> tuple[jax.Array, jax.Array]:
    """A mating move of the side to move, if one is among its best direct checks.

    Args:
      board, hand: the canonical position (side to move's view), int8[81] and int8[2, 7].
      actions: int32[S] candidate actions; valid: bool[S] which of them are legal.
      priority: float32[S] >= 0; the ``candidates`` legal direct checks of highest priority
        are tried (ties: lowest index).
      candidates: how many checks to try (each costs one move generation).
    Returns:
      found: bool[] a mate in one was found.
      index: int32[] the mating move's index into ``actions`` (undefined when not found).
    """
    score, tried = _best_checks(board, actions, valid, priority, candidates)

    def mates(action):
        next_board, next_hand = apply_move(board, hand, action)
        legal_bits, in_check = movegen.legal_moves(next_board, next_hand)
        return in_check & ~jnp.any(legal_bits != 0)

    is_mate = jax.vmap(mates)(jnp.asarray(actions)[tried]) & (score > 0)
    return jnp.any(is_mate), tried[jnp.argmax(is_mate)].astype(jnp.int32)


def contact_priority(board: jax.Array, actions: jax.Array) -> jax.Array:
    """float32[S]: for each of ``actions`` int32[S] on ``board`` int8[81], 2 if it lands next to
    the opponent's king on a square another of the mover's pieces attacks (the king cannot take
    the checker: the checks that mate most often), 1 if next to the king undefended, else 0: a
    ``priority`` without a network."""
    king = jnp.argmax(board == T.KING + T.OPP)
    to = jnp.asarray(_ACTION_TO)[actions]
    contact = jnp.asarray(T.KING_DISTANCE)[king, to] <= 1
    # A moving piece attacks its destination itself; pieces lined up behind it are not counted.
    backers = (movegen.attack_counts(board.astype(jnp.int32))[0, to]
               - (~jnp.asarray(_ACTION_IS_DROP)[actions]).astype(jnp.int32))
    return jnp.where(contact, 1.0 + (backers > 0), 0.0).astype(jnp.float32)


def _has_mate_in_one(board: jax.Array, hand: jax.Array, *, candidates: int) -> jax.Array:
    """bool[]: the side to move mates in one among its ``candidates`` best direct checks that
    land next to the opponent's king or a knight's jump from it (``contact_priority`` first)."""
    legal_bits, _ = movegen.legal_moves(board, hand)
    listed = jnp.asarray(_NEAR_KING_ACTIONS)[jnp.argmax(board == T.KING + T.OPP)]
    actions = jnp.maximum(listed, 0)
    valid = (listed >= 0) & unpack_legal_bits(legal_bits)[actions]
    found, _ = mate_in_one(board, hand, actions, valid, contact_priority(board, actions),
                           candidates=candidates)
    return found


def mate_in_three(board: jax.Array, hand: jax.Array, actions: jax.Array, valid: jax.Array,
                  priority: jax.Array, *, candidates: int = THREE_CANDIDATES,
                  evasions: int = EVASIONS,
                  last_candidates: int = LAST_CANDIDATES) -> tuple[jax.Array, jax.Array]:
    """A check of the side to move after which every reply allows a mate in one (a mate in
    three, or in one when the check has no reply), if one is among its best direct checks.

    Sound, not complete: a found mate is forced (every legal reply is answered by a legal mate,
    pawn-drop mates excluded), but only the ``candidates`` of the ``FIRST_CHECKS`` best direct
    checks with fewest replies are followed as the first move and ``last_candidates`` are tried
    as the last (among the checks next to the king or a knight's jump from it, in
    ``contact_priority`` order: a mate from afar is not seen there), and a check with more
    than ``evasions`` legal replies is not followed. Counting the replies costs
    ``FIRST_CHECKS`` move generations, a followed check ``evasions * (1 + last_candidates)``.

    Args: as ``mate_in_one``, and ``evasions``, ``last_candidates`` as above.
    Returns:
      found: bool[] a mate in three (or one) was found.
      index: int32[] the first check's index into ``actions`` (undefined when not found).
    """
    tried, pick, followed, replies = _checks_by_replies(board, hand, actions, valid, priority,
                                                         candidates=candidates, evasions=evasions)
    reply_board, reply_hand, legal, count = replies

    def forces_mate(board1, hand1, legal1, count1):
        moves = jnp.nonzero(legal1, size=evasions, fill_value=0)[0].astype(jnp.int32)

        def answered(reply):
            return _has_mate_in_one(*apply_move(board1, hand1, reply),
                                    candidates=last_candidates)

        return jnp.all(jax.vmap(answered)(moves) | (jnp.arange(evasions) >= count1))

    forced = jax.vmap(forces_mate)(reply_board[pick], reply_hand[pick], legal[pick],
                                   count[pick]) & followed[pick]
    return jnp.any(forced), tried[pick[jnp.argmax(forced)]].astype(jnp.int32)


def _checks_by_replies(board, hand, actions, valid, priority, *, candidates: int, evasions: int):
    """The first move of a forced mate: the ``FIRST_CHECKS`` best legal direct checks among
    ``actions`` (``priority`` order), each played and its replies counted (one move generation
    each); ``pick`` int32[candidates] indexes the checks with fewest replies first (a
    proof-number search's order), ``followed`` bool[FIRST_CHECKS] marks those that are checks
    with at most ``evasions`` replies. Returns (tried int32[FIRST_CHECKS] indices into
    ``actions``, pick, followed, (board, hand, legal bool[FIRST_CHECKS, 13527], count) after
    each check)."""
    score, tried = _best_checks(board, actions, valid, priority, FIRST_CHECKS)

    def replies(action):
        reply_board, reply_hand = apply_move(board, hand, action)
        legal_bits, in_check = movegen.legal_moves(reply_board, reply_hand)
        legal = unpack_legal_bits(legal_bits)
        return reply_board, reply_hand, legal, jnp.sum(legal), in_check

    reply_board, reply_hand, legal, count, in_check = jax.vmap(replies)(
        jnp.asarray(actions)[tried])
    followed = (score > 0) & in_check & (count <= evasions)
    _, pick = jax.lax.top_k(jnp.where(followed, -count, -(1 << 30)), min(candidates, tried.size))
    return tried, pick, followed, (reply_board, reply_hand, legal, count)


def mated_in_three(board: jax.Array, hand: jax.Array, *, candidates: int = THREE_CANDIDATES,
                   evasions: int = EVASIONS, last_candidates: int = LAST_CANDIDATES
                   ) -> jax.Array:
    """bool[]: the side to move of the canonical position ``board`` int8[81], ``hand``
    int8[2, 7] can mate in three (or one) by ``mate_in_three`` over all its legal moves in
    ``contact_priority`` order; the search asks it of the opponent after its candidate moves."""
    found, _ = mate_in_three(board, hand, *_every_move(board, hand), candidates=candidates,
                             evasions=evasions, last_candidates=last_candidates)
    return found


def _every_move(board: jax.Array, hand: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(actions, valid, priority) for a mate search over all 13,527 actions of the side to
    move: its legal moves, in ``contact_priority`` order."""
    legal_bits, _ = movegen.legal_moves(board, hand)
    return (jnp.asarray(_ALL_ACTIONS), unpack_legal_bits(legal_bits),
            contact_priority(board, _ALL_ACTIONS))


def mated_in_five(board: jax.Array, hand: jax.Array, *, candidates: int = FIVE_CANDIDATES,
                  evasions: int = FIVE_EVASIONS) -> jax.Array:
    """bool[]: the side to move of the canonical position ``board`` int8[81], ``hand``
    int8[2, 7] has a check after which every reply allows it a mate in three
    (``mated_in_three``): a mate in five, or fewer. Sound, not complete, like ``mate_in_three``:
    the ``candidates`` of its ``FIRST_CHECKS`` best direct checks with fewest replies (at most
    ``evasions``) are followed. Checks and replies are tried one at a time and the search stops
    at the first reply that escapes (most do), so a quiet position costs a few mates in three
    rather than ``candidates * evasions`` of them."""
    _, pick, followed, (boards, hands, legal, count) = _checks_by_replies(
        board, hand, *_every_move(board, hand), candidates=candidates, evasions=evasions)

    def forces_mate(check):
        moves = jnp.nonzero(legal[check], size=evasions, fill_value=0)[0].astype(jnp.int32)

        def next_reply(carry):
            reply, _ = carry
            return reply + 1, mated_in_three(*apply_move(boards[check], hands[check],
                                                         moves[reply]))

        _, every = jax.lax.while_loop(lambda c: c[1] & (c[0] < count[check]), next_reply,
                                      (jnp.int32(0), jnp.bool_(True)))
        return every

    def next_check(carry):
        i, _ = carry
        return i + 1, forces_mate(pick[i])

    # ``pick`` lists the followed checks first: stop at the first mate or unfollowed check.
    _, found = jax.lax.while_loop(
        lambda c: ~c[1] & (c[0] < pick.size) & followed[pick[jnp.minimum(c[0], pick.size - 1)]],
        next_check, (jnp.int32(0), jnp.bool_(False)))
    return found
