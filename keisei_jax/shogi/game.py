"""Game rules on top of move generation: init, positions from SFEN, step, and the ways a game
ends."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import tables as T
from keisei_jax.shogi.movegen import legal_moves
from keisei_jax.shogi.sfen import absolute_position, parse_sfen, shown, square_name
from keisei_jax.shogi.state import (
    DEFAULT_MAX_PLIES,
    HISTORY_LEN,
    State,
    Termination,
    earlier_occurrences,
)

_SQ = np.arange(81)
_SLOTS = np.arange(7)


def apply_move(board: jax.Array, hand: jax.Array, action: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Play ``action`` for the side to move and return the position from the opponent's view.

    No legality check: board int8[81] and hand int8[2, 7] canonical in, canonical (flipped) out.
    """
    frm = jnp.asarray(T.ACTION_FROM)[action].astype(jnp.int32)
    to = jnp.asarray(T.ACTION_TO)[action].astype(jnp.int32)
    slot = jnp.asarray(T.ACTION_DROP_SLOT)[action].astype(jnp.int32)
    is_drop = frm < 0
    moving = jnp.where(is_drop, slot + 1, board[jnp.maximum(frm, 0)].astype(jnp.int32))
    moving = jnp.where(
        jnp.asarray(T.ACTION_PROMOTE)[action], jnp.asarray(T.PROMOTES_TO)[moving], moving
    )
    captured_slot = jnp.asarray(T.HAND_SLOT)[board[to]].astype(jnp.int32)
    board = jnp.where(_SQ == to, moving, jnp.where(_SQ == frm, 0, board)).astype(jnp.int8)
    own_hand = hand[0] + (_SLOTS == captured_slot) - (is_drop & (_SLOTS == slot))
    hand = jnp.stack([own_hand.astype(jnp.int8), hand[1]])
    return flip(board, hand)


def flip(board: jax.Array, hand: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Rotate the board 180 degrees and swap the sides: the other player's canonical view."""
    return jnp.asarray(T.SWAP_SIDE)[board[::-1]], hand[::-1]


def zobrist_hash(board: jax.Array, hand: jax.Array, color: jax.Array) -> jax.Array:
    """uint32[2]: 64-bit hash of the absolute position; never 0 (0 marks an empty history slot)."""
    keys = jnp.asarray(T.ZOBRIST_BOARD)[color, _SQ, board.astype(jnp.int32)]  # [81, 2]
    hand_keys = jnp.asarray(T.ZOBRIST_HAND)[
        color, np.arange(2)[:, None], _SLOTS[None, :], hand.astype(jnp.int32)
    ].reshape(14, 2)
    keys = jnp.concatenate([keys, hand_keys])
    h = jax.lax.reduce(keys, np.uint32(0), jax.lax.bitwise_xor, (0,))
    return h | np.array([1, 0], np.uint32)


def impasse_declaration(board: jax.Array, hand: jax.Array, color: jax.Array, in_check: jax.Array):
    """bool[]: the side to move wins by entering-king declaration (CSA 27-point rule).

    All must hold at its turn: its king is in the opponent's camp (the three far ranks); it is
    not in check; at least 10 of its other pieces are in that camp; and those pieces plus its
    pieces in hand score at least 28 points for Black or 27 for White, counting bishops and
    rooks (promoted or not) 5 and every other piece 1.
    """
    code = board.astype(jnp.int32)
    in_camp = T.IN_ZONE
    own = (code >= 1) & (code <= T.OPP)
    king_in_camp = jnp.any((code == T.KING) & in_camp)
    pieces = own & (code != T.KING) & in_camp
    points = jnp.sum(jnp.where(pieces, jnp.asarray(T.IMPASSE_POINTS)[code], 0))
    points += jnp.sum(hand[0].astype(jnp.int32) * T.HAND_IMPASSE_POINTS)
    needed = jnp.where(color == 0, 28, 27)
    return king_in_camp & ~in_check & (pieces.sum() >= 10) & (points >= needed)


def make_state(board, hand, color, ply, max_plies) -> State:
    """A fresh (not finished) state for a canonical position, its legal moves computed.

    The past is unknown: the hash history holds only this position, and the last move counts
    as a check if the side to move is in check now.
    """
    board = jnp.asarray(board, jnp.int8)
    hand = jnp.asarray(hand, jnp.int8)
    color = jnp.asarray(color, jnp.int8)
    ply = jnp.asarray(ply, jnp.int32)
    legal_bits, in_check = legal_moves(board, hand)
    h = zobrist_hash(board, hand, color)
    hash_history = jnp.zeros((HISTORY_LEN, 2), jnp.uint32).at[ply % HISTORY_LEN].set(h)
    return State(
        board=board,
        hand=hand,
        color=color,
        ply=ply,
        max_plies=jnp.asarray(max_plies, jnp.int32),
        legal_bits=legal_bits,
        in_check=in_check,
        check_streak=jnp.stack([jnp.int16(0), in_check.astype(jnp.int16)]),
        hash_history=hash_history,
        terminated=jnp.bool_(False),
        truncated=jnp.bool_(False),
        rewards=jnp.zeros(2, jnp.float32),
        termination=jnp.int8(Termination.NONE),
    )


_make_state_jit = jax.jit(make_state)

# Most pieces of each type (by unpromoted type, promoted pieces counted as their base) in a set.
_SET_COUNTS = {"P": 18, "L": 4, "N": 4, "S": 4, "G": 4, "B": 2, "R": 2, "K": 2}
_COLOR_NAMES = ("Black", "White")
_TYPE_NAMES = (
    "", "pawn", "lance", "knight", "silver", "gold", "bishop", "rook", "king",
    "promoted pawn", "promoted lance", "promoted knight", "promoted silver", "horse", "dragon",
)


def check_position(board: np.ndarray, hand: np.ndarray, color: int) -> None:
    """Raise ValueError naming why a canonical position cannot arise in a game, if it cannot.

    Checked (numpy, for positions that come from text): no more pieces of a kind than the set
    holds (board and hands together) and at most one king a side; no pawn or lance on its
    owner's last rank and no knight on its last two; no two unpromoted pawns of one side on a
    file (nifu); the side not to move is not in check (else the side to move could take its
    king). A missing king is allowed (tsume problems leave out the attacker's).
    """
    board, hand = np.asarray(board, np.int8), np.asarray(hand, np.int8)
    abs_board, abs_hand = absolute_position(board, hand, color)
    code = abs_board.astype(np.int64)
    owner = np.where(code > T.OPP, 1, 0)
    own_type = np.where(code > 0, (code - 1) % T.OPP + 1, 0)

    is_king = own_type == T.KING
    slots = T.HAND_SLOT[code[(code > 0) & ~is_king]]  # captured pieces go to their base's slot
    counts = np.bincount(slots, minlength=7) + abs_hand.sum(0)
    counts = {**dict(zip(T.HAND_LETTERS, counts.tolist(), strict=True)), "K": int(is_king.sum())}
    for letter, n in counts.items():
        if n > _SET_COUNTS[letter]:
            raise ValueError(f"{n} pieces of type {letter}, at most {_SET_COUNTS[letter]} in a set")
    for side, name in enumerate(_COLOR_NAMES):
        if int((is_king & (owner == side)).sum()) > 1:
            raise ValueError(f"{name} has more than one king")

    rows_from_end = np.where(owner == 0, T.ROW, 8 - T.ROW)  # 0 = the owner's last rank
    dead = (code > 0) & (((T.MUST_PROMOTE_ROWS[own_type] >> rows_from_end) & 1) == 1)
    if dead.any():
        sq = int(np.flatnonzero(dead)[0])
        raise ValueError(
            f"{_COLOR_NAMES[owner[sq]]} {_TYPE_NAMES[own_type[sq]]} on {square_name(sq)} could "
            "never move again (an unpromoted pawn or lance on its last rank, a knight on its "
            "last two)"
        )

    for side, name in enumerate(_COLOR_NAMES):
        pawns = ((own_type == T.PAWN) & (owner == side)).reshape(9, 9).sum(0)
        if pawns.max() > 1:
            file = 9 - int(np.argmax(pawns))
            raise ValueError(f"{name} has two unpromoted pawns on file {file} (nifu)")

    # The opponent's king attacked by the side to move, in the canonical frame (tables' attack
    # bits are from the side to move's point of view).
    kings = np.flatnonzero(board == T.KING + T.OPP)
    if kings.size:
        king = int(kings[0])
        movers = np.flatnonzero((board >= 1) & (board <= T.OPP))
        hit = T.CAPS[board[movers]] & T.MOVE_BITS[movers, king]
        clear = ~np.any(T.BETWEEN_BB[king, movers] & T.bitboard(board != 0), axis=-1)
        attackers = movers[((hit & T.STEP_MASK) != 0) | ((hit > T.STEP_MASK) & clear)]
        if attackers.size:
            sq = int(attackers[0])
            abs_sq, abs_king = (sq, king) if color == 0 else (80 - sq, 80 - king)
            raise ValueError(
                f"{_COLOR_NAMES[1 - color]}, not to move, is in check: {_COLOR_NAMES[color]}'s "
                f"{_TYPE_NAMES[board[sq]]} on {square_name(abs_sq)} could capture the king on "
                f"{square_name(abs_king)}"
            )


def position_from_sfen(sfen: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``sfen.parse_sfen`` of a position that can arise in a game: ValueError for text that is
    not an SFEN and for a position ``check_position`` rejects, naming the SFEN and the problem."""
    board, hand, color, ply = parse_sfen(sfen)
    try:
        check_position(board, hand, color)
    except ValueError as err:
        raise ValueError(f"impossible position {shown(sfen)}: {err}") from None
    return board, hand, color, ply


def from_sfen(sfen: str, *, max_plies: int = DEFAULT_MAX_PLIES) -> State:
    """State of an SFEN position ('startpos' and a leading 'sfen ' are accepted); ValueError as
    in ``position_from_sfen``."""
    board, hand, color, ply = position_from_sfen(sfen)
    return _make_state_jit(board, hand, np.int8(color), np.int32(ply), np.int32(max_plies))


def from_sfens(sfens: Iterable[str], *, max_plies: int = DEFAULT_MAX_PLIES) -> State:
    """State[B] of B SFEN positions (``from_sfen`` each, ValueError as there). The leaves are
    stacked on the host and put on the device as they are: no program is compiled per batch
    size (``jnp.asarray`` of a host array compiles one per shape), and inside a trace the batch
    is a constant."""
    with jax.ensure_compile_time_eval():
        states = [from_sfen(s, max_plies=max_plies) for s in sfens]
    if not states:
        raise ValueError("from_sfens needs at least one SFEN")
    return jax.tree_util.tree_map(lambda *x: jax.device_put(np.stack(x)), *states)


@functools.cache
def _start_state() -> State:
    """The start position as numpy constants, computed once (even when first asked in a trace)."""
    with jax.ensure_compile_time_eval():
        state = from_sfen(T.START_SFEN)
    return jax.tree_util.tree_map(np.asarray, state)


def init(*, max_plies: int = DEFAULT_MAX_PLIES) -> State:
    """The start position, Black to move."""
    start = jax.tree_util.tree_map(jax.device_put, _start_state())  # no program per leaf
    return dataclasses.replace(start, max_plies=jnp.asarray(max_plies, jnp.int32))


def is_legal(state: State, action: jax.Array) -> jax.Array:
    """bool[]: ``action`` is in range and legal for the side to move."""
    action = jnp.asarray(action, jnp.int32)
    a = jnp.clip(action, 0, T.NUM_ACTIONS - 1)
    word = state.legal_bits[jnp.asarray(T.ACTION_WORD)[a]]
    bit = (word >> jnp.asarray(T.ACTION_BIT)[a].astype(jnp.uint32)) & 1
    return (action >= 0) & (action < T.NUM_ACTIONS) & (bit == 1)


# Jitted: called eagerly (a GUI's position, an API user) it is one program instead of hundreds
# of one-op ones (4 first moves 5.3 s -> 1.6 s in a fresh process), and a program that steps
# more than once traces it once.
@jax.jit
def step(state: State, action: jax.Array) -> State:
    """Play ``action`` (int32 in [0, 13527)) for the side to move.

    An illegal or out-of-range action ends the game as a loss for the mover (ILLEGAL_ACTION) and
    leaves the position as it was. Stepping a finished game returns it unchanged, rewards zeroed.
    """
    action = jnp.asarray(action, jnp.int32)
    legal = is_legal(state, action)
    finished = state.terminated | state.truncated
    board, hand = apply_move(state.board, state.hand, jnp.clip(action, 0, T.NUM_ACTIONS - 1))
    color = 1 - state.color
    ply = state.ply + 1
    legal_bits, in_check = legal_moves(board, hand)
    h = zobrist_hash(board, hand, color)
    # Written only when the move is played, so the illegal and finished outcomes below share
    # this array instead of selecting between two copies of the whole history.
    slot = ply % HISTORY_LEN
    played_now = legal & ~finished
    hash_history = state.hash_history.at[slot].set(
        jnp.where(played_now, h, state.hash_history[slot])
    )
    mover_streak = jnp.where(in_check, state.check_streak[0] + 1, 0).astype(jnp.int16)
    check_streak = jnp.stack([state.check_streak[1], mover_streak])

    # Sennichite: the fourth occurrence within the history window. A side that checked with each
    # of its moves since the first occurrence loses (the mover first if both did).
    seen, ages = earlier_occurrences(hash_history, ply)
    fourfold = seen.sum() >= 3
    moves_each = jnp.max(jnp.where(seen, ages, 0)) // 2
    mover_perpetual = mover_streak >= moves_each
    other_perpetual = check_streak[0] >= moves_each

    no_moves = ~jnp.any(legal_bits != 0)
    impasse = impasse_declaration(board, hand, color, in_check)
    cap = ply >= state.max_plies

    # (ended, cause, result for the mover), first match wins.
    outcomes = [
        (no_moves, jnp.where(in_check, Termination.CHECKMATE, Termination.NO_LEGAL_MOVES), 1),
        (fourfold & mover_perpetual, Termination.PERPETUAL_CHECK, -1),
        (fourfold & other_perpetual, Termination.PERPETUAL_CHECK, 1),
        (fourfold, Termination.REPETITION, 0),
        (impasse, Termination.IMPASSE, -1),
        (cap, Termination.PLY_CAP, 0),
    ]
    cause = jnp.int32(Termination.NONE)
    result = jnp.int32(0)
    for cond, c, r in reversed(outcomes):
        cause = jnp.where(cond, c, cause)
        result = jnp.where(cond, r, result)
    truncated = cause == Termination.PLY_CAP
    terminated = (cause != Termination.NONE) & ~truncated

    played = State(
        board=board,
        hand=hand,
        color=color.astype(jnp.int8),
        ply=ply,
        max_plies=state.max_plies,
        legal_bits=legal_bits,
        in_check=in_check,
        check_streak=check_streak,
        hash_history=hash_history,
        terminated=terminated,
        truncated=truncated,
        rewards=_rewards(state.color, result),
        termination=cause.astype(jnp.int8),
    )
    illegal = dataclasses.replace(
        state,
        hash_history=hash_history,
        terminated=jnp.bool_(True),
        rewards=_rewards(state.color, -1),
        termination=jnp.int8(Termination.ILLEGAL_ACTION),
    )
    unchanged = dataclasses.replace(
        state, hash_history=hash_history, rewards=jnp.zeros(2, jnp.float32)
    )
    out = jax.tree_util.tree_map(functools.partial(jnp.where, legal), played, illegal)
    return jax.tree_util.tree_map(functools.partial(jnp.where, finished), unchanged, out)


def _rewards(mover_color: jax.Array, mover_result) -> jax.Array:
    """float32[2] per absolute colour from the mover's result (+1, 0, -1)."""
    r = jnp.asarray(mover_result, jnp.float32)
    return jnp.where(np.arange(2) == mover_color, r, -r)
