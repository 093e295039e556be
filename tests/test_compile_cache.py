"""The entry points' persistent compilation cache: where it goes, that every entry point turns it
on first, and the compile time it measures."""

import json
import os

import jax
import jax.numpy as jnp
import pytest

from keisei_jax import compile_cache
from tests.paths import ROOT

_VARS = (compile_cache.ENV_VAR, "XDG_CACHE_HOME", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
         "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")


@pytest.fixture
def jax_settings(monkeypatch):
    """The settings ``enable_persistent_cache`` makes, recorded instead of applied (the suite's
    own cache stays as conftest set it); the environment is restored afterwards."""
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    settings = {}
    monkeypatch.setattr(jax.config, "update", lambda name, value: settings.__setitem__(name, value))
    return settings


def test_the_environment_variable_names_the_folder(tmp_path, monkeypatch, jax_settings):
    monkeypatch.setenv(compile_cache.ENV_VAR, str(tmp_path / "mine"))
    assert compile_cache.enable_persistent_cache() == tmp_path / "mine"
    assert (tmp_path / "mine").is_dir()
    assert jax_settings == {
        "jax_compilation_cache_dir": str(tmp_path / "mine"),
        "jax_persistent_cache_min_compile_time_secs": compile_cache.MIN_COMPILE_TIME_S,
        "jax_persistent_cache_min_entry_size_bytes": 0,
    }


def test_the_default_is_a_per_user_folder(tmp_path, monkeypatch, jax_settings):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compile_cache.default_directory() == tmp_path / "home/.cache/keisei_jax/jax"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.enable_persistent_cache() == tmp_path / "xdg/keisei_jax/jax"
    assert jax_settings["jax_compilation_cache_dir"] == str(tmp_path / "xdg/keisei_jax/jax")
    # Processes started from here (--parallel workers) inherit the same cache.
    assert os.environ[compile_cache.ENV_VAR] == str(tmp_path / "xdg/keisei_jax/jax")


def test_an_unwritable_folder_is_one_warning_and_no_cache(tmp_path, monkeypatch, capsys,
                                                          jax_settings):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(compile_cache.ENV_VAR, str(tmp_path / "file" / "jax"))
    assert compile_cache.enable_persistent_cache() is None
    assert jax_settings == {}
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "JAX_COMPILATION_CACHE_DIR" in err


class _Enabled(Exception):
    pass


def _refuse(*_args, **_kwargs):
    raise _Enabled


def _entry_points(tmp_path):
    from experiments import elo, evaluate, play, strength, train
    from keisei_jax import usi

    return {
        "train.py": lambda: train.main(["--config", "tiny", "--workdir", str(tmp_path / "r")]),
        "evaluate.py": lambda: evaluate.main(["--checkpoint", str(tmp_path / "none"),
                                              "--opponent", "random"]),
        "strength.py": lambda: strength.main(["--checkpoint", str(tmp_path / "none"),
                                              "--opponent", "random:2", "--out",
                                              str(tmp_path / "s")]),
        "elo.py": lambda: elo.main(["--checkpoints", str(tmp_path / "none")]),
        "play.py": lambda: play.main([]),
        "keisei-usi": lambda: usi.main([]),
    }


@pytest.mark.parametrize("name", ["train.py", "evaluate.py", "strength.py", "elo.py", "play.py",
                                  "keisei-usi"])
def test_every_entry_point_enables_the_cache_before_its_work(tmp_path, monkeypatch, name):
    monkeypatch.setenv("XLA_FLAGS", "")  # restored afterwards (keisei-usi adds to it)
    monkeypatch.setattr(compile_cache, "enable_persistent_cache", _refuse)
    with pytest.raises(_Enabled):
        _entry_points(tmp_path)[name]()
    assert not (tmp_path / "r").exists() and not (tmp_path / "s").exists()
    if name == "keisei-usi":  # its searches update their trees in place, from the first one
        assert os.environ["XLA_FLAGS"] == compile_cache.IN_PLACE_FLAG


def test_the_in_place_flag_is_added_once_and_a_choice_is_kept(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    compile_cache.enable_in_place_loops()
    compile_cache.enable_in_place_loops()
    assert os.environ["XLA_FLAGS"] == ("--xla_force_host_platform_device_count=2 "
                                       + compile_cache.IN_PLACE_FLAG)
    mine = "--xla_cpu_copy_insertion_use_region_analysis=false"
    monkeypatch.setenv("XLA_FLAGS", mine)
    compile_cache.enable_in_place_loops()
    assert os.environ["XLA_FLAGS"] == mine


def test_the_notebook_enables_the_cache():
    notebook = json.loads((ROOT / "experiments/notebooks/colab_train.ipynb").read_text())
    code = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "compile_cache.enable_persistent_cache()" in code


def test_union_of_overlapping_spans():
    assert compile_cache._union_seconds([]) == 0.0
    assert compile_cache._union_seconds([(0, 4), (1, 2), (3, 6), (8, 9)]) == 7.0


def test_compile_timer_counts_a_compile_and_not_a_cached_call():
    @jax.jit
    def f(x):
        return jnp.cumsum(jnp.sin(x) * 2.0) + x.size  # a program of its own

    x = jnp.arange(7.0)
    with compile_cache.compile_timer() as first:
        f(x).block_until_ready()
    with compile_cache.compile_timer() as second:
        f(x).block_until_ready()
    assert first.seconds > 0 and second.seconds == 0


def test_the_suite_and_the_processes_it_starts_compile_with_its_xla_flags():
    # tests/conftest.py: LLVM -O1 and XLA:CPU's elemental emitters, set before JAX started
    flags = os.environ["XLA_FLAGS"].split()
    assert "--xla_backend_optimization_level=1" in flags
    assert "--xla_cpu_use_fusion_emitters=false" in flags
