"""The fault tests' load (``par_common.REPEATS``): each runs once in the fast suite and 10 times
in the slow one, there with CPU burners competing for every core, so a test that leans on timing
fails there."""

import os
import subprocess
import sys

import pytest


@pytest.fixture
def cpu_load(request):
    """For a test marked slow: one busy-looping process per core (at most 8) for its duration."""
    burners = []
    if request.node.get_closest_marker("slow") is not None:
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                   for _ in range(min(os.cpu_count() or 1, 8))]
    yield len(burners)
    for proc in burners:
        proc.kill()
        proc.wait()
