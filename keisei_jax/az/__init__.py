"""Gumbel AlphaZero self-play: search-chosen moves, improved-policy and return targets, the
same compiled loop, ``Runner`` and driver as PPO."""

from keisei_jax.az import replay
from keisei_jax.az.loss import Batch, az_loss
from keisei_jax.az.rollout import SearchTransition, self_play, selfplay_settings
from keisei_jax.az.train import make_train, targets

__all__ = ["Batch", "SearchTransition", "az_loss", "make_train", "replay", "self_play",
           "selfplay_settings", "targets"]
