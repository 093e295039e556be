"""Config validation and the command line's errors."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from keisei_jax.config import (
    ConfigError,
    ParallelConfig,
    TrainConfig,
    apply_overrides,
    from_dict,
    validate,
)
from keisei_jax.models import PRESETS, ModelConfig

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_named_configs_are_valid():
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
        ({"seed": str(2**64)}, "'seed': expected an integer >= 0 <= 9223372036854775807"),
        ({"seed": "-1"}, "'seed': expected an integer >= 0"),
        ({"parallel.segment_timeout": "1e10"}, "'parallel.segment_timeout': expected a number > "
         "0.0 <= 86400.0"),
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


# What a config saved before the heads were fixed stands for: Keisei's heads, hands / 18.
LEGACY = {"heads": "keisei", "hand_planes": "per_18", "value_channels": 2, "policy_channels": 2,
          "value_hidden": 0}


def test_from_dict_reads_configs_saved_with_flat_model_fields():
    saved = {**dataclasses.asdict(TrainConfig()), "channels": 16, "compute_dtype": "bfloat16"}
    del saved["model"]
    # a config that old has Keisei's heads and hands / 18 (what its network trained with)
    assert from_dict(saved).model == ModelConfig(channels=16, dtype="bfloat16", **LEGACY)


def test_from_dict_round_trip_and_unknown_keys():
    cfg = TrainConfig(lr=1e-3, model=PRESETS["small"])
    assert from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown config keys"):
        from_dict({**dataclasses.asdict(cfg), "bogus": 1})


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lrr", "3"], "unknown config key --lrr: did you mean --lr?"),
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


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"lr": "inf"}, "lr"), ({"lr": "nan"}, "lr"), ({"gamma": "nan"}, "gamma"),
        ({"target_kl": "inf"}, "target_kl"), ({"entropy_coef": "-inf"}, "entropy_coef"),
        ({"check_bonus_pawns": "1e999"}, "check_bonus_pawns"),
        ({"parallel.start_timeout": "inf"}, "parallel.start_timeout"),
    ],
)
def test_non_finite_numbers_are_rejected(overrides, field):
    with pytest.raises(ConfigError, match=f"for '{field}': expected a finite number"):
        apply_overrides(TrainConfig(), overrides)


def test_non_finite_numbers_are_rejected_in_saved_and_built_configs():
    with pytest.raises(ConfigError, match="'gae_lambda': expected a finite number"):
        validate(TrainConfig(gae_lambda=float("nan")))
    with pytest.raises(ConfigError, match="'lr': expected a finite number"):
        from_dict({**TrainConfig().to_dict(), "lr": float("inf")})
    with pytest.raises(ConfigError, match="'value_coef': expected a finite number"):
        validate(TrainConfig(value_coef=10**400))  # an int no float can hold


def test_every_field_declares_its_metadata_beside_it():
    from keisei_jax.checkpoints import RESUMABLE_CHANGES
    from keisei_jax.config import FIELDS, RESUMABLE, describe

    assert all(f.metadata["doc"] for f in FIELDS.values())
    assert describe("lr") == "a number > 0.0"
    assert describe("model.dtype") == "one of ['float32', 'bfloat16']"
    # The driver's schedule (as the table in checkpoints.py listed it) and the parallel layout.
    assert RESUMABLE_CHANGES == RESUMABLE == {
        "total_iterations", "eval_every", "eval_games", "eval_max_plies", "eval_greedy",
        "eval_ladder_games", "checkpoint_every", "keep_checkpoints", "tensorboard",
        "eval_simulations", "lr_decay_iterations", "lr_final_frac",
    } | {n for n in FIELDS if n.startswith("parallel.")}


def test_parallel_is_part_of_the_config():
    cfg = apply_overrides(TrainConfig(), {"parallel.enabled": "true", "parallel.num_workers": "4"})
    assert cfg.parallel == ParallelConfig(enabled=True, num_workers=4)
    assert cfg.to_dict()["parallel"]["num_workers"] == 4
    assert from_dict(cfg.to_dict()) == cfg
    # An enabled layout must make the sequential batch (64 lanes x 32 steps).
    with pytest.raises(ConfigError, match="bad parallel layout: num_workers 3"):
        apply_overrides(cfg, {"parallel.num_workers": "3"})
    # Disabled, the layout is not used and not checked.
    assert apply_overrides(TrainConfig(), {"parallel.num_workers": "3"}).parallel.num_workers == 3
    with pytest.raises(ConfigError, match="'parallel.num_workers': expected an integer >= 1"):
        apply_overrides(TrainConfig(), {"parallel.num_workers": "0"})


def test_configs_saved_before_parallel_and_the_check_bonus_rename_load():
    saved = TrainConfig().to_dict()
    del saved["parallel"]
    saved["check_shaping"] = saved.pop("check_bonus_pawns")
    saved["check_shaping"] = 1.5
    cfg = from_dict(saved)
    assert cfg.parallel == ParallelConfig() and cfg.check_bonus_pawns == 1.5
    # Missing keys stand for what the runs saved before the field existed did: no check bonus,
    # no ladder games, ModelConfig's defaults for the flat model fields.
    del saved["check_shaping"], saved["eval_ladder_games"], saved["model"]
    old = from_dict(saved)
    assert (old.check_bonus_pawns, old.eval_ladder_games, old.model) == (
        0.0, 0, ModelConfig(**LEGACY))
    with pytest.raises(ConfigError, match="'check_bonus_pawns' given twice"):
        from_dict({"check_shaping": 1.0, "check_bonus_pawns": 1.0})


def test_resume_check_lets_the_parallel_layout_change_but_not_the_training():
    from keisei_jax.checkpoints import CheckpointError, check_compatible

    saved = TrainConfig()
    check_compatible(saved, apply_overrides(saved, {
        "parallel.enabled": "true", "parallel.num_workers": "4", "parallel.segment_timeout": "5",
        "total_iterations": "100"}))
    with pytest.raises(CheckpointError, match="check_bonus_pawns: checkpoint 2.0 != now 1.0"):
        check_compatible(saved, apply_overrides(saved, {"check_bonus_pawns": "1"}))


def test_from_dict_rejects_malformed_input_with_config_errors():
    with pytest.raises(ConfigError, match="expected a mapping of field names"):
        from_dict([1, 2])
    with pytest.raises(ConfigError, match="bad value 3 for 'model': expected a mapping"):
        from_dict({"model": 3})
    with pytest.raises(ConfigError, match="bad config key 1"):
        from_dict({1: 2})
    with pytest.raises(ConfigError, match="bad value 'x' for 'num_envs'"):
        from_dict({"num_envs": "x"})


def _train_py():
    from experiments import train

    return train


def test_parallel_flags_go_through_the_config_fields():
    train = _train_py()
    _, overrides = train.parse_args(["--workdir", "w", "--parallel", "--parallel.num_workers", "4",
                                     "--model.channels", "16"])
    assert overrides == {"parallel.enabled": "true", "parallel.num_workers": "4",
                         "model.channels": "16"}
    _, overrides = train.parse_args(["--workdir", "w", "--parallel.enabled", "false"])
    assert overrides == {"parallel.enabled": "false"}


def test_help_shows_each_fields_doc_range_and_default(capsys):
    with pytest.raises(SystemExit):
        _train_py().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--lr FLOAT Adam's peak learning rate (a number > 0.0; default 0.001)" in text
    assert ("--lr_schedule STR decay of the learning rate over lr_decay_iterations (one of "
            "['constant', 'linear', 'cosine']; default 'linear')") in text
    assert ("--parallel.num_workers INT self-play worker processes (an integer >= 1; default 2; "
            "may change on resume)") in text
    assert "--model.channels INT width of the tower (an integer >= 1; default 32)" in text
