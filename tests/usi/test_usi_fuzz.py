"""Property tests of the USI front end: the parsers raise nothing but ``UsiError``, ``handle``
raises nothing, and every ``go`` is answered by exactly one ``bestmove``: with the greedy
baseline (no checkpoint, so each move is fast; a few hundred examples here, thousands under
``-m slow``) and with the tiny network searching (``go infinite`` in its thread; fewer)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keisei_jax.usi import Session, handle, parse_go, parse_position
from keisei_jax.usi.protocol import UsiError, parse_setoption
from tests.usi.helpers import SEARCH_SETOPTIONS

_BOARDS = ["lnsgkgsnl/1r5b1/ppppppppp/9/9/9/PPPPPPPPP/1B5R1/LNSGKGSNL",
           "4k4/9/4P4/9/9/9/9/9/4K4", "9/9/9/9/9/9/9/9/9", "k8/9/9/9/9/9/9/9/8K"]
# Words the parsers and the engine react to, plus near misses and garbage.
_WORDS = [
    "usi", "isready", "usinewgame", "position", "startpos", "sfen", "moves", "go", "stop",
    "ponderhit", "gameover", "win", "lose", "draw", "setoption", "name", "value", "Checkpoint",
    "Temperature", "Seed", "USI_Ponder", "ponder", "infinite", "mate", "btime", "wtime",
    "byoyomi", "binc", "winc", "nodes", "depth", "movetime", "0", "1", "100", "-5", "abc",
    "1e9", "99999999999999999999", "nan", "inf", "7g7f", "3c3d", "2g2f", "8c8d", "P*5e", "7g7f+",
    "9a9b", "1a1b", "zz", "+", "*", "b", "w", "-", "G", "2P", "18P", "\x00", "\ufffd", "ÿ", "１",
    "²", *_BOARDS,
]
_TOKEN = st.one_of(st.sampled_from(_WORDS), st.text(max_size=6))
_TOKENS = st.lists(_TOKEN, max_size=10)
_MOVES = ["7g7f", "3c3d", "2g2f", "8c8d", "G*5b", "P*5e", "5i6h", "9a8b", "8h2b+", "7g7f+",
          "1a1b", "zz"]
_NUMBER = st.one_of(st.sampled_from(["0", "1", "-5", "2147483647", "2147483648",
                                     "99999999999999999999", "1e9", "²", "١٢"]),
                    st.integers(-10, 10**12).map(str))
# position lines shaped like the real thing, so the SFEN fields and moves get exercised.
_POSITION_LINE = st.builds(
    lambda sfen, moves: f"position {sfen}" + (" moves " + " ".join(moves) if moves else ""),
    st.one_of(
        st.just("startpos"),
        st.builds("sfen {} {} {} {}".format,
                  st.one_of(st.sampled_from(_BOARDS), st.text(max_size=12)),
                  st.sampled_from(["b", "w", "x"]),
                  st.one_of(st.sampled_from(["-", "G", "2P", "18P", "99999999999999999999P"]),
                            st.text(max_size=4)),
                  _NUMBER),
    ),
    st.lists(st.one_of(st.sampled_from(_MOVES), st.text(max_size=5)), max_size=4),
)
# A line: mostly the engine's vocabulary, sometimes arbitrary text (any code point).
_LINE = st.one_of(_TOKENS.map(" ".join), _POSITION_LINE, st.text(max_size=40))
_GO_WORDS = ["ponder", "infinite", "mate", "btime", "wtime", "byoyomi", "binc", "winc", "nodes",
             "depth", "movetime"]
_GO_LINE = st.lists(st.one_of(st.sampled_from(_GO_WORDS), _NUMBER, _TOKEN), max_size=6).map(
    lambda tokens: " ".join(["go", *tokens]))
_SCRIPT = st.lists(st.one_of(_LINE, _GO_LINE), min_size=1, max_size=12)

_FAST = settings(max_examples=300, deadline=None)
_SLOW = settings(max_examples=3000, deadline=None)
# Scripts for the searching session: a valid position first, mostly go lines and the commands
# that end a held go, and they keep the checkpoint (a Checkpoint option would end the search).
_CONTROL = st.sampled_from(["stop", "ponderhit", "go infinite", "go ponder", "gameover win",
                            "position startpos moves 7g7f", "position startpos", "go",
                            "go nodes 8", "go byoyomi 100000", "usinewgame\nposition startpos"])
_SEARCH_SCRIPT = st.builds(
    lambda first, rest: [first] + [line.replace("Checkpoint", "Seed") for chunk in rest
                                   for line in chunk.split("\n")],
    st.sampled_from(["position startpos", "position startpos moves 2g2f 8c8d"]),
    st.lists(st.one_of(_GO_LINE, _CONTROL, _CONTROL, _LINE), max_size=10),
)


@pytest.fixture(scope="module")
def session():
    out = []
    session = Session(write=out.append, seed=0)
    assert handle(session, "isready")
    return session, out


def _parsers_raise_only_usi_error(tokens):
    for parse in (parse_position, parse_go, parse_setoption):
        try:
            parse(tokens)
        except UsiError:
            pass


def _is_go_mate(line):
    tokens = line.split()
    if not tokens or tokens[0] != "go":
        return False
    try:
        return parse_go(tokens[1:]).mate
    except UsiError:
        return False  # a malformed go is played with the default settings


def _holds(go_tokens):
    """Whether a go waits for stop/ponderhit (a malformed go plays with the defaults: no)."""
    try:
        go = parse_go(go_tokens)
    except UsiError:
        return False
    return go.ponder or go.infinite


def _every_go_gets_one_bestmove(session, out, script):
    """Run ``script`` then ``stop``: bestmoves == non-mate gos, checkmate replies == mate gos,
    and a go that does not wait has its bestmove as its last line."""
    assert handle(session, "stop")  # nothing pending from the previous example
    out.clear()
    gos = mates = 0
    for line in script:
        start = len(out)
        if not handle(session, line):  # quit: the loop would end here
            break
        tokens = line.split()
        if not tokens or tokens[0] != "go":
            continue
        if _is_go_mate(line):
            mates += 1
            assert out[-1] == "checkmate notimplemented", (line, out[start:])
        else:
            gos += 1
            if not _holds(tokens[1:]):
                assert out[-1].startswith("bestmove "), (line, out[start:])
    assert handle(session, "stop")
    bestmoves = [line for line in out if line.startswith("bestmove")]
    assert len(bestmoves) == gos, (script, out)
    assert sum(line.startswith("checkmate") for line in out) == mates, (script, out)
    assert all(len(line.split()) == 2 for line in bestmoves), bestmoves


@pytest.fixture(scope="module")
def searching_session(run_dir):
    out = []
    session = Session(write=out.append, seed=0, checkpoint=str(run_dir))
    for line in (*SEARCH_SETOPTIONS, "isready"):
        assert handle(session, line)
    assert session.searcher is not None
    return session, out


def _reset_search_options(session):
    for line in SEARCH_SETOPTIONS:  # a script may have changed them (e.g. Simulations 0)
        assert handle(session, line)


@_FAST
@given(_TOKENS)
def test_parsers_raise_only_usi_error(tokens):
    _parsers_raise_only_usi_error(tokens)


@_FAST
@given(st.lists(_LINE, max_size=8))
def test_handle_never_raises(session, lines):
    session, _ = session
    for line in lines:
        handle(session, line)


@_FAST
@given(_SCRIPT)
def test_every_go_gets_exactly_one_bestmove(session, script):
    _every_go_gets_one_bestmove(*session, script)


@settings(max_examples=40, deadline=None)
@given(_SEARCH_SCRIPT)
def test_every_go_gets_exactly_one_bestmove_while_searching(searching_session, script):
    _reset_search_options(searching_session[0])
    _every_go_gets_one_bestmove(*searching_session, script)


@pytest.mark.slow
@_SLOW
@given(_TOKENS)
def test_parsers_raise_only_usi_error_slow(tokens):
    _parsers_raise_only_usi_error(tokens)


@pytest.mark.slow
@_SLOW
@given(st.lists(_LINE, max_size=8))
def test_handle_never_raises_slow(session, lines):
    session, _ = session
    for line in lines:
        handle(session, line)


@pytest.mark.slow
@_SLOW
@given(_SCRIPT)
def test_every_go_gets_exactly_one_bestmove_slow(session, script):
    _every_go_gets_one_bestmove(*session, script)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_SEARCH_SCRIPT)
def test_every_go_gets_exactly_one_bestmove_while_searching_slow(searching_session, script):
    _reset_search_options(searching_session[0])
    _every_go_gets_one_bestmove(*searching_session, script)
