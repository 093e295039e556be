"""Training configuration: one frozen dataclass, validated field by field.

Config files in ``experiments/configs/`` build a ``TrainConfig``; ``experiments/train.py`` sets any
field from the command line through ``apply_overrides``. An unknown key or a bad value raises
``ConfigError`` naming the field and what it accepts.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from keisei_jax.models import PRESETS, ModelConfig


class ConfigError(ValueError):
    """An unknown config key or a value outside what the field accepts."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. Units: iterations unless a name says otherwise.

    One iteration = ``rollout_len`` batched env steps on ``num_envs`` self-play lanes, then
    ``num_epochs`` passes of shuffled minibatches of ``minibatch_size`` transitions.
    """

    seed: int = 0
    # "ppo": clipped PPO on raw self-play; "gumbel_az": Gumbel AlphaZero, every self-play move
    # chosen by a search whose improved policy and returns are the training targets.
    algo: str = "ppo"
    # The network's shape and compute dtype; ``with_model`` swaps in a named preset.
    model: ModelConfig = ModelConfig()
    # Self-play.
    num_envs: int = 64
    rollout_len: int = 32
    max_plies: int = 512
    # PPO.
    num_epochs: int = 4
    minibatch_size: int = 512
    lr: float = 3e-4
    lr_schedule: str = "linear"
    adam_eps: float = 1e-5
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    value_clip_eps: float = 0.0
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5
    target_kl: float = 0.0
    # Search (gumbel_az self-play): simulations per move, actions Sequential Halving considers at
    # the root, Gumbel noise scale (1 samples the root's candidates, 0 is deterministic).
    search_simulations: int = 16
    search_considered_actions: int = 16
    search_gumbel_scale: float = 1.0
    # Reward shaping (training only): (material gain + check_shaping if the move gives check), in
    # pawns, x material_shaping, annealed to 0 over shaping_anneal_frac of the run.
    material_shaping: float = 0.0
    check_shaping: float = 0.0
    shaping_anneal_frac: float = 0.0
    # Curriculum (training only): this fraction of the lanes plays a uniform-random opponent.
    random_opponent_lanes: float = 0.0
    # Schedule of the driver.
    total_iterations: int = 100
    iterations_per_call: int = 10
    eval_every: int = 50
    eval_games: int = 200
    eval_max_plies: int = 512
    # The learner plays its most probable move in evaluations, else samples from its policy.
    eval_greedy: bool = True
    # Games against the greedy baseline and against the parameters of the previous evaluation
    # at each evaluation (``eval/greedy/*``, ``eval/earlier/*``); 0 turns them off.
    eval_ladder_games: int = 0
    checkpoint_every: int = 50
    keep_checkpoints: int = 3
    tensorboard: bool = True

    @property
    def steps_per_iteration(self) -> int:
        return self.num_envs * self.rollout_len

    def with_model(self, preset: str) -> TrainConfig:
        """This config with the tower of ``models.PRESETS[preset]``, keeping the compute dtype."""
        if preset not in PRESETS:
            raise ConfigError(f"unknown model preset {preset!r}; allowed: {sorted(PRESETS)}")
        return dataclasses.replace(
            self, model=dataclasses.replace(PRESETS[preset], dtype=self.model.dtype))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_CHOICES = {
    "model.dtype": ("float32", "bfloat16"),
    "model.policy_head": ("dense", "local"),
    "lr_schedule": ("constant", "linear", "cosine"),
    "algo": ("ppo", "gumbel_az"),
}
# field -> (lowest, highest, lowest inclusive); None is unbounded.
_RANGES = {
    "model.num_blocks": (0, None, True), "model.channels": (1, None, True),
    "model.se_ratio": (0.0, 1.0, True), "model.policy_channels": (1, None, True),
    "model.value_channels": (1, None, True),
    "num_envs": (1, None, True), "rollout_len": (1, None, True), "max_plies": (1, None, True),
    "num_epochs": (1, None, True), "minibatch_size": (1, None, True), "lr": (0.0, None, False),
    "adam_eps": (0.0, None, False), "gamma": (0.0, 1.0, True), "gae_lambda": (0.0, 1.0, True),
    "clip_eps": (0.0, None, False), "value_clip_eps": (0.0, None, True),
    "value_coef": (0.0, None, True), "entropy_coef": (0.0, None, True),
    "max_grad_norm": (0.0, None, False), "target_kl": (0.0, None, True),
    "material_shaping": (0.0, None, True),
    "check_shaping": (0.0, None, True), "shaping_anneal_frac": (0.0, 1.0, True),
    "random_opponent_lanes": (0.0, 1.0, True),
    "total_iterations": (1, None, True), "iterations_per_call": (1, None, True),
    "eval_every": (0, None, True), "eval_games": (2, None, True),
    "eval_max_plies": (1, None, True), "checkpoint_every": (0, None, True),
    "eval_ladder_games": (0, None, True),
    "keep_checkpoints": (1, None, True),
    "search_simulations": (1, None, True), "search_considered_actions": (1, None, True),
    "search_gumbel_scale": (0.0, None, True),
}


def _leaves(cls: type, prefix: str = "") -> dict[str, dataclasses.Field]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.name == "model":
            out.update(_leaves(ModelConfig, "model."))
        else:
            out[prefix + f.name] = f
    return out


# Every settable field by its dotted name ("lr", "model.channels"): the command line's flags,
# the keys of overrides, and what validation and checkpoint compatibility walk over.
FIELDS: dict[str, dataclasses.Field] = _leaves(TrainConfig)


def field_value(config: TrainConfig, name: str) -> Any:
    """The value of the dotted field ``name`` of ``config``."""
    for part in name.split("."):
        config = getattr(config, part)
    return config


def _replace(config: TrainConfig, values: dict[str, Any]) -> TrainConfig:
    model = {k.removeprefix("model."): v for k, v in values.items() if k.startswith("model.")}
    top = {k: v for k, v in values.items() if not k.startswith("model.")}
    if model:
        top["model"] = dataclasses.replace(config.model, **model)
    return dataclasses.replace(config, **top)


def _describe(name: str) -> str:
    if name in _CHOICES:
        return f"one of {list(_CHOICES[name])}"
    ftype = FIELDS[name].type
    lo, hi, inclusive = _RANGES.get(name, (None, None, True))
    parts = [{"int": "an integer", "float": "a number", "bool": "true or false"}.get(ftype, ftype)]
    if lo is not None:
        parts.append(f"{'>=' if inclusive else '>'} {lo}")
    if hi is not None:
        parts.append(f"<= {hi}")
    return " ".join(parts)


def validate(config: TrainConfig) -> TrainConfig:
    """Check every field and the relations between them; returns ``config`` or raises."""
    for name, field in FIELDS.items():
        value = field_value(config, name)
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
        }[field.type]
        if ok and name in _CHOICES:
            ok = value in _CHOICES[name]
        if ok and name in _RANGES:
            lo, hi, inclusive = _RANGES[name]
            ok = (lo is None or (value >= lo if inclusive else value > lo)) and (
                hi is None or value <= hi
            )
        if not ok:
            raise ConfigError(f"bad value {value!r} for {name!r}: expected {_describe(name)}")
    if config.steps_per_iteration % config.minibatch_size:
        raise ConfigError(
            f"bad value {config.minibatch_size!r} for 'minibatch_size': expected a divisor of "
            f"num_envs * rollout_len = {config.steps_per_iteration}"
        )
    if config.algo == "gumbel_az":
        for name in ("random_opponent_lanes", "target_kl"):
            if getattr(config, name):
                raise ConfigError(
                    f"bad value {getattr(config, name)!r} for {name!r}: applies to algo 'ppo' "
                    "only; expected 0 with algo 'gumbel_az'"
                )
    for name in ("eval_games", "eval_ladder_games"):
        if getattr(config, name) % 2:
            raise ConfigError(
                f"bad value {getattr(config, name)!r} for {name!r}: expected an even number "
                "(half the games with each colour)"
            )
    for name in ("eval_every", "checkpoint_every", "total_iterations"):
        value = getattr(config, name)
        if value % config.iterations_per_call:
            raise ConfigError(
                f"bad value {value!r} for {name!r}: expected a multiple of iterations_per_call "
                f"= {config.iterations_per_call} (the driver acts between compiled calls)"
            )
    return config


def parse_value(name: str, text: str) -> Any:
    """Parse ``text`` for field ``name``; raises ``ConfigError`` for unknown keys or bad text."""
    if name not in FIELDS:
        close = difflib.get_close_matches(name, FIELDS, n=3)
        hint = f"; did you mean {close}?" if close else ""
        raise ConfigError(f"unknown config key {name!r}{hint} (known keys: {sorted(FIELDS)})")
    ftype = FIELDS[name].type
    try:
        if ftype == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "1", "yes")
        if ftype == "int":
            return int(text)
        if ftype == "float":
            return float(text)
        return text
    except ValueError:
        raise ConfigError(
            f"bad value {text!r} for {name!r}: expected {_describe(name)}"
        ) from None


def apply_overrides(config: TrainConfig, overrides: dict[str, str]) -> TrainConfig:
    """``config`` with fields replaced from ``{dotted name: text}``, validated.

    The key ``"model"`` names a preset (``with_model``); ``"model.*"`` keys then change it.
    """
    overrides = dict(overrides)
    if "model" in overrides:
        config = config.with_model(overrides.pop("model"))
    values = {name: parse_value(name, text) for name, text in overrides.items()}
    return validate(_replace(config, values))


# Flat model keys of configs saved before the model became a nested ``ModelConfig``.
_LEGACY_MODEL_KEYS = {
    "num_blocks": "model.num_blocks", "channels": "model.channels", "se_ratio": "model.se_ratio",
    "policy_head": "model.policy_head", "action_prior": "model.action_prior",
    "policy_channels": "model.policy_channels", "value_channels": "model.value_channels",
    "compute_dtype": "model.dtype",
}


def from_dict(values: dict[str, Any]) -> TrainConfig:
    """Rebuild a config saved with ``to_dict``; unknown keys raise ``ConfigError``."""
    flat = {k: v for k, v in values.items() if k != "model"}
    flat = {_LEGACY_MODEL_KEYS.get(k, k): v for k, v in flat.items()}
    flat.update({f"model.{k}": v for k, v in values.get("model", {}).items()})
    unknown = sorted(set(flat) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown config keys {unknown}; known keys: {sorted(FIELDS)}")
    return validate(_replace(TrainConfig(), flat))
