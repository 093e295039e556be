"""Networks for self-play: the ActorCriticResTower and the masked-policy helpers."""

from keisei_jax.models.apply import ModuleApply, apply_fn, apply_with_material
from keisei_jax.models.policy import entropy, log_prob_of, masked_log_softmax, sample
from keisei_jax.models.restower import (
    PRESETS,
    ActorCriticResTower,
    ModelConfig,
    init_params,
    make_model,
)

__all__ = [
    "PRESETS", "ActorCriticResTower", "ModelConfig", "ModuleApply", "apply_fn",
    "apply_with_material", "entropy", "init_params", "log_prob_of", "make_model",
    "masked_log_softmax", "sample",
]
