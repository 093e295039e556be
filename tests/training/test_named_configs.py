"""Every named config builds exactly the values pinned in ``named_configs.json`` (written from the
configs as they stood before they were rebuilt on ``default.get_config()``)."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((Path(__file__).parent / "named_configs.json").read_text())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_named_config_values_are_pinned(name):
    sys.path.insert(0, str(ROOT))
    from experiments import configs

    assert configs.get(name).to_dict() == GOLDEN[name]


def test_every_named_config_is_pinned():
    sys.path.insert(0, str(ROOT))
    from experiments import configs

    assert sorted(GOLDEN) == configs.names()
