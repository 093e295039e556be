"""Training configuration: one frozen dataclass, validated field by field.

``TrainConfig()`` is the default config (``experiments/configs/default.py``); the other configs in
``experiments/configs/`` replace some of its fields, and ``experiments/train.py`` sets any field
from the command line through ``apply_overrides``. Each field declares its range or choices,
whether it may change on resume and a one-line doc beside it (``config_field.field``); validation,
the flags' help and the checkpoints' resume check read them from ``FIELDS``. An unknown key or a
bad value raises ``ConfigError`` naming the field and what it accepts.

One module per idea: ``schema`` (the dataclasses, ``FIELDS``, the knowledge aids, derived
quantities), ``validation``, ``overrides`` (fields set from text: the command line) and
``stored`` (configs read back from a run, earlier versions' included).
"""

from keisei_jax.config.overrides import SYNONYMS, apply_overrides, closest_field, parse_value
from keisei_jax.config.schema import (
    FIELDS,
    KNOWLEDGE_AIDS,
    MAX_WAIT_S,
    NESTED,
    RESUMABLE,
    ConfigError,
    ParallelConfig,
    TrainConfig,
    field_value,
    knowledge_aids,
    replace_fields,
    replay_per_lane,
    replay_samples,
    updates_per_iteration,
    without_knowledge_aids,
)
from keisei_jax.config.stored import from_dict
from keisei_jax.config.validation import check_value, describe, parallel_layout, validate

__all__ = ["FIELDS", "KNOWLEDGE_AIDS", "MAX_WAIT_S", "NESTED", "RESUMABLE", "SYNONYMS",
           "ConfigError", "ParallelConfig", "TrainConfig", "apply_overrides", "check_value",
           "closest_field", "describe", "field_value", "from_dict", "knowledge_aids",
           "parallel_layout", "parse_value", "replace_fields", "replay_per_lane",
           "replay_samples", "updates_per_iteration", "validate", "without_knowledge_aids"]
