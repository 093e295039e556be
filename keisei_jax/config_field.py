"""``field``: a config dataclass field that carries what validation, the flags and the resume check
read (its range or choices, whether it may change on resume, a one-line doc).

Standard library only, so the config dataclasses of any package (``models.ModelConfig``,
``config.TrainConfig``) declare their fields with it without importing the trainer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_UNSET = object()

# Every seed of a run or a match: jax.random.PRNGKey overflows past a signed 64-bit integer, and
# numpy's SeedSequence (the parallel workers' seeds) takes no negative one.
SEED_RANGE = (0, 2**63 - 1)


def seed_error(flag: str, value: int) -> str | None:
    """Why ``value`` cannot be the seed ``flag``, or None if it can."""
    if SEED_RANGE[0] <= value <= SEED_RANGE[1]:
        return None
    return f"{flag} must be an integer in [0, 2**63 - 1] (it seeds a 64-bit key), got {value}"


def field(
    default: Any,
    *,
    doc: str,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    choices: tuple[Any, ...] | None = None,
    resumable: bool = False,
    absent: Any = _UNSET,
) -> Any:
    """A frozen-dataclass field with config metadata.

    ``lo <= value <= hi`` (``lo < value`` with ``lo_open``; None: unbounded), ``value in choices``.
    ``resumable``: the field may differ between a checkpoint's config and the resuming one (it
    changes the driver's schedule or the plumbing, not what is learnt). ``absent``: the value a
    config saved before the field existed stands for, if not ``default`` (``config.from_dict``).
    """
    metadata = {"doc": doc, "lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices,
                "resumable": resumable}
    if absent is not _UNSET:
        metadata["absent"] = absent
    return dataclasses.field(default=default, metadata=metadata)
