"""Named training configs: ``NAME.py`` here defines ``get_config() -> TrainConfig``."""

from __future__ import annotations

import importlib
import pkgutil

from keisei_jax.config import ConfigError, TrainConfig


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str) -> TrainConfig:
    if name not in names():
        raise ConfigError(f"unknown config {name!r}; allowed: {names()}")
    return importlib.import_module(f"{__name__}.{name}").get_config()
