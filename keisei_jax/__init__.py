"""keisei_jax: shogi self-play reinforcement learning in JAX.

The public surface, as a researcher uses it:

- ``shogi``: the rules engine (``init``, ``from_sfen``, ``step``, ``observe``, ``to_sfen``,
  the 13,527-action mapping), single-game functions to ``jax.jit`` and ``jax.vmap``;
  ``env``: the batched environment over it.
- ``TrainConfig``, ``ModelConfig``; ``make_train(config)`` (PPO or Gumbel AlphaZero by
  ``config.algo``) returns the pure ``init`` / ``train_call`` pair; ``train_and_evaluate`` is
  the driver (workdir, checkpoints, evaluations, metrics).
- ``load_policy(path)`` restores a checkpoint as a ``LoadedPolicy``.
- ``search``: Gumbel MuZero over the rules engine (``search.search``; ``SearchSettings``, every
  setting of a search with one set of defaults, a player's; ``SearchOutput``).
- Players for the arena: ``random_player``, ``greedy_player``, ``network_player``,
  ``search_player``; ``play_match`` and ``evaluate_vs`` play them against each other.
- ``models``, ``ppo``, ``az`` and ``usi`` for the parts below those.

Every name is imported on first use, so ``import keisei_jax.shogi`` loads the rules engine
and JAX only (no flax, optax, orbax or mctx).
"""

from __future__ import annotations

import importlib
from typing import Any

# Kept equal to pyproject.toml's version by tests/test_public_api.py.
__version__ = "0.1.0"

_SUBPACKAGES = ("az", "env", "models", "ppo", "search", "shogi", "usi")

# name -> the module that defines it
_NAMES = {
    "TrainConfig": "keisei_jax.config",
    "ModelConfig": "keisei_jax.models",
    "make_train": "keisei_jax.algos",
    "train_and_evaluate": "keisei_jax.training",
    "load_policy": "keisei_jax.eval.checkpoint",
    "LoadedPolicy": "keisei_jax.eval.checkpoint",
    "SearchOutput": "keisei_jax.search",
    "SearchSettings": "keisei_jax.search",
    "Player": "keisei_jax.eval.players",
    "random_player": "keisei_jax.eval.players",
    "greedy_player": "keisei_jax.eval.players",
    "network_player": "keisei_jax.eval.players",
    "search_player": "keisei_jax.eval.search_player",
    "play_match": "keisei_jax.eval.arena",
    "evaluate_vs": "keisei_jax.eval.arena",
}

__all__ = sorted([*_SUBPACKAGES, *_NAMES])


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
