"""PPO self-play: rollout, alternating-mover GAE, the clipped update, and ``make_train``."""

from keisei_jax.ppo.gae import alternating_gae
from keisei_jax.ppo.loss import Batch, LossConfig, ppo_loss, update
from keisei_jax.ppo.rollout import Transition, policy_step, rollout
from keisei_jax.ppo.train import make_train

__all__ = [
    "Batch", "LossConfig", "Transition", "alternating_gae", "make_train",
    "policy_step", "ppo_loss", "rollout", "update",
]
