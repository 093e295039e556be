"""The USI engine front end: a trained policy (or the greedy baseline) behind the USI protocol.

With a checkpoint the engine searches (Gumbel MuZero over the rules engine, ``usi.thinking``):
``go nodes N`` searches N simulations, a ``go`` with a clock as many as fit in its time (and
answers by its deadline whatever the search is doing), a plain ``go`` the ``Simulations`` option
(0: one forward pass, no search). ``go infinite``/``go ponder``
search in a thread with growing sizes while this loop keeps reading input, and ``stop``/
``ponderhit`` answer with the last completed search (waiting only for the first, small one).
Every other search runs in a thread too, and a ``stop`` or ``quit`` that arrives before it is
done answers at once with one forward pass, or the small search a long clock search runs
first (``serve`` reads the input ahead of the loop).
The greedy baseline and a forward pass are immediate: their ``go ponder``/``go infinite``
compute the move at once and hold the ``bestmove`` until ``ponderhit``/``stop``.

Every ``go`` gets exactly one ``bestmove`` (``go mate`` gets ``checkmate notimplemented``
instead). A held one is sent on ``stop``/``ponderhit``, and first thing by a ``go``,
``usinewgame``, ``gameover`` or ``quit`` that arrives while it is held; a ``position`` leaves it
held. A malformed ``go`` is answered with ``info string`` naming the bad token and then played
with the default settings. A ``position`` that fails (parse error, bad SFEN, illegal move) leaves
no position: the next ``go`` resigns. Any other malformed or unusable command is answered with
``info string`` and ignored; no input can end the loop except ``quit`` or the end of the input.

A checkpoint that cannot be loaded (``CheckpointError``, ``OSError``, ``ValueError``) or whose
parameters are not all finite is reported with ``info string`` and the greedy baseline plays.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import models, shogi
from keisei_jax.checkpoints import CheckpointError
from keisei_jax.eval.players import greedy_player
from keisei_jax.usi.protocol import (
    SPIN_OPTIONS,
    Go,
    UsiError,
    parse_go,
    parse_position,
    parse_setoption,
)
from keisei_jax.usi.thinking import (
    INSURANCE_SHARE,
    INSURED_FROM,
    MATE_CHECK_S,
    MIN_SIMULATIONS,
    RESERVE_S,
    TIME_SAFETY,
    Searcher,
    SearchResult,
    SearchRun,
    Thinking,
    capacity_for,
    choose_simulations,
    ladder_up_to,
    plan_checked_simulations,
    time_budget,
)

ENGINE_NAME = "keisei_jax"
# Plies a USI game may run to here: the rules engine's ply cap must not end a GUI's game.
_GAME_MAX_PLIES = 100_000
_TOP_MOVES = 5
DEFAULT_SIMULATIONS = SPIN_OPTIONS["Simulations"][0]
DEFAULT_MAX_SIMULATIONS = SPIN_OPTIONS["MaxSimulations"][0]
DEFAULT_CONSIDERED_ACTIONS = SPIN_OPTIONS["ConsideredActions"][0]
_MAX_GUMBEL_SCALE = 100.0  # Temperature inf must not turn the root's scores into inf - inf


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What the policy thinks of a position: ``best`` USI move, ``top`` (USI, probability)
    pairs best first, ``value`` in [-1, 1] for the side to move (None without a value head)."""

    best: str
    top: tuple[tuple[str, float], ...]
    value: float | None


Analyse = Callable[[shogi.State, np.random.Generator], Analysis]


@functools.partial(jax.jit, static_argnums=(0, 3))
def _forward(apply_fn: Callable, params: Any, state: shogi.State, obs_max_plies: int):
    """(log-probs float32[13527], value float32[]) of one position; compiled once per network."""
    state = dataclasses.replace(state, max_plies=jnp.int32(obs_max_plies))
    batch = jax.tree_util.tree_map(lambda x: x[None], state)
    logits, value = apply_fn(params, shogi.observe(batch))
    return models.masked_log_softmax(logits, batch.legal_mask)[0], value[0]


def network_analyse(apply_fn: Callable, params: Any, *, temperature: float,
                    obs_max_plies: int) -> Analyse:
    """Analysis by a policy network; ``apply_fn`` must be hashable (``models.apply_fn``) and
    ``obs_max_plies`` is the ply cap the network was trained with (the observation's progress
    plane is ply / max_plies)."""

    def analyse(state: shogi.State, rng: np.random.Generator) -> Analysis:
        log_probs, value = jax.device_get(_forward(apply_fn, params, state, obs_max_plies))
        legal = shogi.legal_actions(np.asarray(state.legal_bits))
        lp = _finite_log_probs(log_probs[legal].astype(np.float64))
        order = np.argsort(-lp, kind="stable")
        color = int(state.color)
        if temperature > 0:
            z = (lp - lp.max()) / temperature
            p = np.where(np.isfinite(z), np.exp(z), 0.0)  # -inf / inf is NaN; the best has 1
            choice = int(legal[rng.choice(len(legal), p=p / p.sum())])
        else:
            choice = int(legal[order[0]])
        top = tuple(
            (shogi.action_to_usi(int(legal[i]), color), float(np.exp(lp[i])))
            for i in order[:_TOP_MOVES]
        )
        value = float(value)
        return Analysis(shogi.action_to_usi(choice, color), top,
                        value if math.isfinite(value) else None)

    return analyse


def _finite_log_probs(lp: np.ndarray) -> np.ndarray:
    """``lp`` float64[L] with NaN/inf entries as -inf (probability 0); all of them non-finite
    (a diverged network) -> uniform over the L legal moves, so a move is always chosen."""
    finite = np.isfinite(lp)
    if not finite.any():
        return np.full_like(lp, -math.log(len(lp)))
    return np.where(finite, lp, -np.inf)


_GREEDY = greedy_player()


@jax.jit
def _greedy_move(state: shogi.State, key: jax.Array) -> jax.Array:
    return _GREEDY.act(None, jax.tree_util.tree_map(lambda x: x[None], state), key)[0]


def greedy_analyse() -> Analyse:
    """The greedy baseline (mate in one, else the biggest capture, else random)."""

    def analyse(state: shogi.State, rng: np.random.Generator) -> Analysis:
        key = jax.random.PRNGKey(int(rng.integers(2**31)))
        usi = shogi.action_to_usi(int(_greedy_move(state, key)), int(state.color))
        return Analysis(usi, ((usi, 1.0),), None)

    return analyse


_is_legal = jax.jit(shogi.is_legal)


@dataclasses.dataclass
class Session:
    """The protocol state of one engine process (mutable: it is the conversation).

    checkpoint: path of the policy to load at ``isready`` ("" = greedy baseline).
    temperature: 0 plays the most probable move, > 0 samples (with search: Gumbel noise of
      that scale on the root's choice).
    simulations: simulations of a ``go`` without a node or time limit; 0: no search at all.
    max_simulations: the largest search (``go nodes``, a clock, ``go infinite``).
    considered_actions: root candidates of Sequential Halving.
    mate_checks: run the root's mate checks (``search.search``'s ``mate_threat_moves`` and
      ``mate_five_retries``) where ``thinking.plan_checked_simulations`` fits them.
    clock: seconds, for the time since a ``go`` arrived (injectable for tests).
    """

    write: Callable[[str], None]
    checkpoint: str = ""
    temperature: float = 0.0
    seed: int = 0
    simulations: int = DEFAULT_SIMULATIONS
    max_simulations: int = DEFAULT_MAX_SIMULATIONS
    considered_actions: int = DEFAULT_CONSIDERED_ACTIONS
    mate_checks: bool = True
    analyse: Analyse | None = None
    loaded: str | None = None  # checkpoint the current ``analyse`` came from
    # (apply_fn, params, obs_max_plies, search settings) of the loaded policy
    network: tuple | None = None
    searcher: Searcher | None = None
    position_key: tuple | None = None
    state: shogi.State | None = None
    pending: str | None = None  # bestmove held back by go ponder / go infinite
    thinking: Thinking | None = None  # the search of a held go; it may improve ``pending``
    background: Thinking | SearchRun | None = None  # the last search (its thread may still run)
    # ``serve``'s bookkeeping: the input line being handled, and the last stop/quit read ahead.
    line: int = 0
    stop_line: int = -1
    reader: threading.Thread | None = None  # serve's input thread (alive: input not at its end)
    rng: np.random.Generator = dataclasses.field(default_factory=np.random.default_rng)
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def send(self, line: str) -> None:
        """Write one line; a ``go infinite`` search thread writes too, so one at a time."""
        with self._lock:
            self.write(line)

    def info(self, text: str) -> None:
        # GUIs may decode engine output as Shift-JIS or ASCII: keep it ASCII, and on one line
        # (an error message with a newline would reach the GUI as a second, bogus reply).
        text = " ".join(text.split())
        self.send("info string " + text.encode("ascii", "replace").decode())

    def flush_pending(self) -> None:
        """Send the ``bestmove`` held back by ``go ponder``/``go infinite``, if any: the last
        completed search's move (after the first small search, if none completed yet), else
        the one computed when the go arrived."""
        if self.thinking is not None:
            result = self.thinking.stop()
            self.thinking = None
            if result is not None:
                self.pending = result.move
        if self.pending is not None:
            self.send(f"bestmove {self.pending}")
            self.pending = None

    def search_running(self) -> bool:
        """Whether a stopped search is still finishing in its thread."""
        return self.background is not None and self.background.running()

    def reading(self, wait_s: float = 0.0) -> bool:
        """Whether ``serve``'s input thread is still reading after ``wait_s`` seconds (a GUI
        that sent ``quit`` may keep the pipe open)."""
        if self.reader is None:
            return False
        self.reader.join(wait_s)
        return self.reader.is_alive()

    def stop_requested(self) -> bool:
        """Whether a ``stop`` or ``quit`` came in after the line being handled (``serve``
        reads ahead; through ``handle`` alone nothing is read ahead, so never)."""
        return self.stop_line > self.line


_SPIN_FIELDS = {"Seed": "seed", "Simulations": "simulations", "MaxSimulations": "max_simulations",
                "ConsideredActions": "considered_actions"}


def _options(session: Session) -> list[str]:
    return [
        f"option name Checkpoint type string default {session.checkpoint or '<empty>'}",
        f"option name Temperature type string default {session.temperature:g}",
        f"option name MateChecks type check default {str(session.mate_checks).lower()}",
    ] + [f"option name {name} type spin default {getattr(session, _SPIN_FIELDS[name])} "
         f"min {lo} max {hi}" for name, (_, lo, hi) in SPIN_OPTIONS.items()]


def _load(session: Session, *, ready: bool = False) -> None:
    """Load the configured policy if it changed (greedy with a note on failure), then ready its
    search (``_searcher``); at ``isready`` (``ready``) also what a ``position`` runs."""
    if session.analyse is None or session.loaded != session.checkpoint:
        _load_policy(session)
    _searcher(session, checked=ready)
    if ready:
        _warm_position()


def _warm_position() -> None:
    """Parse a position and play a move once: the first SFEN parse, legality check and step
    compile for ~1-2 s on 2 CPU cores, and the GUI's clock runs while the ``position`` before
    a ``go`` is processed, so that first time falls in ``isready``."""
    state = shogi.from_sfen("startpos", max_plies=_GAME_MAX_PLIES)
    action = jnp.int32(shogi.usi_to_action("7g7f", int(state.color)))
    if bool(_is_legal(state, action)):
        jax.block_until_ready(shogi.step(state, action))


def _load_policy(session: Session) -> None:
    session.network, session.searcher = None, None
    if session.checkpoint:
        from keisei_jax.eval.checkpoint import load_policy

        try:
            policy = load_policy(session.checkpoint)
        except (CheckpointError, OSError, ValueError) as err:  # also non-finite parameters
            session.info(f"cannot load checkpoint {session.checkpoint!r}: {err}; "
                         "playing the greedy baseline")
            session.analyse, session.loaded = greedy_analyse(), session.checkpoint
            return
        session.analyse = network_analyse(
            policy.apply_fn, policy.params, temperature=session.temperature,
            obs_max_plies=policy.config.max_plies,
        )
        session.network = (policy.apply_fn, policy.params, policy.config.max_plies,
                           policy.search_settings())
        session.info(f"loaded {policy.path} (iteration {policy.step})")
    else:
        session.analyse = greedy_analyse()
        session.info("no checkpoint set: playing the greedy baseline")
    session.loaded = session.checkpoint
    # Compile now, not during the first move's clock.
    session.info("preparing the network's forward pass (compiled the first time)"
                 if session.network is not None else "preparing the greedy player (compiled the "
                 "first time)")
    session.analyse(shogi.init(max_plies=_GAME_MAX_PLIES), session.rng)


def _searcher(session: Session, *, checked: bool = False) -> Searcher | None:
    """The search of the loaded network under the current options (None: the greedy baseline,
    or ``Simulations`` 0). The program of the default size's capacity is compiled and timed
    here; ``checked`` (``isready``: the protocol's time for preparation, not a move's clock) also
    ``MaxSimulations``' capacity, plain and with the root's mate checks (``mate_checks``), so
    that between them the programs hold every size a clock asks for."""
    if session.network is None or session.simulations == 0:
        return None
    searcher = session.searcher
    if searcher is None or searcher.settings.considered_actions != session.considered_actions:
        apply_fn, params, obs_max_plies, settings = session.network
        searcher = session.searcher = Searcher(
            apply_fn, params, obs_max_plies=obs_max_plies,
            settings=settings.replace(considered_actions=session.considered_actions),
            on_compile=session.info)
    default = max(min(session.simulations, session.max_simulations), MIN_SIMULATIONS)
    largest = capacity_for(session.max_simulations)
    # At a go only the default's (a no-op after isready): a clock compiles only what it can pay.
    capacities = {capacity_for(default)} | ({largest} if checked else set())
    try:
        searcher.prepare(sorted(capacities), shogi.init(max_plies=_GAME_MAX_PLIES))
        if checked and session.mate_checks:
            searcher.prepare([largest], shogi.init(max_plies=_GAME_MAX_PLIES), mate_checks=True)
    except (RuntimeError, MemoryError) as err:  # XLA cannot compile or run it here
        session.info(f"search disabled ({type(err).__name__}: {err}): playing one forward pass")
        session.network, session.searcher = None, None
        return None
    return searcher


def _set_position(session: Session, args: list[str]) -> None:
    previous, state = session.position_key, session.state
    # No position until the new one proves valid: a failed one must not leave the old in place.
    session.state, session.position_key = None, None
    position = parse_position(args)
    if (state is not None and previous is not None and previous[0] == position.sfen
            and position.moves[: len(previous[1])] == previous[1]):
        done = len(previous[1])  # the GUI resends the whole game: play only the new moves
    else:
        state, done = shogi.from_sfen(position.sfen, max_plies=_GAME_MAX_PLIES), 0
    for i, usi in enumerate(position.moves[done:], done):
        if bool(state.terminated | state.truncated):
            # Our rules ended the game (e.g. repetition) but the GUI plays on: restart from here.
            state = shogi.from_sfen(shogi.to_sfen(state), max_plies=_GAME_MAX_PLIES)
        color = int(state.color)
        try:
            action = shogi.usi_to_action(usi, color)
        except ValueError as err:
            raise UsiError(f"move {i + 1} {usi!r}: {err}") from None
        if not bool(_is_legal(state, jnp.int32(action))):
            raise UsiError(f"move {i + 1} {usi!r} is illegal in {shogi.to_sfen(state)!r}")
        state = shogi.step(state, jnp.int32(action))
    session.state, session.position_key = state, (position.sfen, position.moves)


def _go(session: Session, args: list[str]) -> None:
    session.flush_pending()  # that go's answer comes before this one's
    try:
        go = parse_go(args)
    except UsiError as err:
        session.info(f"go: {err}; thinking with the default settings")
        go = Go()
    if go.mate:
        session.send("checkmate notimplemented")
        return
    if go.ponder or go.infinite:
        _think_until_stop(session, session.state)
    else:
        session.send(f"bestmove {choose_move(session, session.state, go)}")


def _forced_reply(session: Session, state: shogi.State | None) -> str | None:
    """``resign`` (no valid position, no legal move) or ``win`` (entering-king declaration),
    else None; loads the policy first."""
    if state is None:
        session.info("no valid position: send 'position' first")
        return "resign"
    _load(session)
    if int(state.termination) == shogi.Termination.IMPASSE and bool(state.terminated):
        return "win"  # the side to move meets the entering-king declaration rule
    if not np.any(np.asarray(state.legal_bits)):
        return "resign"
    return None


def choose_move(session: Session, state: shogi.State | None, go: Go) -> str:
    """The ``bestmove`` for ``state`` (None: no valid position) under the limits of ``go``,
    writing its ``info`` lines: a USI move, ``resign`` or ``win``. The number of simulations
    follows ``thinking.choose_simulations``; 0 (or no search) plays one forward pass. Under a
    clock an ``info string`` says what the time allows and why, a plan of ``INSURED_FROM`` or
    more first searches 1/``INSURANCE_SHARE`` of it, and the answer comes by the budget less
    ``RESERVE_S`` whatever the search is doing (that first search's move, else one forward pass
    computed before the search)."""
    start = session.clock()
    forced = _forced_reply(session, state)
    if forced is not None:
        return forced
    searcher = _searcher(session)
    if searcher is None:
        return _forward_move(session, state)
    color = int(state.color)
    _wait_for_background(session, go, color, start)
    if go.nodes is not None and go.nodes > session.max_simulations:
        session.info(f"go nodes {go.nodes} is above MaxSimulations: searching "
                     f"{session.max_simulations}")

    def plan(spent_s: float) -> tuple[int, bool]:
        """(simulations, with mate checks) once ``spent_s`` more seconds are gone."""
        elapsed = session.clock() - start + spent_s
        n = choose_simulations(
            go, color=color, simulations=session.simulations,
            max_simulations=session.max_simulations, elapsed_s=elapsed,
            seconds=searcher.seconds, compile_s=searcher.compile_s,
            programs=searcher.programs())
        checked = 0 if not (n and session.mate_checks) else plan_checked_simulations(
            go, color=color, elapsed_s=elapsed, limit=n, seconds=searcher.seconds,
            programs=searcher.programs(mate_checks=True))
        return checked or n, checked > 0

    n, checked = plan(0.0)
    budget = time_budget(go, color)
    insurance = 0
    if budget is not None and n >= INSURED_FROM:
        insurance = max(MIN_SIMULATIONS, n // INSURANCE_SHARE)
        n, checked = plan(searcher.estimate_s(insurance) / TIME_SAFETY)
    if budget is not None:
        session.info(_clock_note(session, searcher, go, budget, start, n, checked, insurance))
    if n == 0:
        return _forward_move(session, state)
    if session.stop_requested():  # while the last search was finishing
        session.info("stopped before the search began: playing the network's move")
        return _forward_move(session, state)
    # Under a clock the fallback is ready before the search takes the machine.
    fallback = None if budget is None else session.analyse(state, session.rng)
    run = session.background = SearchRun(searcher, state, n, _key(session),
                                         _gumbel_scale(session), mate_checks=checked,
                                         insurance=insurance)

    def late() -> bool:
        return budget is not None and session.clock() - start >= budget - RESERVE_S

    def instead(why: str) -> str:
        """The insurance search's move, else the forward pass's, after ``why`` in words."""
        if run.insured is None:
            session.info(f"{why}: playing the network's move")
            return _forward_move(session, state, fallback)
        session.info(f"{why}: playing the search of {run.insured.nodes}")
        _report(session, run.insured, start)
        return run.insured.move

    if not run.wait(lambda: session.stop_requested() or late()):
        if session.stop_requested():
            return instead(f"stopped before the search of {n} simulations finished")
        return instead(f"the search of {n} simulations was not done "
                       f"{budget - RESERVE_S:.2f} s into the move")
    if run.error is not None:  # e.g. XLA out of memory at a huge size
        err = run.error
        return instead(f"search of {n} simulations failed ({type(err).__name__}: {err})")
    if run.result is None:
        return instead("the search chose no legal move (non-finite network output)")
    _report(session, run.result, start)
    return run.result.move


def _clock_note(session: Session, searcher: Searcher, go: Go, budget: float, start: float,
                n: int, checked: bool, insurance: int) -> str:
    """What a clock allows this move and why, for an ``info string``."""
    left = max(budget - (session.clock() - start) - RESERVE_S, 0.0)
    size = max(n, MIN_SIMULATIONS)
    head = (f"time {budget:.2f} s for this move, {left:.2f} s after the reserve; "
            f"{size / searcher.seconds(size):.0f} simulations/s at {size}")
    if n == 0:
        return (f"{head}: no search fits ({MIN_SIMULATIONS} simulations take "
                f"~{searcher.estimate_s(MIN_SIMULATIONS):.2f} s, more than {TIME_SAFETY:.0%} "
                "of that): one forward pass")
    limit = session.max_simulations if go.nodes is None else min(go.nodes,
                                                                 session.max_simulations)
    why = ("go nodes" if go.nodes is not None else "MaxSimulations") if n == limit else (
        f"{TIME_SAFETY:.0%} of the time left" + (f" less the mate checks' {MATE_CHECK_S} s"
                                                  if checked else ""))
    first = "" if not insurance else (
        f"{insurance} simulations (~{searcher.estimate_s(insurance):.2f} s, the move should "
        "the next not be done in time), then ")
    return (f"{head}: searching {first}{n} simulations" + (" with mate checks" if checked else "")
            + f", ~{searcher.estimate_s(n, checked):.2f} s, on the program of up to "
            f"{searcher.capacity(n, checked)} (limited by {why})")


def _forward_move(session: Session, state: shogi.State, analysis: Analysis | None = None
                  ) -> str:
    """One forward pass (or the greedy baseline; ``analysis`` if already made) and its info
    lines."""
    if analysis is None:
        analysis = session.analyse(state, session.rng)
    cp = 0 if analysis.value is None else _centipawns(analysis.value)
    session.info("top " + " ".join(f"{m} {p:.3f}" for m, p in analysis.top)
                 + ("" if analysis.value is None else f" value {analysis.value:+.3f}"))
    # The pv line last: GUIs (and cshogi's records) take the line before bestmove as its info.
    session.send(f"info depth 1 seldepth 1 nodes 1 score cp {cp} pv {analysis.best}")
    return analysis.best


def _think_until_stop(session: Session, state: shogi.State | None) -> None:
    """``go infinite``/``go ponder``: hold a move now (one forward pass, the fallback), and
    search in a thread with doubling sizes up to ``MaxSimulations`` until ``stop``."""
    start = session.clock()
    forced = _forced_reply(session, state)
    if forced is not None:
        session.pending = forced
        return
    session.pending = _forward_move(session, state)
    searcher = _searcher(session)
    if searcher is None:
        return
    # The first size is MIN_SIMULATIONS, which _searcher compiled: stop waits only for it.
    sizes = ladder_up_to(session.max_simulations)
    session.thinking = session.background = Thinking(
        searcher, state, sizes=sizes, key=_key(session), gumbel_scale=_gumbel_scale(session),
        report=lambda result: _report(session, result, start), on_error=session.info)


def _wait_for_background(session: Session, go: Go, color: int, start: float) -> None:
    """Let a stopped search finish before a new one takes the machine: at most the share of
    this move's time a search may take (no limit without a clock), and no longer than a
    ``stop`` of this go."""
    if not session.search_running():
        return
    budget = time_budget(go, color)
    deadline = None if budget is None else time.monotonic() + max(
        0.0, TIME_SAFETY * (budget - (session.clock() - start) - RESERVE_S))
    thread = session.background.thread
    while thread.is_alive() and not session.stop_requested():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        thread.join(0.02 if left is None else min(0.02, left))


def _key(session: Session) -> jax.Array:
    return jax.random.PRNGKey(int(session.rng.integers(2**31)))


def _gumbel_scale(session: Session) -> float:
    return min(session.temperature, _MAX_GUMBEL_SCALE)


def info_line(result: SearchResult, time_ms: int) -> str:
    """The USI ``info`` line of a search: ``depth`` (plies of the principal variation),
    ``seldepth`` (the deepest node of the tree), ``nodes`` (simulations), ``nps`` (simulations
    per second of that search), ``time`` (``time_ms``: since the go arrived), ``score cp``
    (from the root value) and ``pv``."""
    nps = round(result.nodes / max(result.seconds, 1e-3))
    return (f"info depth {result.depth} seldepth {result.seldepth} nodes {result.nodes} "
            f"nps {nps} time {time_ms} score cp {_centipawns(result.value)} "
            f"pv {' '.join(result.pv)}")


def _report(session: Session, result: SearchResult, start: float) -> None:
    value = f" value {result.value:+.3f}" if math.isfinite(result.value) else ""
    session.info("top " + " ".join(f"{m} {w:.3f}" for m, w in result.top) + value)
    session.send(info_line(result, max(0, round(1000 * (session.clock() - start)))))


def _centipawns(value: float) -> int:
    """A value in [-1, 1] as a centipawn-like score (600 atanh v); 0 for a non-finite one."""
    if not math.isfinite(value):
        return 0
    return round(600 * math.atanh(min(max(value, -0.999), 0.999)))


def _setoption(session: Session, args: list[str]) -> None:
    name, value = parse_setoption(args)
    if name == "Checkpoint":
        session.checkpoint = "" if value in ("", "<empty>") else value
    elif name == "Temperature":
        try:
            temperature = float(value)
        except ValueError:
            raise UsiError(f"Temperature must be a number >= 0, got {value!r}") from None
        if not temperature >= 0:
            raise UsiError(f"Temperature must be a number >= 0, got {value!r}")
        if temperature != session.temperature:
            session.temperature = temperature
            if session.network is not None:  # a new forward pass, not a new checkpoint load
                apply_fn, params, obs_max_plies, _ = session.network
                session.analyse = network_analyse(apply_fn, params, temperature=temperature,
                                                  obs_max_plies=obs_max_plies)
    elif name == "Seed":
        if not (value.isascii() and value.isdigit()):  # "²".isdigit() but int("²") fails
            raise UsiError(f"Seed must be a non-negative integer, got {value!r}")
        session.seed = int(value)
        session.rng = np.random.default_rng(session.seed)
    elif name == "MateChecks":
        if value not in ("true", "false"):
            raise UsiError(f"MateChecks must be true or false, got {value!r}")
        session.mate_checks = value == "true"
    elif name in SPIN_OPTIONS:
        setattr(session, _SPIN_FIELDS[name], _spin(name, value))
    elif not name.startswith("USI_"):  # USI_Hash, USI_Ponder...: nothing to do
        raise UsiError(f"unknown option {name!r}; options: Checkpoint, Temperature, MateChecks, "
                       + ", ".join(SPIN_OPTIONS))


def _spin(name: str, value: str) -> int:
    _, lo, hi = SPIN_OPTIONS[name]
    if not (value.isascii() and value.isdigit() and lo <= int(value) <= hi):
        raise UsiError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def handle(session: Session, line: str) -> bool:
    """Process one input line; False after ``quit``."""
    tokens = line.split()
    if not tokens:
        return True
    cmd, args = tokens[0], tokens[1:]
    try:
        if cmd == "usi":
            session.send(f"id name {ENGINE_NAME}")
            session.send("id author keisei_jax developers")
            for option in _options(session):
                session.send(option)
            session.send("usiok")
        elif cmd == "isready":
            _load(session, ready=True)
            session.send("readyok")
        elif cmd == "setoption":
            _setoption(session, args)
        elif cmd == "usinewgame":
            session.flush_pending()
            session.state, session.position_key = None, None
        elif cmd == "position":
            _set_position(session, args)
        elif cmd == "go":
            _go(session, args)
        elif cmd in ("stop", "ponderhit", "gameover"):
            session.flush_pending()
        elif cmd == "quit":
            session.flush_pending()
            return False
        else:
            session.info(f"unknown command {cmd!r} ignored")
    except UsiError as err:
        session.info(f"{cmd}: {err} (ignored)")
    except (ValueError, IndexError, KeyError) as err:  # e.g. a malformed SFEN
        session.info(f"{cmd}: {type(err).__name__}: {err} (ignored)")
    return True


def serve(session: Session, lines: Iterable[str]) -> None:
    """Handle ``lines`` until ``quit`` or their end. A thread reads them ahead of the loop, so
    a ``stop`` or ``quit`` reaches a search still compiling or running: its ``go`` answers at
    once (``Session.stop_requested``), and then the ``stop`` or ``quit`` is handled in turn."""
    session.line, session.stop_line = 0, -1
    pending: queue.Queue[tuple[int, str] | None] = queue.Queue()

    def read() -> None:
        try:
            for index, line in enumerate(lines):
                if line.split()[:1] in (["stop"], ["quit"]):
                    session.stop_line = index
                pending.put((index, line))
        finally:
            pending.put(None)  # the end of the input ends the loop

    session.reader = threading.Thread(target=read, name="keisei-usi-input", daemon=True)
    session.reader.start()
    while (item := pending.get()) is not None:
        session.line, line = item
        if not handle(session, line):
            return


def run(lines: Iterable[str], write: Callable[[str], None], *, checkpoint: str = "",
        temperature: float = 0.0, simulations: int = DEFAULT_SIMULATIONS,
        max_simulations: int = DEFAULT_MAX_SIMULATIONS,
        considered_actions: int = DEFAULT_CONSIDERED_ACTIONS, mate_checks: bool = True
        ) -> Session:
    """Serve USI over ``lines`` (e.g. ``sys.stdin``) until ``quit`` or the end of input; the
    session at the end (``search_running()``: a stopped search's thread still finishing)."""
    session = Session(write=write, checkpoint=checkpoint, temperature=temperature,
                      simulations=simulations, max_simulations=max_simulations,
                      considered_actions=considered_actions, mate_checks=mate_checks)
    serve(session, lines)
    return session
