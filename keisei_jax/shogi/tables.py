"""Constant tables of the rules engine, built once with numpy at import.

Coordinates. A square is ``row * 9 + col`` with row 0 = rank a and col 0 = file 9, so USI "9a" is
square 0 and "1i" is square 80. The engine keeps every position *canonical*: rotated so that the
side to move sits at the bottom and moves toward row 0 (for White the absolute square ``s`` is
stored at ``80 - s``). Action indices and observations use the same canonical frame.

Piece codes (int8). 0 is empty; 1..14 are the side to move's pieces and 15..28 the opponent's
(``code + 14``). Types: P L N S G B R K +P +L +N +S +B +R = 1..14. Hand slots: P L N S G B R = 0..6.
"""

from __future__ import annotations

import numpy as np

NUM_BOARD_ACTIONS = 81 * 160  # from_sq * 160 + dest_off * 2 + promote
NUM_DROP_ACTIONS = 81 * 7  # 12960 + to_sq * 7 + hand slot
NUM_ACTIONS = NUM_BOARD_ACTIONS + NUM_DROP_ACTIONS  # 13,527

EMPTY = 0
PAWN, LANCE, KNIGHT, SILVER, GOLD, BISHOP, ROOK, KING = 1, 2, 3, 4, 5, 6, 7, 8
PRO_PAWN, PRO_LANCE, PRO_KNIGHT, PRO_SILVER, HORSE, DRAGON = 9, 10, 11, 12, 13, 14
OPP = 14  # add to an own code to get the opponent's code of the same type
NUM_CODES = 29

PIECE_LETTERS = "PLNSGBRK"  # SFEN letters of types 1..8
HAND_LETTERS = "PLNSGBR"

ROW = np.arange(81) // 9
COL = np.arange(81) % 9
# [from, to]: king steps between two squares (Chebyshev distance).
KING_DISTANCE = np.maximum(np.abs(ROW[:, None] - ROW[None, :]), np.abs(COL[:, None] - COL[None, :]))

# Directions as (d_row, d_col); "up" (toward row 0) is forward for the side to move.
DIRECTIONS = np.array(
    [(-1, 0), (-1, -1), (-1, 1), (0, -1), (0, 1), (1, 0), (1, -1), (1, 1)], np.int64
)
NO_DIR = 8
_VFLIP = np.array([5, 6, 7, 3, 4, 0, 1, 2])  # direction index mirrored top <-> bottom

_FWD, _FWD_DIAG, _SIDE, _BACK, _BACK_DIAG = [0], [1, 2], [3, 4], [5], [6, 7]
_GOLD_STEPS = _FWD + _FWD_DIAG + _SIDE + _BACK
_ORTHO = _FWD + _SIDE + _BACK
_DIAG = _FWD_DIAG + _BACK_DIAG
# own type -> (one-step directions, sliding directions, knight jump)
_MOVES = {
    PAWN: (_FWD, [], False),
    LANCE: ([], _FWD, False),
    KNIGHT: ([], [], True),
    SILVER: (_FWD + _FWD_DIAG + _BACK_DIAG, [], False),
    GOLD: (_GOLD_STEPS, [], False),
    BISHOP: ([], _DIAG, False),
    ROOK: ([], _ORTHO, False),
    KING: (list(range(8)), [], False),
    PRO_PAWN: (_GOLD_STEPS, [], False),
    PRO_LANCE: (_GOLD_STEPS, [], False),
    PRO_KNIGHT: (_GOLD_STEPS, [], False),
    PRO_SILVER: (_GOLD_STEPS, [], False),
    HORSE: (_ORTHO, _DIAG, False),
    DRAGON: (_DIAG, _ORTHO, False),
}

# Capability bits of a piece code: 0-7 one-step directions, 8 knight jump up, 9 knight jump down,
# 10-17 sliding directions. MOVE_BITS[f, t] has the bits of the moves that go from f to t, so a
# piece at f attacks t in one step iff CAPS[code] & MOVE_BITS & STEP_MASK, or by sliding iff
# CAPS[code] & MOVE_BITS & SLIDE_MASK and the squares between are empty.
KNIGHT_UP_BIT, KNIGHT_DOWN_BIT, SLIDE_SHIFT = 8, 9, 10
STEP_MASK = (1 << SLIDE_SHIFT) - 1


def _caps_table() -> np.ndarray:
    caps = np.zeros(NUM_CODES, np.int32)
    for ptype, (steps, slides, knight) in _MOVES.items():
        for code, dirmap, knight_bit in (
            (ptype, np.arange(8), KNIGHT_UP_BIT),
            (ptype + OPP, _VFLIP, KNIGHT_DOWN_BIT),
        ):
            bits = 0
            for d in steps:
                bits |= 1 << int(dirmap[d])
            for d in slides:
                bits |= 1 << (SLIDE_SHIFT + int(dirmap[d]))
            if knight:
                bits |= 1 << knight_bit
            caps[code] = bits
    return caps


CAPS = _caps_table()


def _pair_tables():
    dr = ROW[None, :] - ROW[:, None]  # [from, to]
    dc = COL[None, :] - COL[:, None]
    dist = np.maximum(np.abs(dr), np.abs(dc))
    aligned = ((dr == 0) | (dc == 0) | (np.abs(dr) == np.abs(dc))) & (dist > 0)
    direction = np.full((81, 81), NO_DIR, np.int64)
    for d, (r, c) in enumerate(DIRECTIONS):
        direction[aligned & (np.sign(dr) == r) & (np.sign(dc) == c)] = d
    move_bits = np.zeros((81, 81), np.int32)
    for d in range(8):
        on_ray = direction == d
        move_bits |= np.where(on_ray, 1 << (SLIDE_SHIFT + d), 0).astype(np.int32)
        move_bits |= np.where(on_ray & (dist == 1), 1 << d, 0).astype(np.int32)
    move_bits |= np.where((dr == -2) & (np.abs(dc) == 1), 1 << KNIGHT_UP_BIT, 0).astype(np.int32)
    move_bits |= np.where((dr == 2) & (np.abs(dc) == 1), 1 << KNIGHT_DOWN_BIT, 0).astype(np.int32)
    # Line orientation: 0 file, 1 rank, 2 "\" diagonal, 3 "/" diagonal; position along the line is
    # the column on a rank and the row otherwise.
    orient = np.full((81, 81), -1, np.int64)
    orient[aligned & (dc == 0)] = 0
    orient[aligned & (dr == 0)] = 1
    orient[aligned & (dr == dc) & (dr != 0)] = 2
    orient[aligned & (dr == -dc) & (dr != 0)] = 3
    to_is_after = np.where(orient == 1, dc > 0, dr > 0)
    return direction, np.where(aligned, dist, 0), move_bits, orient, to_is_after


DIRECTION, DISTANCE, MOVE_BITS, ORIENT, TO_IS_AFTER = _pair_tables()


def _line_prefix() -> np.ndarray:
    """PREFIX[s, o * 81 + q] = 1 iff s lies on q's line of orientation o at or before q."""
    prefix = np.zeros((81, 4, 81), np.float32)
    pos = [ROW, COL, ROW, ROW]
    same_line = [
        COL[:, None] == COL[None, :],
        ROW[:, None] == ROW[None, :],
        (ROW - COL)[:, None] == (ROW - COL)[None, :],
        (ROW + COL)[:, None] == (ROW + COL)[None, :],
    ]
    for o in range(4):
        prefix[:, o, :] = same_line[o] & (pos[o][:, None] <= pos[o][None, :])
    return prefix.reshape(81, 4 * 81)


# Occupancy counts along lines are packed in one int32 per square, 8 bits per orientation; the
# field of pair (f, t) is selected with LINE_SHIFT (unaligned pairs read field 0 and are unused).
LINE_PREFIX = _line_prefix()
LINE_SHIFT = (8 * np.maximum(ORIENT, 0)).astype(np.int32)
PACKED_BIAS = np.int32(0x40404040)  # keeps each 8-bit field of a difference non-negative

# Per own type: promotable, and the rows where a move must promote (bit r = row r).
PROMOTES_TO = np.zeros(NUM_CODES, np.int8)  # own code -> promoted own code (0 if it cannot)
for _base, _pro in (
    (PAWN, PRO_PAWN),
    (LANCE, PRO_LANCE),
    (KNIGHT, PRO_KNIGHT),
    (SILVER, PRO_SILVER),
    (BISHOP, HORSE),
    (ROOK, DRAGON),
):
    PROMOTES_TO[_base] = _pro
MUST_PROMOTE_ROWS = np.zeros(NUM_CODES, np.int32)
MUST_PROMOTE_ROWS[PAWN] = MUST_PROMOTE_ROWS[LANCE] = 0b1
MUST_PROMOTE_ROWS[KNIGHT] = 0b11
IN_ZONE = ROW <= 2

# Lowest row a piece from each hand slot may be dropped on (dead drops are illegal).
DROP_MIN_ROW = np.array([1, 1, 2, 0, 0, 0, 0], np.int64)

# code -> hand slot of the piece when captured (-1 for empty and kings).
HAND_SLOT = np.full(NUM_CODES, -1, np.int8)
for _code in range(1, NUM_CODES):
    _t = (_code - 1) % OPP + 1
    _base = {
        PRO_PAWN: PAWN,
        PRO_LANCE: LANCE,
        PRO_KNIGHT: KNIGHT,
        PRO_SILVER: SILVER,
        HORSE: BISHOP,
        DRAGON: ROOK,
    }.get(_t, _t)
    HAND_SLOT[_code] = -1 if _base == KING else _base - 1

# code -> the same piece seen from the other side (own <-> opponent).
SWAP_SIDE = np.zeros(NUM_CODES, np.int8)
SWAP_SIDE[1 : OPP + 1] = np.arange(1, OPP + 1) + OPP
SWAP_SIDE[OPP + 1 :] = np.arange(1, OPP + 1)

# Conventional piece values in pawns by own type (index 0 empty); kings count 0 (losing one ends
# the game anyway). Material shaping, the greedy player and the action prior all read this.
PIECE_VALUE = np.array([0, 1, 3, 4, 5, 6, 8, 10, 0, 6, 6, 6, 6, 10, 12], np.int32)
assert PIECE_VALUE[KING] == 0 and PIECE_VALUE[DRAGON] == 12
# Values of the hand slots P L N S G B R (a piece in hand is worth its unpromoted value).
HAND_PIECE_VALUE = PIECE_VALUE[PAWN : ROOK + 1]

# Impasse (entering-king) points: 5 for bishops and rooks, promoted or not, 1 for the rest.
IMPASSE_POINTS = np.zeros(NUM_CODES, np.int32)
for _t in range(1, OPP + 1):
    IMPASSE_POINTS[_t] = 0 if _t == KING else (5 if _t in (BISHOP, ROOK, HORSE, DRAGON) else 1)
HAND_IMPASSE_POINTS = np.array([1, 1, 1, 1, 1, 5, 5], np.int32)


def _action_tables():
    """Decode tables: action -> (from, to, promote, hand slot); drops have from = -1."""
    a = np.arange(NUM_ACTIONS)
    board = a < NUM_BOARD_ACTIONS
    from_sq = np.where(board, a // 160, -1)
    dest_off = (a % 160) // 2
    to_board = dest_off + (dest_off >= from_sq)
    drop = a - NUM_BOARD_ACTIONS
    to_sq = np.where(board, to_board, drop // 7)
    promote = board & (a % 2 == 1)
    slot = np.where(board, -1, drop % 7)
    return (from_sq.astype(np.int16), to_sq.astype(np.int16), promote, slot.astype(np.int8))


ACTION_FROM, ACTION_TO, ACTION_PROMOTE, ACTION_DROP_SLOT = _action_tables()

# Zobrist keys (two uint32 words = 64 bits) for the absolute position: the canonical board and
# hands together with the side to move identify it uniquely.
_rng = np.random.default_rng(20241124)
ZOBRIST_BOARD = _rng.integers(0, 2**32, (2, 81, NUM_CODES, 2), dtype=np.uint64).astype(np.uint32)
ZOBRIST_BOARD[:, :, EMPTY, :] = 0
ZOBRIST_HAND = _rng.integers(0, 2**32, (2, 2, 7, 19, 2), dtype=np.uint64).astype(np.uint32)
ZOBRIST_HAND[..., 0, :] = 0

START_SFEN = "lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL b - 1"

assert CAPS[PAWN] == 1 << 0 and CAPS[PAWN + OPP] == 1 << 5
assert CAPS[KNIGHT] == 1 << KNIGHT_UP_BIT and CAPS[KNIGHT + OPP] == 1 << KNIGHT_DOWN_BIT
assert ACTION_TO.max() == 80 and ACTION_FROM.max() == 80
assert (ACTION_FROM[ACTION_FROM >= 0] != ACTION_TO[ACTION_FROM >= 0]).all()


def _neighbors() -> np.ndarray:
    """NEIGHBORS[s, d]: the square one step from s in direction d, or -1 off the board."""
    out = np.full((81, 8), -1, np.int64)
    for s in range(81):
        for d, (dr, dc) in enumerate(DIRECTIONS):
            r, c = ROW[s] + dr, COL[s] + dc
            if 0 <= r < 9 and 0 <= c < 9:
                out[s, d] = r * 9 + c
    return out


NEIGHBORS = _neighbors()

# Bitboards: a set of squares is uint32[3], word w holding rows 3w..3w+2 (27 bits, bit = sq % 27).
BB_BITS = 27
BB_FULL = np.uint32((1 << BB_BITS) - 1)


def bitboard(squares) -> np.ndarray:
    """uint32[3] of a boolean [81] array (numpy, for building tables)."""
    squares = np.asarray(squares, bool)
    out = np.zeros(3, np.uint64)
    for sq in np.flatnonzero(squares):
        out[sq // BB_BITS] |= np.uint64(1) << np.uint64(sq % BB_BITS)
    return out.astype(np.uint32)


def _ray_tables():
    between = np.zeros((81, 81, 3), np.uint32)  # strictly between k and x when aligned
    ray = np.zeros((81, 81, 3), np.uint32)  # squares on the ray from k through s (k excluded)
    for k in range(81):
        for x in range(81):
            d = DIRECTION[k, x]
            if d == NO_DIR:
                continue
            on_ray = DIRECTION[k] == d
            between[k, x] = bitboard(on_ray & (DISTANCE[k] < DISTANCE[k, x]))
            ray[k, x] = bitboard(on_ray)
    return between, ray


BETWEEN_BB, RAY_BB = _ray_tables()
ZONE_BB = bitboard(IN_ZONE)
MUST_PROMOTE_BB = np.stack(
    [bitboard((MUST_PROMOTE_ROWS[c] >> ROW) & 1) for c in range(NUM_CODES)]
)  # [29, 3] squares where a piece of this own code must promote
DROP_ROWS_BB = np.stack([bitboard(ROW >= DROP_MIN_ROW[k]) for k in range(7)])  # [7, 3]

# Packed legal set ("legal bits"): per from-square the plain and the promoting destinations as
# bitboards, then one bitboard of drop squares per hand slot: uint32[81 * 2 * 3 + 7 * 3].
NUM_LEGAL_WORDS = 81 * 2 * 3 + 7 * 3  # 507
DROP_WORD0 = 81 * 2 * 3


def _action_words():
    """ACTION_WORD[a], ACTION_BIT[a]: where action a lives in the legal bits."""
    board = ACTION_FROM >= 0
    frm = np.maximum(ACTION_FROM, 0).astype(np.int64)
    to = ACTION_TO.astype(np.int64)
    board_word = frm * 6 + ACTION_PROMOTE.astype(np.int64) * 3 + to // BB_BITS
    drop_word = DROP_WORD0 + np.maximum(ACTION_DROP_SLOT, 0).astype(np.int64) * 3 + to // BB_BITS
    return (np.where(board, board_word, drop_word).astype(np.int16), (to % BB_BITS).astype(np.int8))


ACTION_WORD, ACTION_BIT = _action_words()
SQUARE_BB = np.stack([bitboard(np.arange(81) == s) for s in range(81)])  # [81, 3] one square
# [13527, 3] the square each action leaves (empty for drops).
ACTION_FROM_BB = np.where((ACTION_FROM >= 0)[:, None], SQUARE_BB[np.maximum(ACTION_FROM, 0)], 0)
ACTION_FROM_BB = ACTION_FROM_BB.astype(np.uint32)
