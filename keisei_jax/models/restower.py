"""ActorCriticResTower: a residual conv tower with a 13,527-way policy head and a value head.

Normalisation is LayerNorm over the channels of each square, not BatchNorm. In self-play the
behaviour log-probs come from a forward pass over one rollout batch (every lane at the same step)
and the PPO update re-evaluates them on shuffled minibatches; with BatchNorm in training mode the
two passes see different batch statistics, so the PPO ratio is not 1 at the first epoch and the
batch-stat collection would have to thread through the scan. LayerNorm has no batch statistics:
a position's output depends on that position only, in the rollout, the update and evaluation.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from keisei_jax import shogi
from keisei_jax.config_field import field
from keisei_jax.models.action_prior import (
    ActionPrior,
    KingSafetyPrior,
    MaterialPrior,
    ThreatPrior,
)
from keisei_jax.models.attack_planes import attack_planes
from keisei_jax.models.conv import Conv3x3
from keisei_jax.shogi.observation import HAND_MAX

NUM_ACTIONS = shogi.NUM_ACTIONS
NUM_PLANES = shogi.NUM_PLANES


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape of an ``ActorCriticResTower``.

      num_blocks: residual blocks after the stem.
      channels: width of the tower.
      se_ratio: squeeze-excitation bottleneck as a fraction of ``channels``; 0 disables SE.
      policy_head: "dense" (Keisei's: 1x1 conv to ``policy_channels``, flatten, dense to 13,527)
        or "local" (per-square weights from the tower's features; see ``LocalPolicyHead``).
      policy_channels: channels of the dense policy head's 1x1 conv.
      action_prior: add the learned per-action prior of ``action_prior.ActionPrior``.
      value_channels: channels of the value head's 1x1 conv.
      heads: "pooled": the value head's 1x1 conv (ReLU) is pooled over the board (mean and max
        of each channel, as KataGo's value head), then ``value_hidden`` ReLU units and the
        output; the dense policy head's 1x1 conv goes through a ReLU. "keisei": Keisei's layout,
        a LayerNorm over each square's head channels before the ReLU and the value read from
        the flattened 81 x ``value_channels`` map. With Keisei's 2 channels that LayerNorm is
        +-1 (the sign of their difference) times a learned scale, with ~0 gradient: the value
        saw 81 sign bits and could not fit even material (README, "Value learning"). Kept so
        that checkpoints saved before the fix load with the network they trained.
      hand_planes: "per_kind": the observation's hand planes as ``shogi.observe`` writes them
        (count / the kind's full set); "per_18": the network sees count / 18 for every kind,
        as the checkpoints saved before the per-kind scaling were trained.
      material_prior: add a learned multiple of the material balance to the value before its
        tanh (``action_prior.MaterialPrior``).
      threat_prior: add learned multiples of what each side could win with one capture to the
        value before its tanh (``action_prior.ThreatPrior``).
      king_safety_prior: add learned multiples of each king's exposure to the value before its
        tanh (``action_prior.KingSafetyPrior``).
      attack_planes: append the attack counts of ``attack_planes.attack_planes`` to the input.
      value_hidden: width of a ReLU layer between the value head's 1x1 conv and its output
        (0: the output reads the conv's features directly).
      value_trunk_grad: the share of the value loss's gradient that reaches the tower (1: all,
        as any actor-critic; 0: none, the value head learns on the features the policy made).
        Keisei's collapsed head sent ~0 back; the pooled head sends all of it, so on a small
        tower the value and the policy share its features. 0 on the ``az_lambda`` recipe played
        no measurably better than 1 (docs/results.md, 2026-12-07).
      material_head: a second output beside the value, from the same features: the game's
        final material balance for the side to move, tanh(pawns / 10) (``apply_with_material``;
        the value itself still learns the result). Shogi knowledge: a knowledge aid.
      dtype: compute dtype, "float32" or "bfloat16" (parameters stay float32).
    """

    num_blocks: int = field(2, lo=0, doc="residual blocks after the stem")
    channels: int = field(32, lo=1, doc="width of the tower")
    se_ratio: float = field(0.0, lo=0.0, hi=1.0, doc="squeeze-excitation bottleneck; 0: no SE")
    policy_head: str = field("dense", choices=("dense", "local"), doc="policy head")
    action_prior: bool = field(False, doc="add the learned per-action prior to the logits")
    policy_channels: int = field(4, lo=1, absent=2,
                                 doc="channels of the dense policy head's 1x1 conv")
    value_channels: int = field(32, lo=1, absent=2, doc="channels of the value head's 1x1 conv")
    heads: str = field("pooled", choices=("pooled", "keisei"), absent="keisei",
                       doc="pooled: value pooled over the board, no norm over head channels; "
                           "keisei: the pre-2026-12 heads (LayerNorm over 2 channels)")
    hand_planes: str = field("per_kind", choices=("per_kind", "per_18"), absent="per_18",
                             doc="hand planes as observed (count / full set) or count / 18 "
                                 "(checkpoints from before the per-kind scaling)")
    material_prior: bool = field(False, doc="add a learned multiple of the material balance "
                                 "to the value before its tanh")
    threat_prior: bool = field(False, doc="add learned multiples of each side's best capture "
                               "gain to the value before its tanh")
    king_safety_prior: bool = field(False, doc="add learned multiples of each king's exposure "
                                    "(shogi.king_safety) to the value before its tanh")
    attack_planes: bool = field(False, doc="append each side's attack counts per square to the "
                                "input (models/attack_planes.py)")
    value_hidden: int = field(64, lo=0, absent=0,
                              doc="hidden units of the value head; 0: linear head")
    value_trunk_grad: float = field(1.0, lo=0.0, hi=1.0,
                                    doc="share of the value's gradient that reaches the tower "
                                        "(0: the value head reads it through a stop-gradient)")
    material_head: bool = field(
        False, doc="a second output of the value head predicting the game's final material "
        "balance (an auxiliary target, az.replay; read with models.apply_with_material)")
    dtype: str = field("float32", choices=("float32", "bfloat16"), doc="compute dtype")


PRESETS: dict[str, ModelConfig] = {
    # CPU default: small enough that 2 cores play and learn thousands of steps per second.
    # The action prior is what makes it learn in minutes; the local head made it stronger per
    # CPU-minute than Keisei's dense head (docs/results.md, 2026-11-24).
    "small": ModelConfig(num_blocks=2, channels=32, se_ratio=0.0, policy_head="local",
                         action_prior=True),
    # Keisei's PyTorch reference tower (depth 4 x width 64, no SE): used by the benchmark.
    "keisei_ref": ModelConfig(num_blocks=4, channels=64, se_ratio=0.0),
    # Keisei's accelerator tower.
    "keisei": ModelConfig(num_blocks=9, channels=256, se_ratio=0.25),
    # Tests.
    "tiny": ModelConfig(num_blocks=1, channels=8, se_ratio=0.25, policy_head="local",
                        value_channels=8, value_hidden=16),
}


def _dtype(name: str) -> Any:
    return {"float32": jnp.float32, "bfloat16": jnp.bfloat16}[name]


class SqueezeExcitation(nn.Module):
    """Channel gating from the board-wide mean of each channel."""

    ratio: float
    dtype: Any

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = x.shape[-1]
        s = x.mean(axis=(-3, -2))
        s = nn.relu(nn.Dense(max(1, int(c * self.ratio)), dtype=self.dtype)(s))
        s = nn.sigmoid(nn.Dense(c, dtype=self.dtype)(s))
        return x * s[..., None, None, :]


class ResidualBlock(nn.Module):
    """conv-norm-ReLU-conv-norm (-SE) + skip, ReLU."""

    channels: int
    se_ratio: float
    dtype: Any

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = Conv3x3(self.channels, self.dtype)(x)
        y = nn.relu(nn.LayerNorm(dtype=self.dtype)(y))
        y = Conv3x3(self.channels, self.dtype)(y)
        y = nn.LayerNorm(dtype=self.dtype)(y)
        if self.se_ratio > 0:
            y = SqueezeExcitation(self.se_ratio, self.dtype)(y)
        return nn.relu(x + y)


class LocalPolicyHead(nn.Module):
    """Logits from each square's own features, with weights of its own per square.

    Keisei's action order is square-major: board moves are ``from * 160 + dest_off * 2 +
    promote`` and drops ``12960 + to * 7 + slot``. So the 160 logits of the moves from square
    ``s`` and the 7 drops onto ``s`` are read off the tower's features at ``s`` through a
    [C, 167] matrix belonging to ``s``. Compared with the dense head (1x1 conv to 2 channels,
    flatten, dense 162 -> 13,527) every logit sees the full channel width of the square it
    concerns instead of a 162-number summary of the board, at a fifth of the arithmetic.
    """

    dtype: Any

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b, c = x.shape[0], x.shape[-1]
        per_square = 160 + 7
        kernel = self.param("kernel", nn.initializers.lecun_normal(batch_axis=(0,)),
                            (81, c, per_square))
        bias = self.param("bias", nn.initializers.zeros, (81, per_square))
        x = x.reshape(b, 81, c).astype(self.dtype)
        out = jnp.einsum("bsc,sck->bsk", x, kernel.astype(self.dtype)) + bias.astype(self.dtype)
        return jnp.concatenate(
            [out[:, :, :160].reshape(b, -1), out[:, :, 160:].reshape(b, -1)], axis=-1
        )


def _scale_gradient(x: jax.Array, scale: float) -> jax.Array:
    """``x`` forward; ``scale`` times its gradient backward (0: a stop-gradient)."""
    if scale == 1.0:
        return x
    frozen = jax.lax.stop_gradient(x)
    return frozen if scale == 0.0 else frozen + scale * (x - frozen)


class ActorCriticResTower(nn.Module):
    """Policy logits and value of positions, from the side to move's point of view.

    Input float32[B, 9, 9, 46] (``shogi.observe(state)``). Returns ``(logits, value)``:
    logits float32[B, 13527] (unmasked; see ``masked_log_softmax``), value float32[B] in [-1, 1].
    """

    config: ModelConfig

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        cfg = self.config
        dtype = _dtype(cfg.dtype)
        x = obs
        if cfg.hand_planes == "per_18":  # what the network was trained on: count / 18
            scale = np.ones(NUM_PLANES, np.float32)
            scale[28:42] = np.tile(HAND_MAX, 2) / 18.0
            x = x * jnp.asarray(scale)
        x = x.astype(dtype)
        if cfg.attack_planes:
            x = jnp.concatenate([x, attack_planes(obs).astype(dtype)], axis=-1)
        x = Conv3x3(cfg.channels, dtype)(x)
        x = nn.relu(nn.LayerNorm(dtype=dtype)(x))
        for _ in range(cfg.num_blocks):
            x = ResidualBlock(cfg.channels, cfg.se_ratio, dtype)(x)

        if cfg.policy_head == "local":
            logits = LocalPolicyHead(dtype)(x)
        else:
            p = nn.Dense(cfg.policy_channels, dtype=dtype)(x)
            if cfg.heads == "keisei":
                p = nn.LayerNorm(dtype=dtype)(p)
            logits = nn.Dense(NUM_ACTIONS, dtype=dtype)(nn.relu(p).reshape(p.shape[0], -1))
        if cfg.action_prior:
            logits = logits.astype(jnp.float32) + ActionPrior()(obs)

        v = nn.Dense(cfg.value_channels, dtype=dtype)(_scale_gradient(x, cfg.value_trunk_grad))
        if cfg.heads == "keisei":
            v = nn.relu(nn.LayerNorm(dtype=dtype)(v)).reshape(v.shape[0], -1)
        else:  # [B, 2 * value_channels]: what each channel sees on average and at its peak
            v = nn.relu(v)
            v = jnp.concatenate([v.mean(axis=(1, 2)), v.max(axis=(1, 2))], axis=-1)
        if cfg.value_hidden:
            v = nn.relu(nn.Dense(cfg.value_hidden, dtype=dtype)(v))
        value = nn.Dense(1, dtype=dtype)(v)[:, 0].astype(jnp.float32)
        if cfg.material_head:  # an auxiliary output: returned only to a caller that asks
            material = nn.Dense(1, dtype=dtype, name="material_head")(v)[:, 0]
            self.sow("intermediates", "material", nn.tanh(material.astype(jnp.float32)))
        if cfg.material_prior:
            value = value + MaterialPrior()(obs)
        if cfg.threat_prior:
            value = value + ThreatPrior()(obs)
        if cfg.king_safety_prior:
            value = value + KingSafetyPrior()(obs)
        value = nn.tanh(value)
        return logits.astype(jnp.float32), value.astype(jnp.float32)


def make_model(config: ModelConfig) -> ActorCriticResTower:
    return ActorCriticResTower(config)


# One compiled program: run eagerly, flax's init compiles every initialiser and every op of the
# forward pass as a program of its own (9.5 s against 3.0 s for the `small` tower with the
# priors, a fresh process beside a training run), the same parameters either way.
@functools.partial(jax.jit, static_argnums=0)
def init_params(model: ActorCriticResTower, key: jax.Array) -> Any:
    return model.init(key, jnp.zeros((1, 9, 9, NUM_PLANES), jnp.float32))["params"]
