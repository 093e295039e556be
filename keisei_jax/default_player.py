"""The one default player of every tool: a checkpoint's network searching ``PLAY_SIMULATIONS``
simulations a move (``eval.search_player`` with the search's own defaults: 8 considered actions,
the best move rather than a sample, mate checks on). ``play.py``, ``evaluate.py``,
``strength.py``, ``elo.py`` and the Colab notebook start from it, and ``keisei-usi``'s
``Simulations`` option is held equal to it by a test, so "how strong is my checkpoint" has one
answer; ``--simulations 0`` plays the raw policy instead. Standard library only: the scripts read
it before importing JAX.
"""

PLAY_SIMULATIONS = 64
