"""The one wrapper from a flax module to ``apply_fn(params, obs) -> (logits, value)``."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax


@dataclasses.dataclass(frozen=True)
class ModuleApply:
    """``apply_fn`` of a flax module: ``(params, obs float32[B, 9, 9, 46]) -> (logits
    float32[B, 13527], value float32[B])``. Hashable by the module's config (flax modules compare
    by their fields), so a jit that takes it as a static argument compiles once per config; a
    lambda or the module's bound ``apply`` would be a new key every time."""

    model: Any

    def __call__(self, params: Any, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        return self.model.apply({"params": params}, obs)


def apply_fn(model: Any) -> ModuleApply:
    """``(params, obs) -> (logits, value)`` of ``model`` (see ``ModuleApply``)."""
    return ModuleApply(model)


def apply_with_material(model: Any, params: Any, obs: jax.Array
                        ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(logits, value, material)``: ``model``'s outputs and its material head's prediction
    float32[B] (``ModelConfig.material_head``; the head's output is collected, not returned, so
    every other caller keeps the two outputs)."""
    (logits, value), state = model.apply({"params": params}, obs, mutable=["intermediates"])
    (material,) = state["intermediates"]["material"]
    return logits, value, material
