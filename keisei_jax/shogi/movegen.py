"""Legal move generation for one canonical position, without playing any move.

The one dense step is the attack relation ``reach[f, t]`` over all 81 x 81 square pairs (both
colours at once): step and knight moves come from capability bits, slides from occupancy counts
along the four line orientations (one small matmul gives prefix counts; the count strictly between
two aligned squares is a difference of two prefixes). It is packed at once into one bitboard per
square (``uint32[81, 3]``, 27 squares a word), and everything after works on bitboards: the squares
the opponent attacks, checkers, pins, check evasions, promotions, drops and the pawn-drop-mate
test. Legality never replays a move.

Output layout ("legal bits", uint32[507]): for each from-square f, words ``6f .. 6f+2`` hold the
destinations of plain moves and ``6f+3 .. 6f+5`` those of promoting moves; words ``486 + 3k ..``
hold the drop squares of hand slot k. ``ACTION_WORD``/``ACTION_BIT`` in ``tables`` locate any
Keisei action in it, ``word_bit_to_action`` goes back, and ``state.unpack_legal_bits`` expands it
to Keisei's bool[13527] order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import tables as T

_SQ = np.arange(81)
_BB_SHIFTS = np.arange(T.BB_BITS, dtype=np.uint32)
_FULL = np.full(3, T.BB_FULL, np.uint32)
_DIRS8 = np.arange(8)


def word_bit_to_action(word, bit):
    """int32[...]: Keisei action of bit ``bit`` of word ``word`` of the legal bits (the inverse of
    ``ACTION_WORD``/``ACTION_BIT``). Numpy in, numpy out; jax arrays in, jax out."""
    to = (word % 3) * T.BB_BITS + bit
    frm = word // 6
    board_action = frm * 160 + 2 * (to - (to > frm)) + (word % 6) // 3
    drop_action = T.NUM_BOARD_ACTIONS + to * 7 + (word - T.DROP_WORD0) // 3
    # An arithmetic select, which numpy and jax (traced or not) both evaluate.
    action = drop_action + (word < T.DROP_WORD0) * (board_action - drop_action)
    return action.astype(np.int32)


def pack_squares(x: jax.Array) -> jax.Array:
    """bool[..., 81] -> bitboard uint32[..., 3]."""
    bits = x.reshape(*x.shape[:-1], 3, T.BB_BITS).astype(jnp.uint32) << _BB_SHIFTS
    return bits.sum(-1, dtype=jnp.uint32)


def unpack_squares(bb: jax.Array) -> jax.Array:
    """bitboard uint32[..., 3] -> bool[..., 81]."""
    bits = (bb[..., :, None] >> _BB_SHIFTS) & 1
    return bits.reshape(*bb.shape[:-1], 81).astype(bool)


def square_bit(bb: jax.Array, sq: jax.Array) -> jax.Array:
    """bool[...]: is square ``sq`` (a scalar) in each bitboard of ``bb`` uint32[..., 3]?"""
    word = jnp.take(bb, sq // T.BB_BITS, axis=-1)
    return ((word >> (sq % T.BB_BITS).astype(jnp.uint32)) & 1) == 1


def _union(bbs: jax.Array) -> jax.Array:
    """uint32[n, 3] -> uint32[3], bitwise OR of the rows."""
    return jax.lax.reduce(bbs, np.uint32(0), jax.lax.bitwise_or, (0,))


def _popcount(bb: jax.Array) -> jax.Array:
    return jax.lax.population_count(bb).astype(jnp.int32).sum(-1)


def attack_bitboards(code: jax.Array) -> jax.Array:
    """uint32[81, 3]: for each square, the squares its piece attacks (whatever stands on them)."""
    return pack_squares(attack_relation(code))


def attack_counts(code: jax.Array) -> jax.Array:
    """int32[2, 81]: how many pieces of the side to move (row 0) and of the opponent (row 1)
    attack each square of the canonical board ``code`` int[81]."""
    reach = attack_relation(code).astype(jnp.float32)
    sides = jnp.stack([(code >= 1) & (code <= T.OPP), code > T.OPP]).astype(jnp.float32)
    # A float matmul of 0/1 values (counts <= 18): exact on every backend, unlike int matmuls.
    return jnp.dot(sides, reach).astype(jnp.int32)


def attack_relation(code: jax.Array) -> jax.Array:
    """bool[81, 81]: ``[f, t]`` the piece on square f attacks square t."""
    occ = code != T.EMPTY
    caps = jnp.asarray(T.CAPS)[code]
    # 0/1 inputs and counts <= 9: exact even where a backend multiplies f32 in bf16 (TPU).
    counts = jnp.dot(occ.astype(jnp.float32), T.LINE_PREFIX).astype(jnp.int32).reshape(4, 81)
    inclusive = counts[0] | (counts[1] << 8) | (counts[2] << 16) | (counts[3] << 24)
    exclusive = inclusive - occ.astype(jnp.int32) * 0x01010101
    diff = (
        jnp.where(
            T.TO_IS_AFTER,
            exclusive[None, :] - inclusive[:, None],
            exclusive[:, None] - inclusive[None, :],
        )
        + T.PACKED_BIAS
    )
    path_clear = ((diff >> T.LINE_SHIFT) & 0xFF) == 0x40  # nothing strictly between f and t
    hit = caps[:, None] & T.MOVE_BITS
    return ((hit & T.STEP_MASK) != 0) | ((hit > T.STEP_MASK) & path_clear)


def _pins(king, defender, attacker, caps, occ_bb):
    """Defender pieces pinned to the defender's king by attacker sliders.

    Returns (pinned bool[81], between_bb uint32[81, 3] = squares strictly between king and each
    square, slides_to_king bool[81] = the piece on X could slide along X -> king).
    """
    between_bb = jnp.asarray(T.BETWEEN_BB)[king]
    slides_to_king = (caps & jnp.asarray(T.MOVE_BITS)[:, king]) > T.STEP_MASK
    pinner = attacker & slides_to_king & (_popcount(between_bb & occ_bb) == 1)
    pinned_bb = _union(jnp.where(pinner[:, None], between_bb, 0))
    return defender & unpack_squares(pinned_bb), between_bb, slides_to_king


# Jitted so that a program tracing it several times (a play search: each node, the mate checks,
# the step) traces it once per shape and shares the result: 7.2 -> 4.9 s to trace an 8-simulation
# play search, the compiled program unchanged (XLA inlines the call).
@jax.jit
def legal_moves(board: jax.Array, hand: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Legal actions of the side to move of a canonical position.

    Args:
      board: int8[81] canonical piece codes.
      hand: int8[2, 7] hands, row 0 the side to move's.
    Returns:
      legal_bits: uint32[507] (layout in the module docstring).
      in_check: bool[] whether the side to move is in check.
    """
    code = board.astype(jnp.int32)
    occ = code != T.EMPTY
    own = (code >= 1) & (code <= T.OPP)
    opp = code > T.OPP
    is_king = code == T.KING
    has_king = is_king.any()
    king = jnp.argmax(is_king)
    opp_king = jnp.argmax(code == T.KING + T.OPP)
    caps = jnp.asarray(T.CAPS)[code]
    occ_bb, own_bb = pack_squares(occ), pack_squares(own)

    attacks = attack_bitboards(code)  # [81, 3]
    opp_attacks = _union(jnp.where(opp[:, None], attacks, 0))
    checkers = opp & square_bit(attacks, king) & has_king
    n_checks = checkers.sum()
    pinned, between_bb, slides_to_king = _pins(king, own, opp, caps, occ_bb)
    pinned &= has_king

    # The king may not step onto an attacked square, nor along a sliding checker's line away
    # from it (the king itself hides that square from the attack map).
    ray_dir = jnp.asarray(T.DIRECTION)[king]
    ray_dist = jnp.asarray(T.DISTANCE)[king]
    xray_dirs = jnp.sum(
        jnp.where(checkers & slides_to_king, 1 << jnp.asarray(T.DIRECTION)[:, king], 0)
    )
    behind_king = (ray_dist == 1) & (((xray_dirs >> ray_dir) & 1) != 0)
    king_targets = ~own_bb & ~opp_attacks & ~pack_squares(behind_king) & _FULL

    # Other pieces, and drops: with one checker capture it or block its line; with two, nothing.
    checker = jnp.argmax(checkers)
    evasions = jnp.where(
        n_checks == 0,
        _FULL,
        jnp.where(n_checks == 1, between_bb[checker] | pack_squares(_SQ == checker), 0),
    ).astype(jnp.uint32)
    pin_rays = jnp.where(pinned[:, None], jnp.asarray(T.RAY_BB)[king], _FULL)
    targets = jnp.where(is_king[:, None], king_targets, evasions & pin_rays)
    moves = jnp.where(own[:, None], attacks & ~own_bb & targets, 0)

    promotes = jnp.asarray(T.PROMOTES_TO)[code] != 0
    promote_targets = jnp.where(T.IN_ZONE[:, None], _FULL, T.ZONE_BB)
    promote = jnp.where(promotes[:, None], moves & promote_targets, 0)
    plain = moves & ~jnp.asarray(T.MUST_PROMOTE_BB)[code]

    # Drops: empty square, not dead, no second unpromoted pawn on the file, no pawn-drop mate.
    pawn_files = jnp.any((code == T.PAWN).reshape(9, 9), axis=0)
    pawn_ok = ~pack_squares(jnp.tile(pawn_files, 9))
    mate_square, is_mate = _pawn_drop_mate(code, own, opp, opp_king, caps, attacks, occ_bb)
    pawn_ok &= ~pack_squares((_SQ == mate_square) & is_mate)
    drop_ok = ~occ_bb & evasions & _FULL
    drops = jnp.where((hand[0] > 0)[:, None], drop_ok & jnp.asarray(T.DROP_ROWS_BB), 0)
    drops = drops.at[0].set(drops[0] & pawn_ok)

    board_words = jnp.concatenate([plain, promote], axis=-1).reshape(-1)
    legal_bits = jnp.concatenate([board_words, drops.reshape(-1)]).astype(jnp.uint32)
    return legal_bits, n_checks > 0


def _pawn_drop_mate(code, own, opp, opp_king, caps, attacks, occ_bb):
    """(square, mate): would a pawn dropped in front of the opponent's king mate it?

    The opponent is not in check before the drop, so no slider of ours reaches its king and the
    king can be treated as absent when testing its escapes. The dropped pawn can only block our
    own lines through its square, and a check from an adjacent pawn cannot be blocked.
    """
    has_opp_king = (code == T.KING + T.OPP).any()
    square = jnp.minimum(opp_king + 9, 80)  # the pawn attacks one row up, so it stands just below
    possible = has_opp_king & (opp_king < 72) & (code[square] == T.EMPTY)

    neighbors = jnp.asarray(T.NEIGHBORS)[opp_king]  # [8]
    nb = jnp.maximum(neighbors, 0)
    dir_from_nb = jnp.asarray(T.DIRECTION)[nb]  # [8, 81]
    dist_from_nb = jnp.asarray(T.DISTANCE)[nb]
    pawn_dir = dir_from_nb[:, square]
    blocked = (
        (dir_from_nb == pawn_dir[:, None])
        & (pawn_dir[:, None] < 8)
        & (dist_from_nb > dist_from_nb[:, square][:, None])
    )  # [8 nb, 81 X]: the pawn would stand between X and nb
    attacked = jax.vmap(lambda sq: square_bit(attacks, sq))(nb)  # [8 nb, 81 X]
    guarded = jnp.any(own[None, :] & attacked & ~blocked, axis=1)
    escape = jnp.any((neighbors >= 0) & ~opp[nb] & ~guarded)

    pinned, _, _ = _pins(opp_king, opp, own, caps, occ_bb)
    ray_dir = jnp.asarray(T.DIRECTION)[opp_king]
    may_capture = (
        opp
        & (code != T.KING + T.OPP)
        & square_bit(attacks, square)
        & (~pinned | (ray_dir == ray_dir[square]))
    )
    return square, possible & ~escape & ~may_capture.any()
