"""Batched tools over many positions: perft and legal-move listing, through the jitted engine.

Positions are processed in fixed-size chunks (padded), so each function compiles once.
"""

from __future__ import annotations

import jax
import numpy as np

from keisei_jax.shogi import tables as T
from keisei_jax.shogi.actions import usi_table
from keisei_jax.shogi.game import apply_move, position_from_sfen
from keisei_jax.shogi.movegen import legal_moves, word_bit_to_action

CHUNK = 4096


@jax.jit
def _legal_chunk(board, hand):
    bits, _ = jax.vmap(legal_moves)(board, hand)
    return bits


@jax.jit
def _children_chunk(board, hand, action):
    """Play one action in each position; return the children and their legal bits."""
    board, hand = jax.vmap(apply_move)(board, hand, action)
    bits, _ = jax.vmap(legal_moves)(board, hand)
    return board, hand, bits


def _chunks(n: int, chunk: int):
    for start in range(0, n, chunk):
        yield start, min(start + chunk, n)


def _pad(x: np.ndarray, size: int) -> np.ndarray:
    if len(x) == size:
        return x
    pad = np.zeros((size - len(x), *x.shape[1:]), x.dtype)
    return np.concatenate([x, pad])


def legal_bits_of(board: np.ndarray, hand: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """uint32[N, 507] legal bits of N canonical positions."""
    out = np.zeros((len(board), T.NUM_LEGAL_WORDS), np.uint32)
    for start, stop in _chunks(len(board), chunk):
        bits = _legal_chunk(_pad(board[start:stop], chunk), _pad(hand[start:stop], chunk))
        out[start:stop] = np.asarray(bits)[: stop - start]
    return out


def legal_action_lists(legal_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position index, action) of every legal action of N positions, sorted by position."""
    bits = np.unpackbits(
        np.ascontiguousarray(legal_bits, "<u4").view(np.uint8), axis=-1, bitorder="little"
    )  # [N, 507 * 32]
    pos, flat = np.nonzero(bits)
    word, bit = flat // 32, flat % 32
    return pos, word_bit_to_action(word, bit)


def perft(board: np.ndarray, hand: np.ndarray, depth: int, chunk: int = CHUNK) -> int:
    """Number of legal move sequences of length ``depth`` from one canonical position."""
    return int(perft_many(board[None], hand[None], depth, chunk)[0])


def perft_many(boards: np.ndarray, hands: np.ndarray, depth: int, chunk: int = CHUNK) -> np.ndarray:
    """int64[N]: perft of N canonical positions at once (board int8[N, 81], hand int8[N, 2, 7])."""
    if depth < 0:
        raise ValueError(f"perft depth must be >= 0, got {depth}")
    boards, hands = np.asarray(boards, np.int8), np.asarray(hands, np.int8)
    if depth == 0:
        return np.ones(len(boards), np.int64)
    n_roots = len(boards)
    root = np.arange(n_roots)
    bits = legal_bits_of(boards, hands, chunk)
    for _ in range(depth - 1):
        parent, action = legal_action_lists(bits)
        child_boards = np.zeros((len(parent), 81), np.int8)
        child_hands = np.zeros((len(parent), 2, 7), np.int8)
        child_bits = np.zeros((len(parent), T.NUM_LEGAL_WORDS), np.uint32)
        for start, stop in _chunks(len(parent), chunk):
            p = parent[start:stop]
            b, h, lb = _children_chunk(
                _pad(boards[p], chunk),
                _pad(hands[p], chunk),
                _pad(action[start:stop].astype(np.int32), chunk),
            )
            n = stop - start
            child_boards[start:stop] = np.asarray(b)[:n]
            child_hands[start:stop] = np.asarray(h)[:n]
            child_bits[start:stop] = np.asarray(lb)[:n]
        boards, hands, bits, root = child_boards, child_hands, child_bits, root[parent]
    leaves = np.bitwise_count(bits).sum(-1).astype(np.int64)
    return np.bincount(root, weights=leaves, minlength=n_roots).astype(np.int64)


def perft_sfen(sfen: str, depth: int) -> int:
    board, hand, _, _ = position_from_sfen(sfen)
    return perft(board, hand, depth)


def legal_usi_lines(lines: list[str], chunk: int = 256) -> list[list[str]]:
    """Sorted legal USI moves of the SFEN on each line; a blank line gives an empty list, so the
    output stays aligned with the input. Raises ValueError naming the bad line (1-based)."""
    parsed, where = [], []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            parsed.append(position_from_sfen(line))
        except ValueError as err:
            raise ValueError(f"line {i + 1}: {err}") from None
        where.append(i)
    out: list[list[str]] = [[] for _ in lines]
    if not parsed:
        return out
    board = np.stack([p[0] for p in parsed])
    hand = np.stack([p[1] for p in parsed])
    color = np.array([p[2] for p in parsed])
    bits = legal_bits_of(board, hand, chunk)
    pos, action = legal_action_lists(bits)
    usi = np.where(color[pos] == 0, usi_table(0)[action], usi_table(1)[action])
    for p, move in zip(pos.tolist(), usi.tolist(), strict=True):
        out[where[p]].append(move)
    return [sorted(moves) for moves in out]


__all__ = ["legal_action_lists", "legal_bits_of", "legal_usi_lines", "perft", "perft_sfen"]
