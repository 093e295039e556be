"""The reference positions with cshogi 1.1.0's answers (``tests/data/reference_positions.jsonl``:
49 positions, hand-crafted rule cases and positions from random games; fields ``sfen``, ``turn``,
``in_check``, ``legal_count``, ``legal_moves``, ``perft2``, ``perft3``, ``moves``)."""

import json

from tests.paths import DATA

REFERENCE = DATA / "reference_positions.jsonl"
POSITIONS = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
