"""How well a value network judges positions: its value against a strong engine's evaluation.

Positions come from games between engines (``engine_positions``), so neither network chose
them; a judge engine scores each in centipawns for the side to move (``judge_positions``,
Fairy-Stockfish at depth 10 by default); each network's value of the same positions
(``network_values``) is compared with those scores (``agreement``):

- Pearson's r between the value and ``tanh(cp / CP_SCALE)``, the judge's score as an expected
  result in [-1, 1] (a mate is +-1);
- Spearman's rank correlation with the centipawns (no scale needed);
- the share of clearly decided positions (``|cp| >= DECIDED_CP``) whose value has the judge's
  sign.

Each figure comes with a 95% bootstrap interval over positions (``bootstrap``), paired across
networks so that two networks' difference has its own interval.

A value can rank whole positions well and still choose badly between the moves of one: the
moves a player chooses in the same positions (``chosen_moves``) are judged too
(``move_losses``: what each move gives away against the judge's score of its position), and
``agreement`` summarises those losses with ``MOVE_STATISTICS`` (the mean loss, the share of
blunders).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax
import numpy as np

from keisei_jax import shogi
from keisei_jax.eval.engines import UsiEngine

# Centipawns to expected result: tanh(cp / 1200) = 2 / (1 + exp(-cp / 600)) - 1, the logistic
# win rate shogi engines commonly fit (600 cp per e-fold of the odds).
CP_SCALE = 1200.0
# A position the judge scores at least this far from even counts as decided (sign agreement).
DECIDED_CP = 300
# Positions per network call.
CHUNK = 256
# Positions per call of a searching player: one, as engine games search. Batched, the mate
# checks' loops run every position as long as the slowest one (32 at a time had not finished
# 1,000 positions in 33 minutes), and memory grows ~100 MB a position (256 asked for 27 GB).
SEARCH_CHUNK = 1
# Scores are clipped to +-CP_CLIP before a move is compared with its position: a mate found a
# ply later, or a won position that stays won, is no loss of thousands of centipawns, and a
# move that throws a won game away loses at most 2 * CP_CLIP.
CP_CLIP = 2000
# A move that loses at least this much counts as a blunder (about a minor piece).
BLUNDER_CP = 300


def cp_to_value(cp: np.ndarray) -> np.ndarray:
    """The judge's centipawns (side to move) as an expected result in [-1, 1]."""
    return np.tanh(np.asarray(cp, np.float64) / CP_SCALE)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's correlation of two equal-length samples (nan if either is constant)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / denom) if denom > 0 else float("nan")


def ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x``, ties given their mean rank."""
    x = np.asarray(x)
    order = np.argsort(x, kind="stable")
    ranked = np.empty(len(x), np.float64)
    ranked[order] = np.arange(1, len(x) + 1)
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    for start, count in zip(first, counts, strict=True):
        if count > 1:
            ranked[order[start:start + count]] = start + (count + 1) / 2
    return ranked


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (Pearson's r of the ranks, ties averaged)."""
    return pearson(ranks(x), ranks(y))


def sign_agreement(value: np.ndarray, cp: np.ndarray) -> float:
    """Share of decided positions (``|cp| >= DECIDED_CP``) whose value has the judge's sign."""
    decided = np.abs(cp) >= DECIDED_CP
    if not decided.any():
        return float("nan")
    return float(np.mean(np.sign(value[decided]) == np.sign(cp[decided])))


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "pearson": lambda v, cp: pearson(v, cp_to_value(cp)),
    "spearman": spearman,
    "sign_agreement": sign_agreement,
}
# Of a player's moves: ``values`` are ``move_losses`` (centipawns), the scores are not read.
MOVE_STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "mean_loss": lambda loss, _cp: float(np.mean(loss)),
    "blunders": lambda loss, _cp: float(np.mean(loss >= BLUNDER_CP)),
}


def bootstrap(values: Sequence[np.ndarray], cp: np.ndarray, statistic: Callable, *,
              samples: int = 2000, seed: int = 0) -> np.ndarray:
    """float64[samples, len(values)]: ``statistic(values[i], cp)`` on resampled positions, the
    same resample for every network (paired)."""
    rng = np.random.default_rng(seed)
    n = len(cp)
    out = np.empty((samples, len(values)))
    for s in range(samples):
        pick = rng.integers(0, n, n)
        out[s] = [statistic(v[pick], cp[pick]) for v in values]
    return out


@dataclasses.dataclass(frozen=True)
class Agreement:
    """One network's agreement with the judge: each statistic's value and 95% interval, and
    (for every network after the first) its difference from the first network's, with the
    paired interval. Keys are those of the statistics ``agreement`` was given."""

    name: str
    positions: int
    figures: dict[str, tuple[float, float, float]]
    difference: dict[str, tuple[float, float, float]] | None


def agreement(names: Sequence[str], values: Sequence[np.ndarray], cp: np.ndarray, *,
              samples: int = 2000, seed: int = 0,
              statistics: dict[str, Callable] | None = None) -> list[Agreement]:
    """The ``Agreement`` of each network's ``values`` (float[N], side to move) with ``cp``
    under ``statistics`` (default ``STATISTICS``; ``MOVE_STATISTICS`` for move losses)."""
    cp = np.asarray(cp, np.float64)
    values = [np.asarray(v, np.float64) for v in values]
    figures = [dict() for _ in values]
    differences = [dict() for _ in values]
    for key, statistic in (STATISTICS if statistics is None else statistics).items():
        point = np.array([statistic(v, cp) for v in values])
        boot = bootstrap(values, cp, statistic, samples=samples, seed=seed)
        low, high = np.nanpercentile(boot, [2.5, 97.5], axis=0)
        diff = boot - boot[:, :1]
        d_low, d_high = np.nanpercentile(diff, [2.5, 97.5], axis=0)
        for i in range(len(values)):
            figures[i][key] = (float(point[i]), float(low[i]), float(high[i]))
            differences[i][key] = (float(point[i] - point[0]), float(d_low[i]), float(d_high[i]))
    return [Agreement(name=n, positions=len(cp), figures=f, difference=d if i else None)
            for i, (n, f, d) in enumerate(zip(names, figures, differences, strict=True))]


def engine_positions(a, b, *, games: int, openings: Sequence[str] | None, key: jax.Array,
                     max_plies: int = 512,
                     on_game: Callable[[int, object], None] | None = None) -> list[str]:
    """The SFEN of every position of ``games`` games between move sources ``a`` and ``b``
    (``eval.engine_match.play_engine_match``: openings cycled, colours alternated, both sides
    closed at the end), in the order played: each position after a move, a finished game's last
    one excluded."""
    from keisei_jax.eval.engine_match import play_engine_match

    sfens: list[str] = []

    def on_move(_usi, _color, state):
        if not bool(state.terminated | state.truncated):
            sfens.append(shogi.to_sfen(state))

    play_engine_match(a, b, num_games=games, key=key, max_plies=max_plies, on_game=on_game,
                      openings=openings, on_move=on_move)
    return sfens


def judge_positions(judge: UsiEngine, sfens: Sequence[str],
                    on_position: Callable[[int], None] | None = None) -> np.ndarray:
    """int64[N]: the judge engine's score of each position, centipawns for the side to move
    (``UsiEngine.analyse``; a mate is ``+-(MATE_SCORE - plies)``)."""
    scores = []
    try:
        for i, sfen in enumerate(sfens):
            judge.new_game(sfen)
            scores.append(judge.analyse(sfen)[1])
            if on_position is not None:
                on_position(i)
    finally:
        judge.close()
    return np.asarray(scores, np.int64)


def network_values(apply_fn, params, sfens: Sequence[str], *, max_plies: int) -> np.ndarray:
    """float32[N]: the network's value of each position for its side to move (the progress
    plane read against the ply cap ``max_plies`` it was trained with)."""
    value_of = jax.jit(lambda p, obs: apply_fn(p, obs)[1])
    out = [np.asarray(value_of(params, shogi.observe(batch)))[:n]
           for batch, n in _batches(sfens, CHUNK, max_plies)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _batches(sfens: Sequence[str], chunk: int, max_plies: int):
    """(State[chunk], n) for each ``chunk`` positions in turn, the last padded with copies of
    its last position to a full one (one compiled shape); its first ``n`` rows are real."""
    for start in range(0, len(sfens), chunk):
        part = list(sfens[start:start + chunk])
        yield (shogi.from_sfens(part + [part[-1]] * (chunk - len(part)), max_plies=max_plies),
               len(part))


def chosen_moves(player, sfens: Sequence[str], *, max_plies: int, key: jax.Array,
                 chunk: int = CHUNK) -> list[str]:
    """The USI move ``player`` (``eval.players.Player``) chooses in each position, ``chunk``
    positions per call (the last padded: one compiled shape)."""
    act = jax.jit(player.act)
    moves: list[str] = []
    for i, (batch, n) in enumerate(_batches(sfens, chunk, max_plies)):
        actions = np.asarray(act(player.params, batch, jax.random.fold_in(key, i)))[:n]
        moves += [str(m) for m in shogi.actions_to_usi(actions, np.asarray(batch.color)[:n])]
    return moves


def move_losses(judge: UsiEngine, sfens: Sequence[str], moves: Sequence[str], cp: Sequence[int],
                *, max_plies: int = 512) -> np.ndarray:
    """int64[N]: centipawns each move gives away, ``max(0, cp - after)`` with both clipped to
    ``+-CP_CLIP``: ``cp`` the judge's score of the position before the move (side to move) and
    ``after`` its score of the position after it, for the mover (a move that ends the game
    scores its result, ``+-CP_CLIP`` or 0). Closes the judge."""
    losses = []
    try:
        for sfen, move, before in zip(sfens, moves, cp, strict=True):
            state = shogi.from_sfen(sfen, max_plies=max_plies)
            mover = int(state.color)
            child = shogi.step(state, shogi.usi_to_action(move, mover))
            if bool(child.terminated | child.truncated):
                after = int(np.sign(float(child.rewards[mover]))) * CP_CLIP
            else:
                child_sfen = shogi.to_sfen(child)
                judge.new_game(child_sfen)
                after = -judge.analyse(child_sfen)[1]
            clipped = np.clip([before, after], -CP_CLIP, CP_CLIP)
            losses.append(max(int(clipped[0] - clipped[1]), 0))
    finally:
        judge.close()
    return np.asarray(losses, np.int64)
