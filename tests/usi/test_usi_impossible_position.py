"""USI ``position sfen`` of a position that cannot arise: from_sfen's ValueError reaches the
front end, which reports it and keeps no position."""

from keisei_jax.usi import Session, handle


def test_impossible_position_is_reported_and_not_kept():
    out = []
    session = Session(write=out.append)
    # Black to move could capture White's king with 5b5a.
    assert handle(session, "position sfen 4k4/4R4/9/9/9/9/9/9/4K4 b - 1")
    assert session.state is None
    assert len(out) == 1 and out[0].startswith("info string position: ValueError:")
    assert "White, not to move, is in check" in out[0]
    out.clear()
    assert handle(session, "position sfen 4k4/9/9/9/4P4/4P4/9/9/4K4 b - 1 moves 5e5d")
    assert session.state is None and "nifu" in out[0]
    out.clear()
    assert handle(session, "go")
    assert out[-1] == "bestmove resign" and any("no valid position" in line for line in out)
