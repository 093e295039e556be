"""CPU default: the ``small`` tower (local policy head + learned action prior), material and
check shaping annealed away over the first 70% of the run; ~6 minutes on 2 idle cores.

Minibatches of 64 give 64 gradient steps per 2,048 env steps at the same arithmetic as fewer,
larger ones; here the learner is short of steps, not of data (docs/results.md, 2026-11-24).

The values are ``TrainConfig``'s own defaults (one set of defaults); the other configs here start
from this one and replace what they change.
"""

from keisei_jax.config import TrainConfig


def get_config() -> TrainConfig:
    return TrainConfig()
