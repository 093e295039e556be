"""Legal move generation for one canonical position, without playing any move.

Everything is derived once per position from an attack relation ``reach[f, t]`` over all 81 x 81
square pairs (both colours at once): step and knight moves come from capability bits, slides from
occupancy counts along the four line orientations (one small matmul gives prefix counts; the
count strictly between two aligned squares is a difference of two prefixes). Checkers, the squares
the opponent attacks, pins and the pawn-drop-mate test are read off that relation, so legality
never replays a move. The result is packed straight into Keisei's action order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax.shogi import tables as T

_SQ = np.arange(81)
_BIT_SHIFTS = np.arange(32, dtype=np.uint32)
_DIRS8 = np.arange(8)


def _pack_bits(bits: jax.Array) -> jax.Array:
    """bool[..., n * 32] -> uint32[..., n], bit i of word w = element w * 32 + i."""
    words = bits.reshape(*bits.shape[:-1], -1, 32).astype(jnp.uint32) << _BIT_SHIFTS
    return words.sum(-1, dtype=jnp.uint32)


def _pin_limit(pinner: jax.Array, ray_dir: jax.Array, ray_dist: jax.Array) -> jax.Array:
    """int32[81]: for each square on a ray from the king, the pinner's distance on that ray (0 if none).

    A square at a smaller distance on a ray whose pinner has exactly one piece between it and the
    king holds the pinned piece.
    """
    on_dir = pinner[:, None] & (ray_dir[:, None] == _DIRS8[None, :])  # [81 X, 8 d]
    pin_dist = jnp.max(jnp.where(on_dir, ray_dist[:, None], 0), axis=0)  # [8]
    return jnp.where(ray_dir < 8, pin_dist[jnp.minimum(ray_dir, 7)], 0)


def _attack_relation(code: jax.Array):
    """(reach bool[81, 81], between int32[81, 81], caps int32[81]) for a board of piece codes.

    ``reach[f, t]``: the piece on f attacks t (whatever stands on t). ``between[f, t]``: pieces
    strictly between aligned squares f and t (meaningless for unaligned pairs).
    """
    occ = code != T.EMPTY
    caps = jnp.asarray(T.CAPS)[code]
    counts = jnp.dot(occ.astype(jnp.float32), T.LINE_PREFIX).astype(jnp.int32).reshape(4, 81)
    inclusive = counts[0] | (counts[1] << 8) | (counts[2] << 16) | (counts[3] << 24)
    exclusive = inclusive - occ.astype(jnp.int32) * 0x01010101
    diff = jnp.where(
        T.TO_IS_AFTER,
        exclusive[None, :] - inclusive[:, None],
        exclusive[:, None] - inclusive[None, :],
    ) + T.PACKED_BIAS
    between = ((diff >> T.LINE_SHIFT) & 0xFF) - 0x40
    hit = caps[:, None] & T.MOVE_BITS
    reach = ((hit & T.STEP_MASK) != 0) | ((hit > T.STEP_MASK) & (between == 0))
    return reach, between, caps


def _pinned(defender, attacker, king, caps, between):
    """bool[81]: defender pieces pinned to the defender's king at ``king``; also the ray tables."""
    ray_dir = jnp.asarray(T.DIRECTION)[king]
    ray_dist = jnp.asarray(T.DISTANCE)[king]
    slides_to_king = (caps & jnp.asarray(T.MOVE_BITS)[:, king]) > T.STEP_MASK
    pinner = attacker & slides_to_king & (between[king] == 1)
    limit = _pin_limit(pinner, ray_dir, ray_dist)
    return defender & (ray_dist < limit), ray_dir, ray_dist, slides_to_king


def legal_moves(board: jax.Array, hand: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Legal actions of the side to move of a canonical position.

    Args:
      board: int8[81] canonical piece codes.
      hand: int8[2, 7] hands, row 0 the side to move's.
    Returns:
      legal_bits: uint32[423] in Keisei's action order.
      in_check: bool[] whether the side to move is in check.
    """
    code = board.astype(jnp.int32)
    occ = code != T.EMPTY
    own = (code >= 1) & (code <= T.OPP)
    opp = code > T.OPP
    is_king = code == T.KING
    has_king = is_king.any()
    has_opp_king = (code == T.KING + T.OPP).any()
    king = jnp.argmax(is_king)
    opp_king = jnp.argmax(code == T.KING + T.OPP)

    reach, between, caps = _attack_relation(code)

    # Checks, and squares the king may not step to.
    attacked = jnp.any(opp[:, None] & reach, axis=0)
    checkers = opp & reach[:, king] & has_king
    n_checks = checkers.sum()
    pinned, ray_dir, ray_dist, slides_to_king = _pinned(own, opp, king, caps, between)
    # A sliding checker also attacks the square just behind the king on its line.
    xray_dirs = jnp.sum(
        jnp.where(checkers & slides_to_king, 1 << jnp.asarray(T.DIRECTION)[:, king], 0)
    )
    behind_king = (ray_dist == 1) & (((xray_dirs >> ray_dir) & 1) != 0)
    king_target_ok = ~own & ~attacked & ~behind_king

    # With one checker, other pieces must capture it or block its line; with two, nothing helps.
    checker = jnp.argmax(checkers)
    block = (ray_dir == ray_dir[checker]) & (ray_dir < 8) & (ray_dist < ray_dist[checker])
    evasion_ok = jnp.where(
        n_checks == 0, True, (n_checks == 1) & (block | (_SQ == checker))
    )
    stays_on_pin_line = ~pinned[:, None] | (ray_dir[None, :] == ray_dir[:, None])
    legal = (
        own[:, None]
        & reach
        & ~own[None, :]
        & jnp.where(is_king[:, None], king_target_ok[None, :], evasion_ok[None, :] & stays_on_pin_line)
    )

    promotes = jnp.asarray(T.PROMOTES_TO)[code] != 0
    can_promote = promotes[:, None] & (T.IN_ZONE[:, None] | T.IN_ZONE[None, :])
    must_promote = ((jnp.asarray(T.MUST_PROMOTE_ROWS)[code][:, None] >> T.ROW[None, :]) & 1) != 0
    plain = legal & ~must_promote
    promote = legal & can_promote

    # Drops: empty square, not dead, no second unpromoted pawn on the file, legal under check.
    pawn_files = jnp.any((code == T.PAWN).reshape(9, 9), axis=0)
    no_pawn_on_file = ~jnp.tile(pawn_files, 9)
    drop = (
        (hand[0] > 0)[None, :]
        & ~occ[:, None]
        & (T.ROW[:, None] >= T.DROP_MIN_ROW[None, :])
        & evasion_ok[:, None]
        & ((np.arange(7) != 0)[None, :] | no_pawn_on_file[:, None])
    )
    mate_square, is_mate = _pawn_drop_mate(code, own, opp, opp_king, caps, reach, between)
    uchifuzume = has_opp_king & is_mate & (_SQ == mate_square)
    drop = drop & ~(uchifuzume[:, None] & (np.arange(7) == 0)[None, :])

    # Pack in Keisei's order: from * 160 + dest_off * 2 + promote, then 12960 + to * 7 + slot.
    def skip_diagonal(x):
        return jnp.where(T.DEST_OFF_SKIPS, x[:, 1:], x[:, :80])

    board_bits = jnp.stack([skip_diagonal(plain), skip_diagonal(promote)], axis=-1)
    board_words = _pack_bits(board_bits.reshape(81, 160)).reshape(-1)
    drop_bits = jnp.concatenate([drop.reshape(-1), jnp.zeros(T.NUM_DROP_WORDS * 32 - 567, bool)])
    drop_words = _pack_bits(drop_bits)
    return jnp.concatenate([board_words, drop_words]), n_checks > 0


def _pawn_drop_mate(code, own, opp, opp_king, caps, reach, between):
    """(square, mate): would a pawn dropped in front of the opponent's king mate it?

    The opponent is not in check before the drop, so no slider of ours reaches its king and the
    king can be treated as absent when testing its escapes. The dropped pawn can only block our
    own lines through its square.
    """
    square = opp_king + 9  # the pawn attacks one row up, so it stands just below the king
    on_board = opp_king < 72  # the king is not on the last row
    square = jnp.minimum(square, 80)

    neighbors = jnp.asarray(T.NEIGHBORS)[opp_king]  # [8]
    valid = neighbors >= 0
    nb = jnp.maximum(neighbors, 0)
    dir_from_nb = jnp.asarray(T.DIRECTION)[nb]  # [8, 81]
    dist_from_nb = jnp.asarray(T.DISTANCE)[nb]
    pawn_dir = dir_from_nb[:, square]  # [8]
    pawn_dist = dist_from_nb[:, square]
    blocked = (
        (dir_from_nb == pawn_dir[:, None])
        & (pawn_dir[:, None] < 8)
        & (dist_from_nb > pawn_dist[:, None])
    )  # [8 nb, 81 X]: the pawn stands between X and nb
    attackers = own[None, :] & reach[:, nb].T & ~blocked
    attacked_after = attackers.any(axis=1)
    escape = jnp.any(valid & ~opp[nb] & ~attacked_after)

    pinned, ray_dir, _, _ = _pinned(opp, own, opp_king, caps, between)
    may_capture = (
        opp
        & (code != T.KING + T.OPP)
        & reach[:, square]
        & (~pinned | (ray_dir == ray_dir[square]))
    )
    mate = on_board & (code[square] == T.EMPTY) & ~escape & ~may_capture.any()
    return square, mate
