"""A GUI sees what the engine compiles: ``info string`` lines before and after each compile at
``isready`` (and at a ``go`` that needs a new size), so a long first compile does not look like a
hung engine."""

from keisei_jax.usi import Session, handle, thinking
from tests.usi.helpers import SEARCH_SETOPTIONS


def test_isready_says_what_it_compiles(run_dir, monkeypatch):
    # No program compiled in this process yet: each size compiles here (from the persistent
    # cache, so in seconds) and says so.
    monkeypatch.setattr(thinking, "_PROGRAMS", {})
    out = []
    session = Session(write=out.append, checkpoint=str(run_dir))
    # One capacity (the default and the largest are 16): one compile, of the program the other
    # USI tests compile too (read from the persistent cache when one of them came first).
    for line in (*SEARCH_SETOPTIONS, "isready"):
        assert handle(session, line)
    assert out[-1] == "readyok"
    assert "info string preparing the network's forward pass (compiled the first time)" in out
    before = out.index("info string compiling the search of up to 16 simulations (first time "
                       "only, up to minutes on a CPU)")
    after = [i for i, line in enumerate(out)
             if line.startswith("info string compiled the search of up to 16 simulations in ")]
    assert after and after[0] > before, out
    # A compiled capacity says nothing more, whatever count it searches.
    out.clear()
    for line in ("position startpos", "go nodes 8", "go nodes 5"):
        assert handle(session, line)
    assert not [line for line in out if "compil" in line], out
