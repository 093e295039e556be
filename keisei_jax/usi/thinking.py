"""How the USI engine thinks: a Gumbel MuZero search (``keisei_jax.search``) sized to ``go``.

Programs. A search program is compiled for a *capacity* (a tree of ``capacity + 1`` nodes, one of
``LADDER``: 8, 16, 32, ..., doubling) and searches any number of simulations up to it, the
number being an argument (``search.search(capacity=...)``: the very search a program compiled for
that number makes). A ``Searcher`` keeps the compiled programs of one network (seconds to
minutes each to compile on a CPU; the persistent cache ``JAX_COMPILATION_CACHE_DIR`` keeps them
for the next process), each program's fixed cost (the tree's set-up, the root's evaluation: a
one-simulation search, timed), the simulations per second, and the longest compile seen. On a
persistent-cache hit the cache's record of the original compile time counts, so a cached program
does not make compiling a new capacity look cheap. A search of ``n`` runs on the smallest
compiled capacity >= ``n``.

Time. ``time_budget`` is what one move may take: ``movetime``; else a slice of the main time
(1/40) plus the increment plus the whole byoyomi, at most what the clock allows (main time plus
byoyomi, or the increment if that is more). ``plan_simulations`` takes the most simulations
(up to ``go nodes`` or ``MaxSimulations``) whose estimate (the program's fixed cost plus the
simulations' time, ``Searcher.seconds``: a measured rate that falls as a power of the size, the
tree deepening; plus the compile estimate when no compiled capacity holds them) is at most
``TIME_SAFETY`` of the budget left after a 0.1 s reserve; fewer than ``MIN_SIMULATIONS``:
0 (one forward pass, compiled with the network). The engine also answers at the budget less the
reserve whatever the search is doing (``SearchRun.wait``), with one forward pass computed
before the search, so a machine that slows down mid-search costs that move's search, not the
game; a plan of ``INSURED_FROM`` simulations or more first searches 1/``INSURANCE_SHARE`` of
them (the main search gets what is left), and that search is the move at the deadline.

Mate checks. A search may also run the root's mate checks (``search.search``'s
``mate_threat_moves`` and ``mate_five_retries``, as every search player does): a separate
program per capacity (~4x the compile of a plain search), whose extra time depends on the
position (30-600 ms measured on 2 CPU cores) rather than on the simulations. Without a clock
every search runs them; under a clock ``plan_checked_simulations`` takes the most simulations
that a compiled checked program holds, up to the plain plan's, whose estimate plus
``MATE_CHECK_S`` fits the same share of the budget (the checks are worth more than a larger
tree: docs/search.md, "Mate threats at the root"), else the plain plan runs. A search with
them lowers the simulations/s estimate when it outlasted it, and raises it (slowly) only by the
rate it would have had if the checks took no time, which is never above the true one.

Every other search (``go nodes``, a clock, a plain ``go``) runs in a ``SearchRun`` thread that the
engine's loop waits on, so a ``stop`` or ``quit`` read meanwhile answers at once (with one
forward pass) however long the search would still compile or run.

``go infinite`` / ``go ponder``: ``Thinking`` runs searches of doubling size in a thread until it
is stopped; each takes about twice the one before, so the search still running at ``stop`` has
about as long left as the thinking has lasted, and a capacity is compiled only once the thinking
has lasted as long as a compile.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import mctx
import numpy as np

from keisei_jax import search, shogi
from keisei_jax.usi.protocol import SPIN_OPTIONS, Go

LADDER = tuple(8 << k for k in range(14))  # capacities: 8 ... 65,536 simulations
MIN_SIMULATIONS = LADDER[0]  # the smallest search a clock runs (below: one forward pass)
assert (SPIN_OPTIONS["MaxSimulations"][1:] == (MIN_SIMULATIONS, LADDER[-1])
        and SPIN_OPTIONS["Simulations"][2] == LADDER[-1])
MAX_PV = 64  # plies of principal variation reported at most
INITIAL_SIMS_PER_S = 20.0  # before any measurement: slow on purpose
INITIAL_COMPILE_S = 60.0  # before any compile was timed
TIME_SAFETY = 0.8  # a search may take this share of the time left (the deadline guards the rest)
RESERVE_S = 0.1  # kept back from every budget: output, the GUI's own latency
MOVES_TO_GO = 40  # the main time is shared among this many moves
MAX_TIME_MS = 10**9  # clock values are clamped here (11.6 days)
MATE_CHECK_S = 0.6  # the root's mate checks took up to this long a position (docs/search.md)
# A clock search of at least INSURED_FROM simulations runs a plain search of 1/INSURANCE_SHARE
# of them first: should the machine slow down, the move played at the deadline is that one's.
INSURED_FROM = 512
INSURANCE_SHARE = 8
# A program's fixed cost per tree node until it is timed (measured ~12 us on 2 CPU cores: the
# tree's arrays are set up on every search).
OVERHEAD_PER_NODE_S = 2e-5
# The searches that time a program once it is compiled: the rate at RATE_PROBE simulations, and
# how it falls as the tree grows (the slowdown exponent, from the rate at RATE_PROBE / 4). Each
# simulation walks a deeper tree: az_lambda_850 ran 1,300 simulations/s at 512 and 860 at 11,369
# (exponent ~0.13); the tiny test network ~0.25.
RATE_PROBE = 2048
PRIOR_SLOWDOWN = 0.15  # the exponent until two probes measure it
MAX_SLOWDOWN = 0.5


def time_budget(go: Go, color: int) -> float | None:
    """Seconds the move of ``color`` (0 Black, 1 White) may take under ``go``'s clock; None
    when ``go`` has no clock (no btime/wtime/byoyomi/binc/winc/movetime)."""

    def seconds(ms: int | None) -> float | None:
        return None if ms is None else min(ms, MAX_TIME_MS) / 1000

    main = seconds(go.btime if color == shogi.BLACK else go.wtime)
    inc = seconds(go.binc if color == shogi.BLACK else go.winc)
    byoyomi = seconds(go.byoyomi)
    budgets = []
    if go.movetime is not None:
        budgets.append(seconds(go.movetime))
    if any(v is not None for v in (go.btime, go.wtime, go.byoyomi, go.binc, go.winc)):
        main, inc, byoyomi = main or 0.0, inc or 0.0, byoyomi or 0.0
        # Some GUIs add the increment before the move (it is in ``main``), others after (the
        # move may use ``main + inc``): ``max(main + byoyomi, inc)`` is safe under both.
        budgets.append(min(main / MOVES_TO_GO + inc + byoyomi, max(main + byoyomi, inc)))
    return min(budgets) if budgets else None


def capacity_for(num_simulations: int) -> int:
    """The smallest ``LADDER`` capacity that holds ``num_simulations`` (1 ... 65,536)."""
    for capacity in LADDER:
        if capacity >= num_simulations:
            return capacity
    raise ValueError(f"num_simulations must be in [1, {LADDER[-1]}], got {num_simulations!r}")


def prior_overhead_s(capacity: int) -> float:
    """A program's fixed cost (seconds) before it is timed."""
    return OVERHEAD_PER_NODE_S * (capacity + 1)


def _most_that_fit(seconds: Callable[[int], float], usable_s: float, limit: int) -> int:
    """The most ``n`` in [0, ``limit``] with ``seconds(n) <= usable_s`` (``seconds`` grows with
    ``n``; 0 when even 1 does not fit), by bisection."""
    low, high = 0, max(limit, 0)
    while low < high:
        mid = (low + high + 1) // 2
        if seconds(mid) <= usable_s:
            low = mid
        else:
            high = mid - 1
    return low


def plan_simulations(*, remaining_s: float, limit: int, programs: Mapping[int, float],
                     seconds: Callable[[int], float], compile_s: float) -> int:
    """The most simulations ``n <= limit`` whose estimate is at most ``TIME_SAFETY *
    remaining_s``, 0 (no search) below ``min(MIN_SIMULATIONS, limit)``. ``seconds(n)``: the
    time ``n`` simulations take, growing with ``n`` (``Searcher.seconds``). ``programs``: the
    compiled capacities and their fixed costs in seconds; a search of ``n`` costs the fixed cost
    of a compiled capacity >= ``n`` plus ``seconds(n)``. While none holds ``limit``, a program
    for it may be compiled: ``compile_s`` plus ``prior_overhead_s`` of that capacity more."""
    usable = TIME_SAFETY * remaining_s
    if not usable > 0:  # also NaN
        return 0
    best = 0
    for capacity, fixed_s in programs.items():
        best = max(best, _most_that_fit(seconds, usable - fixed_s, min(limit, capacity)))
    if not any(capacity >= limit for capacity in programs):
        extra = compile_s + prior_overhead_s(capacity_for(limit))
        best = max(best, _most_that_fit(seconds, usable - extra, limit))
    return best if best >= min(MIN_SIMULATIONS, limit) else 0


def ladder_up_to(limit: int) -> tuple[int, ...]:
    """``LADDER`` sizes below ``limit``, then ``limit`` itself (``limit`` >= 1)."""
    return tuple(n for n in LADDER if n < limit) + (limit,)


def choose_simulations(go: Go, *, color: int, simulations: int, max_simulations: int,
                       elapsed_s: float, seconds: Callable[[int], float], compile_s: float,
                       programs: Mapping[int, float]) -> int:
    """Simulations for ``go`` (0: one forward pass). ``go nodes N``: N (at most
    ``max_simulations``); no clock: ``simulations`` (the option); a clock: the most up to ``go
    nodes`` or ``max_simulations`` that fit what is left of the budget after ``elapsed_s``
    (``plan_simulations`` over the compiled ``programs``)."""
    nodes = None if go.nodes is None else min(go.nodes, max_simulations)
    budget = time_budget(go, color)
    if budget is None:
        return min(simulations, max_simulations) if nodes is None else nodes
    limit = max_simulations if nodes is None else nodes
    if limit == 0:
        return 0
    return plan_simulations(remaining_s=budget - elapsed_s - RESERVE_S, limit=limit,
                            programs=programs, seconds=seconds, compile_s=compile_s)


def plan_checked_simulations(go: Go, *, color: int, elapsed_s: float, limit: int,
                             seconds: Callable[[int], float],
                             programs: Mapping[int, float]) -> int:
    """Simulations of a search with the root's mate checks for ``go`` (0: none), ``limit``
    being the plain search's plan: ``limit`` itself without a clock; under one, the most up to
    ``limit`` that a compiled checked program of ``programs`` holds and whose estimate plus
    ``MATE_CHECK_S`` is at most ``TIME_SAFETY`` of the budget left after ``elapsed_s`` and
    ``RESERVE_S``."""
    budget = time_budget(go, color)
    if budget is None:
        return limit
    if limit == 0:
        return 0
    # est + MATE_CHECK_S <= TIME_SAFETY * left  <=>  est <= TIME_SAFETY * (left - MATE_CHECK_S /
    # TIME_SAFETY): the plain rule over the compiled programs, on less time, never compiling.
    return plan_simulations(
        remaining_s=budget - elapsed_s - RESERVE_S - MATE_CHECK_S / TIME_SAFETY, limit=limit,
        programs=programs, seconds=seconds, compile_s=math.inf)


def updated_rate(old: float, measured: float) -> float:
    """The next simulations/s estimate: it falls at once (a slower size, a busier machine) and
    rises by a quarter of the gap, so one fast search does not overcommit the next."""
    if not math.isfinite(measured) or measured <= 0:
        return old
    return measured if measured < old else old + 0.25 * (measured - old)


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """One completed search.

    move: the chosen USI move. pv: USI moves from the root, most visited child after the chosen
    move (``pv[0] == move``), while the tree goes on. depth: ``len(pv)`` plies. seldepth: the
    deepest node of the tree, in plies. nodes: simulations. value: root value in [-1, 1] for
    the side to move (NaN from a diverged network). seconds: wall time of the search. top:
    (USI, improved-policy weight) pairs, best first.
    """

    move: str
    pv: tuple[str, ...]
    depth: int
    seldepth: int
    nodes: int
    value: float
    seconds: float
    top: tuple[tuple[str, float], ...]


def _node_depths(parents: jax.Array) -> jax.Array:
    """int32[N] plies from the root of each node (0 for the root and unused nodes), from
    ``parents`` int32[N] (-1: none) by pointer jumping (log2 N vector steps, not N scalar
    ones). Invariant: ``depth[i]`` is the distance from ``i`` to ``up[i]``."""
    up = parents
    depth = (up >= 0).astype(jnp.int32)
    for _ in range(max(1, int(parents.shape[0]).bit_length())):
        has = up >= 0
        safe = jnp.where(has, up, 0)
        depth, up = jnp.where(has, depth + depth[safe], depth), jnp.where(has, up[safe], up)
    return depth


def _principal_variation(tree: mctx.Tree, root_slot: jax.Array, length: int
                         ) -> tuple[jax.Array, jax.Array]:
    """(Keisei actions int32[length], count int32[]) of game 0 of ``tree``: ``root_slot``, then
    the most visited child of each node, up to a node without a visited child. It stops
    before an illegal slot or a finished game, so every move is legal in sequence."""
    node_state = tree.embeddings.state
    legal_count = jnp.sum(jax.lax.population_count(node_state.legal_bits[0]), axis=-1)
    finished = node_state.terminated[0] | node_state.truncated[0]

    def step(carry, _):
        node, slot, alive = carry
        alive = alive & (slot < legal_count[node]) & ~finished[node]
        action = tree.embeddings.actions[0, node, slot]
        child = tree.children_index[0, node, slot]
        child_alive = alive & (child >= 0)
        child = jnp.maximum(child, 0)
        visits = tree.children_visits[0, child]
        nxt = jnp.argmax(visits).astype(jnp.int32)
        return (child, nxt, child_alive & (visits[nxt] > 0)), (action, alive)

    init = (jnp.int32(tree.ROOT_INDEX), root_slot.astype(jnp.int32), jnp.bool_(True))
    _, (actions, alive) = jax.lax.scan(step, init, None, length=length)
    return actions, alive.sum().astype(jnp.int32)


def _think(params: Any, state: shogi.State, key: jax.Array, gumbel_scale: jax.Array,
           num_simulations: jax.Array, *, apply_fn: Callable, obs_max_plies: int | None,
           settings: search.SearchSettings, capacity: int, mate_checks: bool
           ) -> dict[str, jax.Array]:
    """One search of ``num_simulations`` (int32[], at most ``capacity``) of one position and
    what the engine reports of it (jitted per capacity, with and without the root's mate
    checks of ``settings``)."""
    if not mate_checks:
        settings = settings.replace(mate_threat_moves=0, mate_five_retries=0)
    out = search.search(
        apply_fn=apply_fn, params=params, state=jax.tree_util.tree_map(lambda x: x[None], state),
        key=key, settings=settings, num_simulations=num_simulations, capacity=capacity,
        gumbel_scale=gumbel_scale, obs_max_plies=obs_max_plies, return_tree=True)
    pv, pv_len = _principal_variation(out.tree, out.slot[0], min(capacity, MAX_PV))
    return {
        "slot": out.slot[0], "num_legal": out.num_legal[0], "actions": out.actions[0],
        "weights": out.action_weights[0], "value": out.root_value[0], "pv": pv,
        "pv_len": pv_len, "seldepth": jnp.max(_node_depths(out.tree.parents[0])),
    }


# The persistent cache records how long a program first took to compile; a hit reports it.
_cache_hit = threading.local()


def _on_duration(event: str, duration: float, **_kwargs) -> None:
    if event in ("/jax/compilation_cache/compile_time_saved_sec",
                 "/jax/compilation_cache/cache_retrieval_time_sec"):
        _cache_hit.seconds = getattr(_cache_hit, "seconds", 0.0) + duration


@functools.cache
def _listen_for_cache_hits() -> None:
    """Registered at the first compile, not at import: importing the engine changes nothing."""
    jax.monitoring.register_event_duration_secs_listener(_on_duration)


# Compiled programs, shared by every Searcher of the same network shape and settings: the
# engine makes a new Searcher when an option changes, and changing it back must not recompile.
_PROGRAMS: dict[tuple, Any] = {}
_COMPILE_LOCK = threading.Lock()


def _host(tree: Any) -> Any:
    """Leaves as numpy arrays: strongly typed (a state from ``shogi.init`` or ``step`` may hold
    weakly typed scalars), as a compiled program's argument types must match exactly."""
    return jax.tree_util.tree_map(np.asarray, tree)


class Searcher:
    """The compiled searches of one network at one ``settings`` (``search.SearchSettings``:
    its count, Gumbel scale and root mate checks are chosen per search; it owns compiled
    programs) and how fast they run.

    sims_per_s: estimated simulations per second of a search of ``rate_size`` simulations
    (``INITIAL_SIMS_PER_S`` until a search is timed, then ``updated_rate``); a search of ``n``
    runs ``(rate_size / n) ** slowdown`` times as fast (``seconds``): the tree deepens.
    compile_s: the longest compile timed (``INITIAL_COMPILE_S`` until one is), the estimate
    for a capacity not compiled yet. fixed_s: (capacity, mate
    checks) -> a program's fixed cost in seconds, timed once (``prepare``);
    ``prior_overhead_s`` until then.
    on_compile: told in words before and after each compile (the engine's ``info string``: a
    GUI shows that the engine is compiling, not hung).
    """

    def __init__(self, apply_fn: Callable, params: Any, *, obs_max_plies: int | None,
                 settings: search.SearchSettings,
                 clock: Callable[[], float] = time.perf_counter,
                 on_compile: Callable[[str], None] | None = None):
        self.apply_fn, self.params = apply_fn, params
        self.obs_max_plies, self.settings = obs_max_plies, settings
        self.clock = clock
        self.on_compile = on_compile
        self.sims_per_s, self.compile_s = INITIAL_SIMS_PER_S, INITIAL_COMPILE_S
        self.rate_size, self.slowdown = RATE_PROBE, PRIOR_SLOWDOWN
        self._rate_timed = self._compile_timed = False
        self._probe = 0  # simulations of the largest rate probe of ``prepare``
        self.fixed_s: dict[tuple[int, bool], float] = {}
        leaves, treedef = jax.tree_util.tree_flatten(self.params)
        self._signature = (apply_fn, obs_max_plies, settings, treedef,
                           tuple((x.shape, x.dtype.str) for x in leaves))

    def compiled(self, mate_checks: bool = False) -> frozenset[int]:
        """The capacities compiled (with or without the root's mate checks)."""
        return frozenset(c for sig, c, checks in list(_PROGRAMS)
                         if sig == self._signature and checks == mate_checks)

    def is_compiled(self, num_simulations: int, mate_checks: bool = False) -> bool:
        """Whether a search of ``num_simulations`` needs no compile."""
        return any(c >= num_simulations for c in self.compiled(mate_checks))

    def programs(self, mate_checks: bool = False) -> dict[int, float]:
        """The compiled capacities and their fixed costs in seconds (timed or prior)."""
        return {c: self.fixed_s.get((c, mate_checks), prior_overhead_s(c))
                for c in self.compiled(mate_checks)}

    def capacity(self, num_simulations: int, mate_checks: bool = False) -> int:
        """The capacity a search of ``num_simulations`` runs on: the smallest compiled one that
        holds it, else the ``LADDER`` one to compile."""
        held = [c for c in self.compiled(mate_checks) if c >= num_simulations]
        return min(held) if held else capacity_for(num_simulations)

    def seconds(self, num_simulations: int) -> float:
        """Seconds the simulations of a search take, its program's fixed cost aside."""
        n = max(num_simulations, 1)
        return n / self.sims_per_s * (n / self.rate_size) ** self.slowdown

    def _at_rate_size(self, num_simulations: int, seconds: float) -> float:
        """The rate at ``rate_size`` that a search of ``num_simulations`` in ``seconds`` (its
        fixed cost taken out) implies."""
        n = max(num_simulations, 1)
        return n / max(seconds, 1e-9) * (n / self.rate_size) ** self.slowdown

    def estimate_s(self, num_simulations: int, mate_checks: bool = False) -> float:
        """Seconds a search of ``num_simulations`` is expected to take, compiled (plus
        ``MATE_CHECK_S`` with the checks)."""
        capacity = self.capacity(num_simulations, mate_checks)
        fixed = self.fixed_s.get((capacity, mate_checks), prior_overhead_s(capacity))
        return fixed + self.seconds(num_simulations) + (MATE_CHECK_S if mate_checks else 0.0)

    def _program(self, capacity: int, mate_checks: bool = False) -> Any:
        key = (self._signature, capacity, mate_checks)
        with _COMPILE_LOCK:
            if key in _PROGRAMS:
                return _PROGRAMS[key]
            think = jax.jit(functools.partial(
                _think, apply_fn=self.apply_fn, obs_max_plies=self.obs_max_plies,
                settings=self.settings, capacity=capacity, mate_checks=mate_checks))
            what = f"the search of up to {capacity} simulations" + (
                " with mate checks" if mate_checks else "")
            if self.on_compile is not None:
                self.on_compile(f"compiling {what} (first time only, up to minutes on a CPU)")
            _listen_for_cache_hits()
            _cache_hit.seconds = 0.0
            start = self.clock()
            program = think.lower(self.params, _host(shogi.init()), _host(jax.random.PRNGKey(0)),
                                  np.float32(0), np.int32(1)).compile()
            wall = self.clock() - start
            cached = _cache_hit.seconds > 0
            seconds = max(wall, _cache_hit.seconds)
            _PROGRAMS[key] = program
            if self.on_compile is not None:
                self.on_compile(f"compiled {what} in {wall:.1f} s"
                                + (" (read from the persistent cache)" if cached else ""))
        if not mate_checks:  # checked programs compile late only without a clock
            self.compile_s = max(self.compile_s, seconds) if self._compile_timed else seconds
            self._compile_timed = True
        return program

    def prepare(self, capacities: Iterable[int], state: shogi.State, mate_checks: bool = False
                ) -> None:
        """Compile and time each capacity not timed yet: a warm-up search of ``state``
        (untimed: the first run of a program is slow), a one-simulation search (its fixed
        cost), then, plain, searches of up to ``RATE_PROBE`` and a quarter of that: the largest
        such probe so far sets the rate (a small one is mostly noise) and, with its quarter,
        the slowdown."""
        for capacity in capacities:
            if (capacity, mate_checks) in self.fixed_s:
                continue
            self._program(capacity, mate_checks)
            run = functools.partial(self._run, state, key=jax.random.PRNGKey(0),
                                    capacity=capacity, mate_checks=mate_checks)
            run(min(capacity, MIN_SIMULATIONS))
            fixed = self.fixed_s[(capacity, mate_checks)] = run(1)[1]
            probe = min(capacity, RATE_PROBE)
            if mate_checks or probe < self._probe:
                continue
            rate = probe / max(run(probe)[1] - fixed, 1e-9)
            quarter = probe // 4
            if quarter >= MIN_SIMULATIONS:
                rate_quarter = quarter / max(run(quarter)[1] - fixed, 1e-9)
                slowdown = math.log(rate_quarter / rate) / math.log(probe / quarter)
                self.slowdown = min(max(slowdown, 0.0), MAX_SLOWDOWN)
            self._probe = self.rate_size = probe
            self.sims_per_s, self._rate_timed = rate, True

    def compile(self, num_simulations: int) -> None:
        """Compile a program that holds ``num_simulations`` (>= 1) if none is compiled yet."""
        if num_simulations < 1:
            raise ValueError(f"num_simulations must be >= 1, got {num_simulations!r}")
        self._program(self.capacity(num_simulations))

    def _run(self, state: shogi.State, num_simulations: int, *, key: jax.Array,
             capacity: int, mate_checks: bool, gumbel_scale: float = 0.0
             ) -> tuple[dict[str, np.ndarray], float]:
        """(outputs, seconds) of one search on the program of ``capacity``."""
        program = self._program(capacity, mate_checks)
        start = self.clock()
        out = jax.device_get(program(self.params, _host(state), _host(key),
                                     np.float32(gumbel_scale), np.int32(num_simulations)))
        return out, self.clock() - start

    def _update_rate(self, num_simulations: int, seconds: float, capacity: int) -> None:
        """Fold in a plain search's rate, its program's fixed cost taken out."""
        fixed = self.fixed_s.get((capacity, False), prior_overhead_s(capacity))
        rate = self._at_rate_size(num_simulations, seconds - fixed)
        self.sims_per_s = updated_rate(self.sims_per_s, rate) if self._rate_timed else rate
        self._rate_timed = True

    def search(self, state: shogi.State, num_simulations: int, key: jax.Array,
               gumbel_scale: float = 0.0, *, timed: bool = True,
               mate_checks: bool = False) -> SearchResult | None:
        """Search ``state`` (compiling a capacity if none holds ``num_simulations``, untimed);
        None when the search's move is not a legal slot (a network that outputs NaN).
        ``timed`` updates ``sims_per_s`` (searches below ``MIN_SIMULATIONS`` are mostly fixed
        cost and leave it). With ``mate_checks``, whose time is unknown up to ``MATE_CHECK_S``:
        a search that outlasted its estimate lowers it to what would have predicted it, any
        other raises it by ``updated_rate`` toward the rate had the checks taken no time (a
        lower bound of the true rate), never lowering it."""
        capacity = self.capacity(num_simulations, mate_checks)
        self._program(capacity, mate_checks)  # compiled outside the timing
        fixed = self.fixed_s.get((capacity, mate_checks), prior_overhead_s(capacity))
        out, seconds = self._run(state, num_simulations, key=key, capacity=capacity,
                                 mate_checks=mate_checks, gumbel_scale=gumbel_scale)
        if timed and mate_checks:
            if seconds > fixed + self.seconds(num_simulations) + MATE_CHECK_S:
                self.sims_per_s = self._at_rate_size(num_simulations,
                                                     seconds - MATE_CHECK_S - fixed)
            elif num_simulations >= MIN_SIMULATIONS:
                at_least = self._at_rate_size(num_simulations, seconds - fixed)
                self.sims_per_s = max(self.sims_per_s, updated_rate(self.sims_per_s, at_least))
        elif timed and num_simulations >= MIN_SIMULATIONS:
            self._update_rate(num_simulations, seconds, capacity)
        num_legal, slot = int(out["num_legal"]), int(out["slot"])
        if not 0 <= slot < num_legal:
            return None
        color = int(state.color)
        pv = tuple(shogi.action_to_usi(int(a), color ^ (i & 1))
                   for i, a in enumerate(out["pv"][: int(out["pv_len"])]))
        weights = np.nan_to_num(out["weights"][:num_legal].astype(np.float64), nan=0.0)
        order = np.argsort(-weights, kind="stable")[:5]
        top = tuple((shogi.action_to_usi(int(out["actions"][i]), color), float(weights[i]))
                    for i in order)
        move = shogi.action_to_usi(int(out["actions"][slot]), color)
        return SearchResult(move=move, pv=pv or (move,), depth=max(len(pv), 1),
                            seldepth=max(int(out["seldepth"]), len(pv), 1),
                            nodes=num_simulations, value=float(out["value"]), seconds=seconds,
                            top=top)


class SearchRun:
    """One ``Searcher.search`` in a thread (it owns the thread): XLA can neither be interrupted
    while it compiles nor while it runs, so the caller waits on it (``wait``) and gives up when
    told to stop, leaving the thread to finish on its own. ``result``: the search's (None also
    when it chose no legal move); ``error``: what it raised (XLA out of memory, say).
    ``insurance`` > 0 first runs a plain search of that many simulations (``insured``: its
    result), a move to play should the main search not be done in time."""

    def __init__(self, searcher: Searcher, state: shogi.State, num_simulations: int,
                 key: jax.Array, gumbel_scale: float, *, mate_checks: bool, insurance: int = 0):
        self.result: SearchResult | None = None
        self.insured: SearchResult | None = None
        self.error: RuntimeError | MemoryError | None = None
        self._done = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(searcher, state, num_simulations, key, gumbel_scale,
                                    mate_checks, insurance),
            name="keisei-usi-go", daemon=True)
        self.thread.start()

    def _run(self, searcher, state, num_simulations, key, gumbel_scale, mate_checks,
             insurance) -> None:
        try:
            if insurance > 0:
                self.insured = searcher.search(state, insurance, jax.random.fold_in(key, 1),
                                               gumbel_scale)
            self.result = searcher.search(state, num_simulations, key, gumbel_scale,
                                          mate_checks=mate_checks)
        except (RuntimeError, MemoryError) as err:
            self.error = err
        finally:
            self._done.set()

    def wait(self, stopped: Callable[[], bool], poll_s: float = 0.02) -> bool:
        """True once the search is done; False as soon as ``stopped()`` (looked at every
        ``poll_s`` seconds) while it is not."""
        while not self._done.wait(poll_s):
            if stopped():
                return False
        return True

    def running(self) -> bool:
        return self.thread.is_alive()


class Thinking:
    """A search for ``go infinite`` / ``go ponder`` in a thread (it owns the thread): searches
    of the sizes in ``sizes`` one after another, each reported by ``report`` (called under the
    lock, never after ``stop``), until ``stop`` or the last size. The first size must be
    compiled, so ``stop`` waits at most for one small search."""

    def __init__(self, searcher: Searcher, state: shogi.State, *, sizes: tuple[int, ...],
                 key: jax.Array, gumbel_scale: float, report: Callable[[SearchResult], None],
                 on_error: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        if not sizes or not searcher.is_compiled(sizes[0]):
            raise ValueError(f"the first size of {sizes!r} must be compiled")
        self._searcher, self._state, self._sizes = searcher, state, sizes
        self._key, self._gumbel_scale, self._clock = key, gumbel_scale, clock
        self._report, self._on_error = report, on_error
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._finished = False
        self.best: SearchResult | None = None
        self._start = clock()
        self.thread = threading.Thread(target=self._run, name="keisei-usi-search", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for i, n in enumerate(self._sizes):
                if not self._searcher.is_compiled(n):
                    wait = self._searcher.compile_s - (self._clock() - self._start)
                    if self._stop.wait(min(max(wait, 0.0), threading.TIMEOUT_MAX)):
                        return
                    self._searcher.compile(n)
                if i and self._stop.is_set():  # the first search runs even so: stop waits for it
                    return
                result = self._searcher.search(self._state, n, jax.random.fold_in(self._key, i),
                                               self._gumbel_scale)
                with self._cond:
                    # The first result is kept even after stop: stop waits for it.
                    if result is not None and (self.best is None or not self._stop.is_set()):
                        self.best = result
                        self._report(result)
                    self._cond.notify_all()
                    if self._stop.is_set():
                        return
        except (RuntimeError, MemoryError) as err:  # e.g. XLA out of memory at a large size
            with self._cond:
                if not self._stop.is_set():
                    self._on_error(f"search stopped at a larger size: {type(err).__name__}: "
                                   f"{err}")
        finally:
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def stop(self) -> SearchResult | None:
        """Stop after the running search; the best completed result, waiting for the first
        one if none is complete (None only if that first search failed)."""
        with self._cond:
            self._stop.set()
            self._cond.wait_for(lambda: self.best is not None or self._finished)
            return self.best

    def running(self) -> bool:
        return self.thread.is_alive()
