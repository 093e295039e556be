"""The one default player of every tool: a checkpoint's network searching ``PLAY_SIMULATIONS``
simulations a move with ``search.SearchSettings``' defaults (the numbers below: 8 considered
actions, the best move rather than a sample, mate checks on). ``play.py``, ``evaluate.py``,
``strength.py``, ``elo.py`` and the Colab notebook start from it, and ``keisei-usi``'s
``Simulations`` option is held equal to it by a test, so "how strong is my checkpoint" has one
answer; ``--simulations 0`` plays the raw policy instead. Standard library only: the scripts and
``config`` read it before importing JAX.
"""

PLAY_SIMULATIONS = 64
# Root candidates of Sequential Halving: at 64 simulations 8 beat 16 (and 4) head to head
# (docs/search.md); self-play uses the same unless its config says otherwise.
CONSIDERED_ACTIONS = 8
# Checks tried per node for a mate in one (each costs one move generation).
MATE_CANDIDATES = 8
# The root's most probable moves checked for a mate in three of the reply, per block.
MATE_THREAT_MOVES = 8
# New searches at most when the chosen move allows the opponent a mate in five.
MATE_FIVE_RETRIES = 2
# The least value of each integer search setting: ``search.SearchSettings`` checks them, and the
# scripts check their flags against the same numbers before importing JAX.
SEARCH_COUNT_LEAST = {"num_simulations": 1, "considered_actions": 1, "mate_candidates": 0,
                      "mate_threat_moves": 0, "mate_five_retries": 0}
