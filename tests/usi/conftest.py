"""Shared by the USI tests: one tiny checkpoint."""

import pytest

from tests.eval.checkpoint_helpers import write_tiny_checkpoint


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("usi_run"))
