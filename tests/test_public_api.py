"""The public surface of ``keisei_jax``: the exact ``__all__``, every name resolving to its
definition, ``__version__`` equal to pyproject.toml's, and lazy imports (the rules engine
loads no ML library)."""

import importlib
import subprocess
import sys
import tomllib
import types

import pytest

import keisei_jax
from tests.paths import ROOT

PUBLIC = [
    "LoadedPolicy", "ModelConfig", "Player", "SearchOutput", "SearchSettings", "TrainConfig",
    "az", "env",
    "evaluate_vs", "greedy_player", "load_policy", "make_train", "models", "network_player",
    "play_match", "ppo", "random_player", "search", "search_player", "shogi",
    "train_and_evaluate", "usi",
]
# Resolved once, at collection: the lazy imports happen here rather than inside a test.
RESOLVED = {name: getattr(keisei_jax, name) for name in keisei_jax.__all__}


def test_all_is_pinned():
    assert keisei_jax.__all__ == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_resolves_to_its_definition(name):
    value = RESOLVED[name]
    if isinstance(value, types.ModuleType):
        assert value is importlib.import_module(f"keisei_jax.{name}")
    else:
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value, (name, value.__module__)
    assert name in dir(keisei_jax)


def test_the_search_module_carries_the_search_and_its_defaults():
    from keisei_jax import default_player
    from keisei_jax.search import tree_search

    assert RESOLVED["search"].search is tree_search.search
    # One set of defaults: the settings' are the default player's numbers.
    defaults = keisei_jax.SearchSettings()
    assert keisei_jax.search.SearchSettings is keisei_jax.SearchSettings
    assert (defaults.num_simulations, defaults.considered_actions, defaults.mate_candidates,
            defaults.mate_threat_moves, defaults.mate_five_retries) == (
        default_player.PLAY_SIMULATIONS, default_player.CONSIDERED_ACTIONS,
        default_player.MATE_CANDIDATES, default_player.MATE_THREAT_MOVES,
        default_player.MATE_FIVE_RETRIES)
    assert keisei_jax.TrainConfig().search_considered_actions == defaults.considered_actions


def test_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="has no attribute 'TrainConfg'"):
        keisei_jax.TrainConfg  # noqa: B018


def test_version_matches_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert keisei_jax.__version__ == project["version"]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return {name.split(".")[0] for name in proc.stdout.split()}


def test_imports_are_lazy():
    assert "jax" not in _modules_after("import keisei_jax")
    loaded = _modules_after("import keisei_jax.shogi")
    assert "jax" in loaded
    assert not loaded & {"flax", "optax", "orbax", "mctx"}, loaded
