"""Fuzzing the config's inputs: command-line text (``apply_overrides``, ``parse_value``) and saved
dicts (``from_dict``) give a valid ``TrainConfig`` or a ``ConfigError``, never another exception.

A few hundred examples each in the normal suite; thousands in the ``slow`` variants.
"""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keisei_jax.config import (
    FIELDS,
    NESTED,
    ConfigError,
    TrainConfig,
    apply_overrides,
    from_dict,
    parse_value,
    validate,
)

FAST = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=3000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# Known names (and near misses) are drawn often, so the fuzz reaches validation, not only the
# unknown-key error.
KNOWN = st.sampled_from(sorted(FIELDS) + ["model", "parallel", "check_shaping", "channels"])
NAMES = st.one_of(KNOWN, st.text(max_size=20))
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["0", "1", "2", "-1", "64", "1e999", "-inf", "nan", "1_000", " 7 ", "١٢",
                     "0x10", "1e-3", "true", "False", "yes", "no", "local", "dense",
                     "bfloat16", "cosine", "tiny", "small", "keisei_ref", "9" * 5000]),
)
TEXT = st.one_of(NUMBERS, st.text(max_size=30))
OVERRIDES = st.one_of(st.dictionaries(KNOWN, TEXT, max_size=6),
                      st.dictionaries(NAMES, TEXT, max_size=6))

LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10), st.integers(-(10**400), 10**400),
)
JSONISH = st.recursive(LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
KEYS = st.one_of(NAMES, st.integers(), st.none())
SAVED_DICTS = st.one_of(
    # Arbitrary dicts.
    st.dictionaries(KEYS, JSONISH, max_size=6),
    # A valid saved config with some entries replaced or added (also inside model/parallel).
    st.builds(
        lambda extra, model, parallel: {
            **TrainConfig().to_dict(), **extra,
            **({"model": {**TrainConfig().to_dict()["model"], **model}} if model else {}),
            **({"parallel": {**TrainConfig().to_dict()["parallel"], **parallel}}
               if parallel else {}),
        },
        st.dictionaries(KNOWN, st.one_of(LEAF, JSONISH), max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(
            [n.removeprefix("model.") for n in FIELDS if n.startswith("model.")]),
            st.text(max_size=6)), LEAF, max_size=2),
        st.dictionaries(st.one_of(st.sampled_from(
            [n.removeprefix("parallel.") for n in FIELDS if n.startswith("parallel.")]),
            st.text(max_size=6)), LEAF, max_size=2),
    ),
    # A nested config that is not a mapping.
    st.builds(lambda name, value: {name: value}, st.sampled_from(sorted(NESTED)), JSONISH),
    JSONISH,
)


def _is_valid(config):
    assert isinstance(config, TrainConfig)
    assert validate(config) is config
    for name in FIELDS:
        value = config
        for part in name.split("."):
            value = getattr(value, part)
        if FIELDS[name].type == "float":
            assert math.isfinite(value), name


def check_overrides(overrides):
    try:
        config = apply_overrides(TrainConfig(), overrides)
    except ConfigError:
        return
    _is_valid(config)


def check_parse_value(name, text):
    try:
        value = parse_value(name, text)
    except ConfigError:
        return
    assert name in FIELDS
    assert isinstance(value, {"int": int, "float": float, "bool": bool, "str": str}[
        FIELDS[name].type])


def check_from_dict(values):
    try:
        config = from_dict(values)
    except ConfigError:
        return
    _is_valid(config)


@FAST
@given(OVERRIDES)
def test_apply_overrides_raises_only_config_errors(overrides):
    check_overrides(overrides)


@FAST
@given(NAMES, TEXT)
def test_parse_value_raises_only_config_errors(name, text):
    check_parse_value(name, text)


@FAST
@given(SAVED_DICTS)
def test_from_dict_raises_only_config_errors(values):
    check_from_dict(values)


@pytest.mark.slow
@SLOW
@given(OVERRIDES)
def test_apply_overrides_raises_only_config_errors_slow(overrides):
    check_overrides(overrides)


@pytest.mark.slow
@SLOW
@given(NAMES, TEXT)
def test_parse_value_raises_only_config_errors_slow(name, text):
    check_parse_value(name, text)


@pytest.mark.slow
@SLOW
@given(SAVED_DICTS)
def test_from_dict_raises_only_config_errors_slow(values):
    check_from_dict(values)
