"""Every named config builds exactly the values pinned in ``named_configs.json`` (written from the
configs as they stood before they were rebuilt on ``default.get_config()``, in that day's format:
``check_shaping`` for ``check_bonus_pawns``, no ``parallel``)."""

import dataclasses
import json
from pathlib import Path

import pytest

from keisei_jax.config import (
    ParallelConfig,
    TrainConfig,
    from_dict,
    knowledge_aids,
    replay_per_lane,
    without_knowledge_aids,
)

GOLDEN = json.loads((Path(__file__).parent / "named_configs.json").read_text())
# Fields added after the file was written, with the value every older config has (the PPO
# configs never search; search_considered_actions is the player's 8 since 2026-12-05).
ADDED_SINCE = {"algo": "ppo", "search_simulations": 16, "search_considered_actions": 8,
               "eval_simulations": 0,
               "search_gumbel_scale": 1.0, "search_mate_candidates": 8,
               "lr_decay_iterations": 0, "lr_final_frac": 0.0, "search_full_fraction": 1.0,
               "search_cheap_simulations": 4, "selfplay_sampled_plies": 0,
               "value_target": "lambda_return", "value_search_blend": 0.0,
               "value_blend_with": "search_value", "replay_size": 0,
               "replay_reuse": 4.0, "replay_warmup": 0, "material_head_coef": 0.0}
MODEL_ADDED_SINCE = {"material_prior": False, "threat_prior": False, "king_safety_prior": False,
                     "attack_planes": False,
                     "value_hidden": 0, "material_head": False, "value_trunk_grad": 1.0}


def _configs():
    from experiments import configs

    return configs


# The pinned configs by the name they have now: the az config of the file is ``az_lambda``.
RENAMED = {"az": "az_lambda"}
# Written before the heads were fixed (2026-12-04): every preset now has the pooled value head,
# per-kind hand planes and wider heads; ``az_lambda`` keeps the network it trained.
MODEL_NOW = {"heads": "pooled", "hand_planes": "per_kind", "value_channels": 32,
             "policy_channels": 4, "value_hidden": 64}
TINY_NOW = {"value_channels": 8, "value_hidden": 16}
# Since 2026-12-05 the tiny run's evaluation plays its games out (4 games capped at 32 plies
# were all draws).
TINY_EVAL_NOW = {"eval_games": 16, "eval_max_plies": 512}
LEGACY_MODEL = {"heads": "keisei", "hand_planes": "per_18", "value_channels": 2,
                "policy_channels": 2, "value_hidden": 0}
# The configs written after the file (tested below by what they are for).
NEW = ("az", "az_pure")


@pytest.mark.parametrize("old", sorted(GOLDEN))
def test_named_config_values_are_pinned(old):
    name = RENAMED.get(old, old)
    expected = dict(GOLDEN[old])
    expected["check_bonus_pawns"] = expected.pop("check_shaping")
    expected["parallel"] = dataclasses.asdict(ParallelConfig())
    for key, value in ADDED_SINCE.items():  # fields added after the file was written
        expected.setdefault(key, value)
    model = {**MODEL_ADDED_SINCE, **expected["model"]}
    if name == "az_lambda":
        expected["model"] = {**model, **{k: v for k, v in LEGACY_MODEL.items()
                                         if k != "value_hidden"}}
    else:
        expected["model"] = {**model, **MODEL_NOW, **(TINY_NOW if name == "tiny" else {})}
    if name == "tiny":
        expected.update(TINY_EVAL_NOW)
    config = _configs().get(name)
    assert config.to_dict() == expected
    # The pinned dict is a config saved before the rename, before ``parallel`` and before the
    # heads were fixed: it loads, with the network it trained (Keisei's heads, hands / 18).
    legacy = {k: v for k, v in LEGACY_MODEL.items() if k not in GOLDEN[old]["model"]}
    legacy.update({k: v for k, v in GOLDEN[old]["model"].items() if k in LEGACY_MODEL})
    then = {k: GOLDEN[old][k] for k in TINY_EVAL_NOW} if name == "tiny" else {}
    assert from_dict(GOLDEN[old]) == dataclasses.replace(
        config, model=dataclasses.replace(config.model, **legacy), **then)


def test_every_named_config_is_pinned():
    assert sorted([RENAMED.get(n, n) for n in GOLDEN] + list(NEW)) == _configs().names()


def test_az_learns_results_and_az_pure_has_no_knowledge_aids():
    az, pure = _configs().get("az"), _configs().get("az_pure")
    for config in (az, pure):
        assert config.value_target == "result" and config.replay_size > 0
        assert config.check_bonus_pawns == 0  # not potential-based: it changes the optimum
        assert config.model.heads == "pooled" and config.model.hand_planes == "per_kind"
    # az's value learns z blended with the lambda-return over search values that carry the
    # material term (potential-based, for the whole run); az_pure's learns z alone
    assert az.material_shaping > 0 and az.shaping_anneal_frac == 0
    assert az.value_blend_with == "lambda_return" and 0 < az.value_search_blend < 1
    assert az.model.material_head and az.material_head_coef > 0
    assert pure.material_shaping == 0 and not pure.model.material_head
    aids = ("action_prior", "material_prior", "threat_prior", "king_safety_prior",
            "attack_planes")
    assert all(getattr(az.model, a) for a in aids)
    assert not any(getattr(pure.model, a) for a in aids)
    assert pure.search_mate_candidates == 0 and pure.value_search_blend == 0
    assert pure.value_blend_with == "search_value"
    # z alone: a position learns nothing until its game ends, so the buffer holds a whole game
    # of every lane (az's 12 iterations lost four positions in five of az_pure's long games)
    assert replay_per_lane(pure) >= pure.max_plies
    # The aids are named in one place, and one function turns them all off.
    assert knowledge_aids(pure) == [] and knowledge_aids(without_knowledge_aids(az)) == []
    assert knowledge_aids(az) == [f"model.{a}" for a in aids] + [
        "material_shaping", "search_mate_candidates", "model.material_head", "material_head_coef"]
    assert knowledge_aids(_configs().get("az_lambda"))[-3:] == [
        "material_shaping", "check_bonus_pawns", "search_mate_candidates"]


def test_the_dataclass_defaults_are_the_default_config():
    assert TrainConfig() == _configs().get("default")
