"""Config validation and the command line's errors."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from keisei_jax.config import ConfigError, TrainConfig, apply_overrides, from_dict, validate
from keisei_jax.models import PRESETS, ModelConfig

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_named_configs_are_valid():
    sys.path.insert(0, str(ROOT))
    from experiments import configs

    assert {"default", "tiny", "keisei", "keisei_ref"} <= set(configs.names())
    for name in configs.names():
        validate(configs.get(name))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"learning_rate": "1"}, "unknown config key 'learning_rate'"),
        ({"lr": "fast"}, "bad value 'fast' for 'lr': expected a number"),
        ({"lr": "-1"}, "'lr': expected a number > 0.0"),
        ({"gamma": "1.5"}, "'gamma': expected a number >= 0.0 <= 1.0"),
        ({"lr_schedule": "step"}, "one of ['constant', 'linear', 'cosine']"),
        ({"eval_greedy": "maybe"}, "'eval_greedy': expected true or false"),
        ({"num_envs": "2.5"}, "'num_envs': expected an integer"),
        ({"minibatch_size": "7"}, "'minibatch_size': expected a divisor"),
        ({"eval_games": "3"}, "'eval_games': expected an even number"),
        ({"eval_every": "15"}, "'eval_every': expected a multiple of iterations_per_call"),
        ({"model.policy_head": "conv"}, "'model.policy_head': expected one of ['dense', 'local']"),
        ({"model.channels": "0"}, "'model.channels': expected an integer >= 1"),
        ({"channels": "8"}, "unknown config key 'channels'; did you mean ['model."),
        ({"model": "huge"}, "unknown model preset 'huge'"),
    ],
)
def test_bad_override_names_the_field(overrides, message):
    with pytest.raises(ConfigError) as err:
        apply_overrides(TrainConfig(), overrides)
    assert message in str(err.value)


def test_overrides_parse_types():
    cfg = apply_overrides(TrainConfig(), {"lr": "1e-3", "eval_greedy": "false", "seed": "7"})
    assert (cfg.lr, cfg.eval_greedy, cfg.seed) == (1e-3, False, 7)


def test_model_fields_and_presets_override():
    bf16 = TrainConfig(model=ModelConfig(dtype="bfloat16"))
    cfg = apply_overrides(bf16, {"model": "keisei_ref", "model.channels": "16"})
    assert cfg.model == dataclasses.replace(PRESETS["keisei_ref"], channels=16, dtype="bfloat16")
    assert apply_overrides(bf16, {"model.dtype": "float32"}).model == ModelConfig()


def test_from_dict_reads_configs_saved_with_flat_model_fields():
    saved = {**dataclasses.asdict(TrainConfig()), "channels": 16, "compute_dtype": "bfloat16"}
    del saved["model"]
    assert from_dict(saved).model == ModelConfig(channels=16, dtype="bfloat16")


def test_from_dict_round_trip_and_unknown_keys():
    cfg = TrainConfig(lr=1e-3, model=PRESETS["small"])
    assert from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown config keys"):
        from_dict({**dataclasses.asdict(cfg), "bogus": 1})


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lrr", "3"], "unknown config keys ['--lrr']"),
        (["--gamma", "3"], "bad value 3.0 for 'gamma'"),
        (["--config", "nope"], "unknown config 'nope'"),
        (["--model.se_ratio", "2"], "bad value 2.0 for 'model.se_ratio'"),
        (["--model", "huge"], "unknown model preset 'huge'"),
    ],
)
def test_command_line_rejects_bad_input(tmp_path, args, message):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "train.py"), "--workdir",
         str(tmp_path / "run"), *args],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert message in proc.stderr
    assert not (tmp_path / "run").exists()
