"""Fields set from text (the command line's ``--field value`` flags): parsing, the names
other trainers use for a field, and the closest field to an unknown key."""

from __future__ import annotations

import difflib
from typing import Any

from keisei_jax.config.schema import FIELDS, ConfigError, TrainConfig, replace_fields
from keisei_jax.config.validation import describe, validate

# What other trainers call a field (PPO papers, SB3, CleanRL, Keisei): the field here.
SYNONYMS = {
    "learning_rate": "lr", "learningrate": "lr", "step_size": "lr",
    "batch_size": "minibatch_size", "mini_batch_size": "minibatch_size",
    "minibatch": "minibatch_size", "epochs": "num_epochs", "n_epochs": "num_epochs",
    "ppo_epochs": "num_epochs", "update_epochs": "num_epochs", "envs": "num_envs",
    "n_envs": "num_envs", "num_environments": "num_envs", "num_steps": "rollout_len",
    "n_steps": "rollout_len", "steps_per_env": "rollout_len", "rollout_length": "rollout_len",
    "horizon": "rollout_len", "iterations": "total_iterations",
    "num_iterations": "total_iterations", "updates": "total_iterations",
    "num_updates": "total_iterations", "clip": "clip_eps", "clip_range": "clip_eps",
    "clip_param": "clip_eps", "eps_clip": "clip_eps", "clip_coef": "clip_eps",
    "ent_coef": "entropy_coef", "entropy": "entropy_coef", "entropy_weight": "entropy_coef",
    "vf_coef": "value_coef", "value_loss_coef": "value_coef", "lambda": "gae_lambda",
    "lam": "gae_lambda", "discount": "gamma", "grad_clip": "max_grad_norm",
    "max_norm": "max_grad_norm", "clip_grad_norm": "max_grad_norm", "kl": "target_kl",
    "schedule": "lr_schedule", "blocks": "model.num_blocks", "num_layers": "model.num_blocks",
    "layers": "model.num_blocks", "filters": "model.channels", "workers": "parallel.num_workers",
    "simulations": "search_simulations", "num_simulations": "search_simulations",
    "eval_interval": "eval_every", "eval_freq": "eval_every", "save_every": "checkpoint_every",
    "save_interval": "checkpoint_every", "checkpoint_interval": "checkpoint_every",
    "max_moves": "max_plies", "max_length": "max_plies",
}


def closest_field(name: str) -> str | None:
    """The config field ``name`` most likely means (``"--learning_rate"`` -> ``"lr"``): the
    field itself, a synonym, a field with that last part (``channels`` -> ``model.channels``),
    else the closest spelling; None when nothing is close."""
    key = name.lstrip("-").replace("-", "_").lower()
    if key in FIELDS:
        return key
    if key in SYNONYMS:
        return SYNONYMS[key]
    by_last = {f.rpartition(".")[2]: f for f in FIELDS}
    if key in by_last:
        return by_last[key]
    close = difflib.get_close_matches(key, [*FIELDS, *by_last], n=1)
    return by_last.get(close[0], close[0]) if close else None


def _unknown_key(name: str) -> ConfigError:
    close = [closest_field(name)] if closest_field(name) else []
    hint = f"; did you mean {close}?" if close else ""
    return ConfigError(f"unknown config key {name!r}{hint} (known keys: {sorted(FIELDS)})")


def parse_value(name: str, text: str) -> Any:
    """Parse ``text`` for field ``name``; raises ``ConfigError`` for unknown keys or bad text."""
    if name not in FIELDS:
        raise _unknown_key(name)
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
            f"bad value {text!r} for {name!r}: expected {describe(name)}"
        ) from None


def apply_overrides(config: TrainConfig, overrides: dict[str, str]) -> TrainConfig:
    """``config`` with fields replaced from ``{dotted name: text}``, validated.

    The key ``"model"`` names a preset (``with_model``); ``"model.*"`` keys then change it.
    """
    overrides = dict(overrides)
    if "model" in overrides:
        config = config.with_model(overrides.pop("model"))
    values = {name: parse_value(name, text) for name, text in overrides.items()}
    return validate(replace_fields(config, values))
