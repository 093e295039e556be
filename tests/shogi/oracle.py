"""Lockstep random games: cshogi (the oracle) and keisei_jax's batched engine side by side."""

from __future__ import annotations

import dataclasses

import cshogi
import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import env, shogi
from keisei_jax.shogi import perft

STYLES = ("uniform", "capture", "drop")


@dataclasses.dataclass
class Mismatch:
    ply: int
    sfen: str
    what: str


_step = jax.jit(env.step_batch)


def moves_after_which(board: cshogi.Board, holds) -> list[str]:
    """By brute force: the USI moves of ``board`` after which ``holds(board)`` is true (the
    board is back as it was on return)."""
    moves = []
    for move in list(board.legal_moves):
        board.push(move)
        if holds(board):
            moves.append(cshogi.move_to_usi(move))
        board.pop()
    return moves


@jax.jit
def _reset(state, reset, start):
    return jax.tree_util.tree_map(
        lambda s, x: jnp.where(reset.reshape(reset.shape + (1,) * (x.ndim - 1)), s[None], x),
        start,
        state,
    )


def _choose(board: cshogi.Board, moves: list[int], style: str, rng: np.random.Generator) -> int:
    if style == "capture":
        captures = [
            m for m in moves if board.piece(cshogi.move_to(m)) != 0 and not cshogi.move_is_drop(m)
        ]
        if captures and rng.random() < 0.8:
            return captures[rng.integers(len(captures))]
    elif style == "drop":
        drops = [m for m in moves if cshogi.move_is_drop(m)]
        if drops and rng.random() < 0.8:
            return drops[rng.integers(len(drops))]
    return moves[rng.integers(len(moves))]


def run_lockstep(num_positions: int, lanes: int, seed: int, max_plies: int = 512):
    """Play random games in both engines and compare every position.

    Each lane cycles through the styles as its games end. Returns (positions compared,
    mismatches, counts of how games ended).
    """
    rng = np.random.default_rng(seed)
    start = shogi.init(max_plies=max_plies)
    state = env.init_batch(lanes, max_plies=max_plies)
    boards = [cshogi.Board() for _ in range(lanes)]
    styles = [STYLES[i % len(STYLES)] for i in range(lanes)]
    compared, mismatches, endings = 0, [], {}
    while compared < num_positions:
        host = jax.device_get(state)
        bits, colors, in_check = host.legal_bits, host.color, host.in_check
        pos, actions = perft.legal_action_lists(bits)
        ours = [[] for _ in range(lanes)]
        for p, a in zip(pos.tolist(), actions.tolist(), strict=True):
            ours[p].append(a)
        chosen = np.zeros(lanes, np.int32)
        reset = np.zeros(lanes, bool)
        for i, board in enumerate(boards):
            sfen = board.sfen()
            moves = list(board.legal_moves)
            theirs = sorted(cshogi.move_to_usi(m) for m in moves)
            mine = sorted(shogi.usi_table(int(colors[i]))[ours[i]].tolist())
            compared += 1
            if mine != theirs:
                diff = sorted(set(mine) ^ set(theirs))[:10]
                mismatches.append(Mismatch(board.move_number, sfen, f"legal moves differ: {diff}"))
            if bool(in_check[i]) != board.is_check():
                mismatches.append(Mismatch(board.move_number, sfen, "in_check differs"))
            our_sfen = shogi.to_sfen(jax.tree_util.tree_map(lambda x, i=i: x[i], host))
            if our_sfen != sfen:
                mismatches.append(Mismatch(board.move_number, sfen, f"sfen differs: {our_sfen}"))
            if not moves:  # the game ended by mate (our engine ended it on the previous step)
                reset[i] = True
                continue
            move = _choose(board, moves, styles[i], rng)
            chosen[i] = shogi.usi_to_action(cshogi.move_to_usi(move), int(colors[i]))
            board.push(move)
        state = _step(state, jnp.asarray(chosen))
        done = np.asarray(state.terminated | state.truncated)
        causes = np.asarray(state.termination)
        for i, board in enumerate(boards):
            if reset[i]:
                continue
            if done[i]:
                name = shogi.Termination.NAMES[int(causes[i])]
                endings[name] = endings.get(name, 0) + 1
                if name in ("checkmate", "no_legal_moves") and list(board.legal_moves):
                    mismatches.append(Mismatch(board.move_number, board.sfen(), f"we say {name}"))
                if name == "checkmate" and not board.is_check():
                    mismatches.append(
                        Mismatch(board.move_number, board.sfen(), "mate without check")
                    )
                reset[i] = True
            elif not list(board.legal_moves):
                mismatches.append(Mismatch(board.move_number, board.sfen(), "cshogi says mate"))
                reset[i] = True
        for i in np.flatnonzero(reset):
            boards[i].reset()
            styles[i] = STYLES[(STYLES.index(styles[i]) + 1) % len(STYLES)]
        state = _reset(state, jnp.asarray(reset), start)
    return compared, mismatches, endings


def wins_within_three(sfen: str, usi: str) -> bool:
    """cshogi: after ``usi`` the opponent has no legal move (a loss for it, checked or not), or
    every reply allows a mate in one."""
    board = cshogi.Board(sfen)
    board.push_usi(usi)
    if board.is_game_over():
        return True
    for reply in list(board.legal_moves):
        board.push(reply)
        mate = board.mate_move_in_1ply()
        board.pop()
        if not mate:
            return False
    return True
