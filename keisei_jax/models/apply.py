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
