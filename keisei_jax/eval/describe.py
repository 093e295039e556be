"""Each side of a match in words, for the headline of every tool: a checkpoint's network and how
it plays (its search's settings, or the raw policy and its temperature), a baseline, or an engine
with everything that sets its strength."""

from __future__ import annotations

from typing import Any

from keisei_jax.eval.engine_match import PlayerMoves
from keisei_jax.eval.engine_specs import engine_settings
from keisei_jax.eval.engines import GnuShogiEngine, UsiEngine
from keisei_jax.eval.players import NetworkAct, Player
from keisei_jax.eval.search_player import SearchAct
from keisei_jax.models import ModuleApply


def network_text(apply_fn: Any) -> str:
    """The tower behind ``apply_fn`` (``"network 2 blocks x 32 channels, local policy head"``),
    or "" when it is not a module's (a bare function says nothing about its network)."""
    config = getattr(apply_fn.model, "config", None) if isinstance(apply_fn, ModuleApply) else None
    if config is None:
        return ""
    blocks = f"{config.num_blocks} block{'s' if config.num_blocks != 1 else ''}"
    return f"network {blocks} x {config.channels} channels, {config.policy_head} policy head"


def settings(side: Any) -> str:
    """How ``side`` plays, in words ("" for a baseline or a human): a player's network and its
    search or raw policy, an engine's options, search limit and timeout."""
    if isinstance(side, PlayerMoves):
        side = side.player
    if isinstance(side, (UsiEngine, GnuShogiEngine)):
        return engine_settings(side)
    if not isinstance(side, Player):
        return ""
    act = side.act
    if isinstance(act, SearchAct):
        parts = [network_text(act.apply_fn), act.settings.describe()]
    elif isinstance(act, NetworkAct):
        parts = [network_text(act.apply_fn), f"raw policy, temperature {act.temperature:g}"]
    else:
        return ""
    return ", ".join(p for p in parts if p)


def describe(side: Any) -> str:
    """``"NAME (settings)"``, or the name alone when there is nothing to say."""
    text = settings(side)
    return f"{side.name} ({text})" if text else side.name
