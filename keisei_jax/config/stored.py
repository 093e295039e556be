"""Configs read back from a run's ``config.json``, including those earlier versions wrote
(legacy keys, fields that did not exist yet, no ``parallel``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from keisei_jax.config.schema import FIELDS, NESTED, ConfigError, TrainConfig, replace_fields
from keisei_jax.config.validation import validate

# Keys of configs saved by earlier versions -> their field now.
_LEGACY_KEYS = {
    # Flat model fields, from before the model became a nested ``ModelConfig``.
    "num_blocks": "model.num_blocks", "channels": "model.channels", "se_ratio": "model.se_ratio",
    "policy_head": "model.policy_head", "action_prior": "model.action_prior",
    "policy_channels": "model.policy_channels", "value_channels": "model.value_channels",
    "compute_dtype": "model.dtype",
    # The same bonus (in pawns, x material_shaping), under the name that hid its unit.
    "check_shaping": "check_bonus_pawns",
}


def _with_absent(config: Any) -> Any:
    """``config`` (a config dataclass) with each field that has an ``absent`` value (the value of
    the runs saved before the field existed) set to it, nested configs included."""
    values = {}
    for f in dataclasses.fields(config):
        value = f.metadata.get("absent", getattr(config, f.name))
        values[f.name] = _with_absent(value) if dataclasses.is_dataclass(value) else value
    return dataclasses.replace(config, **values)


def _absent_defaults() -> TrainConfig:
    """What the keys missing from a saved config stand for: each field's ``absent`` value where it
    has one (nested fields included), else its default."""
    return _with_absent(TrainConfig())


def from_dict(values: dict[str, Any]) -> TrainConfig:
    """Rebuild a config saved with ``to_dict`` (or by an earlier version: legacy keys, no
    ``parallel``); a key missing stands for its field's ``absent`` value. An unknown key, a
    key given twice or a bad value raises ``ConfigError``."""
    if not isinstance(values, dict):
        raise ConfigError(f"bad saved config {values!r}: expected a mapping of field names")
    flat: dict[str, Any] = {}

    def put(name: Any, value: Any) -> None:
        if not isinstance(name, str):
            raise ConfigError(f"bad config key {name!r}: expected a field name (a string)")
        name = _LEGACY_KEYS.get(name, name)
        if name in flat:
            raise ConfigError(f"config key {name!r} given twice (under its own and a legacy name)")
        flat[name] = value

    for name, value in values.items():
        if name in NESTED:
            if not isinstance(value, dict):
                raise ConfigError(f"bad value {value!r} for {name!r}: expected a mapping of its "
                                  "fields")
            for sub, sub_value in value.items():
                if not isinstance(sub, str):
                    raise ConfigError(f"bad config key {sub!r} in {name!r}: expected a string")
                put(f"{name}.{sub}", sub_value)
        else:
            put(name, value)
    unknown = sorted(set(flat) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown config keys {unknown}; known keys: {sorted(FIELDS)}")
    return validate(replace_fields(_absent_defaults(), flat))
