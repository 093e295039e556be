"""Pure-functional shogi rules in JAX: single-game functions that callers jit and vmap.

No ML library is imported here; the trainer builds on this package, never the other way round.
"""

from keisei_jax.shogi.actions import (
    NUM_ACTIONS,
    PolicyOutputMapper,
    action_to_usi,
    actions_to_usi,
    legal_actions,
    legal_usi_moves,
    usi_table,
    usi_to_action,
)
from keisei_jax.shogi.game import (
    apply_move,
    check_position,
    from_sfen,
    from_sfens,
    init,
    is_legal,
    step,
    zobrist_hash,
)
from keisei_jax.shogi.movegen import legal_moves
from keisei_jax.shogi.observation import NUM_PLANES, observe
from keisei_jax.shogi.sfen import parse_sfen, to_sfen
from keisei_jax.shogi.state import (
    BLACK,
    DEFAULT_MAX_PLIES,
    HISTORY_LEN,
    WHITE,
    State,
    Termination,
    pack_legal_mask,
    state_nbytes,
    unpack_legal_bits,
)

__all__ = [
    "BLACK",
    "DEFAULT_MAX_PLIES",
    "HISTORY_LEN",
    "NUM_ACTIONS",
    "NUM_PLANES",
    "WHITE",
    "PolicyOutputMapper",
    "State",
    "Termination",
    "action_to_usi",
    "actions_to_usi",
    "apply_move",
    "check_position",
    "from_sfen",
    "from_sfens",
    "init",
    "is_legal",
    "legal_actions",
    "legal_moves",
    "legal_usi_moves",
    "observe",
    "pack_legal_mask",
    "parse_sfen",
    "state_nbytes",
    "step",
    "to_sfen",
    "unpack_legal_bits",
    "usi_table",
    "usi_to_action",
    "zobrist_hash",
]
