"""Validation of a ``TrainConfig``: each field against what it declares, then the relations
between fields. A bad value raises ``ConfigError`` naming the field and what it accepts."""

from __future__ import annotations

import math
from typing import Any

from keisei_jax.config.schema import (
    FIELDS,
    NESTED,
    ConfigError,
    ParallelConfig,
    TrainConfig,
    field_value,
)


def describe(name: str) -> str:
    """What field ``name`` accepts, in words ("a number > 0.0", "one of [...]")."""
    meta = FIELDS[name].metadata
    if meta["choices"] is not None:
        return f"one of {list(meta['choices'])}"
    ftype = FIELDS[name].type
    parts = [{"int": "an integer", "float": "a number", "bool": "true or false"}.get(ftype, ftype)]
    if meta["lo"] is not None:
        parts.append(f"{'>' if meta['lo_open'] else '>='} {meta['lo']}")
    if meta["hi"] is not None:
        parts.append(f"<= {meta['hi']}")
    return " ".join(parts)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def check_value(name: str, value: Any) -> None:
    """Raise ``ConfigError`` unless ``value`` has the type, range and choices of field ``name``."""
    field_ = FIELDS[name]
    meta = field_.metadata
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
    }[field_.type]
    if ok and field_.type == "float" and not _finite(value):
        raise ConfigError(f"bad value {value!r} for {name!r}: expected a finite number "
                          f"({describe(name)})")
    if ok and meta["choices"] is not None:
        ok = value in meta["choices"]
    if ok and meta["lo"] is not None:
        ok = value > meta["lo"] if meta["lo_open"] else value >= meta["lo"]
    if ok and meta["hi"] is not None:
        ok = value <= meta["hi"]
    if not ok:
        raise ConfigError(f"bad value {value!r} for {name!r}: expected {describe(name)}")


def parallel_layout(parallel: ParallelConfig, config: TrainConfig) -> tuple[int, int]:
    """``(lanes_per_worker, segment_length)`` of ``parallel`` for ``config``, derived where 0;
    raises ``ConfigError`` unless the workers' segments make the sequential path's batch."""
    p = parallel
    lanes = p.lanes_per_worker or config.num_envs // p.num_workers
    length = p.segment_length or config.rollout_len
    if lanes < 1 or p.num_workers * lanes * length != config.steps_per_iteration:
        raise ConfigError(
            f"bad parallel layout: num_workers {p.num_workers} x lanes_per_worker {lanes} x "
            f"segment_length {length} = {p.num_workers * lanes * length} steps per iteration, "
            f"expected num_envs * rollout_len = {config.steps_per_iteration} (the same batch as "
            "the sequential path)"
        )
    return lanes, length


# The gumbel_az fields a PPO config leaves at their defaults.
_AZ_ONLY = ("search_full_fraction", "selfplay_sampled_plies", "value_target", "value_search_blend",
            "value_blend_with", "replay_size", "material_head_coef")


def _validate_replay(config: TrainConfig) -> None:
    if config.algo != "gumbel_az":
        defaults = TrainConfig()
        for name in _AZ_ONLY:
            if getattr(config, name) != getattr(defaults, name):
                raise ConfigError(
                    f"bad value {getattr(config, name)!r} for {name!r}: applies to algo "
                    f"'gumbel_az' only; expected {getattr(defaults, name)!r} with algo "
                    f"{config.algo!r}")
        return
    if config.model.material_head != (config.material_head_coef > 0):
        raise ConfigError(
            f"bad value {config.material_head_coef!r} for 'material_head_coef' with "
            f"model.material_head {config.model.material_head}: the material head learns only "
            "with material_head_coef > 0, and a coefficient needs the head; set both or neither")
    if config.material_head_coef and config.value_target != "result":
        raise ConfigError(
            f"bad value {config.value_target!r} for 'value_target': material_head_coef > 0 "
            "needs 'result' (the final material is known when the game's result is)")
    if config.value_blend_with != "search_value" and config.value_target != "result":
        raise ConfigError(
            f"bad value {config.value_blend_with!r} for 'value_blend_with': it says what a "
            f"'result' value target blends z with, and value_target is {config.value_target!r}")
    if config.value_target == "result" and not config.replay_size:
        raise ConfigError("bad value 0 for 'replay_size': value_target 'result' needs a replay "
                          "buffer (a position waits there for its game's result)")
    if not config.replay_size:
        return
    if config.replay_size % config.steps_per_iteration:
        raise ConfigError(
            f"bad value {config.replay_size!r} for 'replay_size': expected a multiple of "
            f"num_envs * rollout_len = {config.steps_per_iteration} (whole iterations)")
    if config.num_epochs != 1:
        raise ConfigError(
            f"bad value {config.num_epochs!r} for 'num_epochs': with a replay buffer expected 1 "
            "(replay_reuse sets how often a position is learned)")


def validate(config: TrainConfig) -> TrainConfig:
    """Check every field and the relations between them; returns ``config`` or raises."""
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"bad config {config!r}: expected a TrainConfig")
    for name in NESTED:
        value = getattr(config, name)
        if type(value) is not type(NESTED[name].default):
            raise ConfigError(f"bad value {value!r} for {name!r}: expected a "
                              f"{type(NESTED[name].default).__name__}")
    for name in FIELDS:
        check_value(name, field_value(config, name))
    if config.steps_per_iteration % config.minibatch_size:
        raise ConfigError(
            f"bad value {config.minibatch_size!r} for 'minibatch_size': expected a divisor of "
            f"num_envs * rollout_len = {config.steps_per_iteration}"
        )
    _validate_replay(config)
    if config.algo == "gumbel_az":
        for name in ("random_opponent_lanes", "target_kl"):
            if getattr(config, name):
                raise ConfigError(
                    f"bad value {getattr(config, name)!r} for {name!r}: applies to algo 'ppo' "
                    "only; expected 0 with algo 'gumbel_az'"
                )
        if config.parallel.enabled:
            raise ConfigError(
                "bad value True for 'parallel.enabled': the CPU workers play PPO's raw-policy "
                "self-play; algo 'gumbel_az' runs without --parallel"
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
    if config.parallel.enabled:
        parallel_layout(config.parallel, config)
    return config
