"""Every named config builds exactly the values pinned in ``named_configs.json`` (written from the
configs as they stood before they were rebuilt on ``default.get_config()``, in that day's format:
``check_shaping`` for ``check_bonus_pawns``, no ``parallel``)."""

import dataclasses
import json
from pathlib import Path

import pytest

from keisei_jax.config import ParallelConfig, TrainConfig, from_dict

GOLDEN = json.loads((Path(__file__).parent / "named_configs.json").read_text())
# Fields added after the file was written, with the value every older config has.
ADDED_SINCE = {"algo": "ppo", "search_simulations": 16, "search_considered_actions": 16,
               "eval_simulations": 0,
               "search_gumbel_scale": 1.0, "search_mate_candidates": 8}
MODEL_ADDED_SINCE = {"material_prior": False, "threat_prior": False, "king_safety_prior": False,
                     "attack_planes": False,
                     "value_hidden": 0}


def _configs():
    from experiments import configs

    return configs


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_named_config_values_are_pinned(name):
    expected = dict(GOLDEN[name])
    expected["check_bonus_pawns"] = expected.pop("check_shaping")
    expected["parallel"] = dataclasses.asdict(ParallelConfig())
    for key, value in ADDED_SINCE.items():  # fields added after the file was written
        expected.setdefault(key, value)
    expected["model"] = {**MODEL_ADDED_SINCE, **expected["model"]}
    assert _configs().get(name).to_dict() == expected
    # The pinned dict is a config saved before the rename and before ``parallel``: it loads.
    assert from_dict(GOLDEN[name]) == _configs().get(name)


def test_every_named_config_is_pinned():
    assert sorted(GOLDEN) == _configs().names()


def test_the_dataclass_defaults_are_the_default_config():
    assert TrainConfig() == _configs().get("default")
