"""A run's curves as one PNG, from ``WORKDIR/metrics.jsonl`` (and ``elo.py``'s ratings when there
are some): every panel twice, against env steps (left) and against wall time (right).

Panels: the evaluation scores (win + draw / 2) against the random player, the greedy player and
the learner's previous evaluation (and any other ``eval/<opponent>/score``), Elo, the losses,
the policy entropy, env steps/s, the self-play games' mean length, and how they ended (the share
of each termination cause). A panel whose keys the run never wrote is left out (a run without
the ladder has no greedy score; Elo needs an ``elo.py`` run over the workdir).

matplotlib is imported by ``write_curves``/``curves_figure`` only (the ``plot`` extra), never with
the package.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keisei_jax.metrics import read_metrics

# (panel title, [(metrics key, legend label)], y-axis label). ``eval/*/score`` keys of other
# opponents join the first panel.
PANELS: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    ("evaluation score", (("eval/random/score", "vs random"), ("eval/greedy/score", "vs greedy"),
                          ("eval/earlier/score", "vs previous evaluation")),
     "win + draw / 2"),
    ("losses", (("train/policy_loss", "policy"), ("train/value_loss", "value")), "loss"),
    ("policy entropy", (("train/entropy", "entropy"),), "nats"),
    ("env steps/s", (("env_steps_per_sec", "steps/s"),), "env steps/s (compiling excluded)"),
    ("game length", (("games/mean_length", "self-play games"),), "plies"),
    ("termination causes", (), "share of finished games"),
)
ELO_TITLE = "Elo"
_SCORE = re.compile(r"eval/(.+)/score$")
_CHECKPOINT = re.compile(r"@(\d+)$")  # elo.py names a checkpoint RUN@ITERATION


def wall_hours(records: Sequence[dict[str, Any]]) -> list[float]:
    """Hours since the run began, per record: ``time/wall_seconds`` restarts at each resume, so
    each invocation continues from where the one before ended."""
    hours, offset, last = [], 0.0, 0.0
    for record in records:
        seconds = float(record.get("time/wall_seconds", last))
        if seconds < last:  # a resumed invocation's clock started again
            offset += last
        last = seconds
        hours.append((offset + seconds) / 3600)
    return hours


def _series(records, key: str, xs: Sequence[float]) -> tuple[list[float], list[float]]:
    """The finite values of ``key`` and their x positions; a call in which no self-play game
    ended has no game length or termination shares (its 0 is no measurement)."""
    per_game = key.startswith("games/") and key != "games/finished"
    pairs = [(x, float(r[key])) for x, r in zip(xs, records, strict=True)
             if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])
             and not (per_game and not r.get("games/finished", 1))]
    return [x for x, _ in pairs], [y for _, y in pairs]


def _lines(records: Sequence[dict[str, Any]]) -> list[tuple[str, list[tuple[str, str]], str]]:
    """The panels with data: (title, [(key, label)], y label)."""
    keys = set().union(*(r.keys() for r in records)) if records else set()
    panels = []
    for title, lines, ylabel in PANELS:
        lines = [line for line in lines if line[0] in keys]
        if title == "evaluation score":
            known = {key for key, _ in PANELS[0][1]}
            lines += [(key, f"vs {_SCORE.match(key)[1]}") for key in sorted(keys)
                      if _SCORE.match(key) and key not in known]
        if title == "termination causes":
            lines = [(key, key.removeprefix("games/share_").replace("_", " "))
                     for key in sorted(keys) if key.startswith("games/share_")
                     and any(r.get(key) for r in records)]
        # Only lines with a measurement (no game length before a self-play game ended).
        lines = [line for line in lines if _series(records, line[0], [0.0] * len(records))[1]]
        if lines:
            panels.append((title, lines, ylabel))
    return panels


def read_elo(path: str | Path) -> list[tuple[int, float, float]]:
    """``(iteration, elo, ci95)`` of this run's checkpoints in an ``elo.py`` output file, by
    iteration (players not named ``RUN@ITERATION`` are left out)."""
    ratings = json.loads(Path(path).read_text())["ratings"]
    found = [(int(m[1]), float(r["elo"]), float(r["ci95"])) for r in ratings
             if (m := _CHECKPOINT.search(r["name"]))]
    return sorted(found)


def curves_figure(records: Sequence[dict[str, Any]], *,
                  elo: Sequence[tuple[int, float, float]] = (), title: str = ""):
    """A ``matplotlib.figure.Figure``: one row per panel with data, env steps on the left column
    and wall time on the right (in s, min or h, by the run's length). ``elo``: ``(iteration,
    elo, ci95)`` points (``read_elo``)."""
    from matplotlib.figure import Figure  # the plot extra; no pyplot, no global backend state

    if not records:
        raise ValueError("no metrics records to plot")
    panels = _lines(records)
    steps = [float(r["env_steps"]) for r in records]
    hours = wall_hours(records)
    # The wall-time axis in the unit that suits the run's length.
    unit, per_hour = next((u, k) for u, k, longest in (("s", 3600, 2 / 60), ("min", 60, 2),
                                                        ("h", 1, math.inf)) if hours[-1] < longest)
    wall = [h * per_hour for h in hours]
    by_iteration = {r.get("iteration"): (s, w) for r, s, w in zip(records, steps, wall,
                                                                   strict=True)}
    elo = [e for e in elo if e[0] in by_iteration]
    rows = len(panels) + bool(elo)
    fig = Figure(figsize=(12, 2.6 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, 2, squeeze=False)
    for row, (name, lines, ylabel) in enumerate(panels):
        for col, xs in enumerate((steps, wall)):
            ax = axes[row][col]
            for key, label in lines:
                x, y = _series(records, key, xs)
                ax.plot(x, y, marker="." if len(x) < 50 else None, label=label)
            ax.set_title(name)
            ax.set_ylabel(ylabel)
            if name in ("evaluation score", "termination causes"):  # fractions
                ax.set_ylim(-0.03, 1.03)
            if len(lines) > 1 or name in ("evaluation score", "termination causes"):
                ax.legend(fontsize="small")
    if elo:
        for col in (0, 1):
            ax = axes[rows - 1][col]
            x = [by_iteration[i][col] for i, _, _ in elo]
            ax.errorbar(x, [e for _, e, _ in elo], yerr=[c for _, _, c in elo], marker="o",
                        capsize=3)
            ax.set_title(ELO_TITLE)
            ax.set_ylabel("Elo (elo.py, 95% interval)")
    for ax in axes[:, 0]:
        ax.set_xlabel("env steps")
    for ax in axes[:, 1]:
        ax.set_xlabel(f"wall time ({unit})")
    if title:
        fig.suptitle(title)
    return fig


def write_curves(workdir: str | Path, out: str | Path | None = None, *,
                 elo: str | Path | None = None) -> Path:
    """Draw ``WORKDIR/metrics.jsonl`` to ``out`` (default ``WORKDIR/curves.png``); Elo from
    ``elo`` (default ``WORKDIR/elo.json`` when it exists). Returns the PNG's path."""
    workdir = Path(workdir)
    metrics = workdir / "metrics.jsonl"
    if not metrics.is_file():
        raise FileNotFoundError(f"no {metrics}: expected the workdir of a training run")
    elo_path = Path(elo) if elo is not None else workdir / "elo.json"
    if elo is not None and not elo_path.is_file():
        raise FileNotFoundError(f"no Elo file {elo_path} (elo.py --out writes one)")
    ratings = read_elo(elo_path) if elo_path.is_file() else []
    records = read_metrics(metrics)
    out = Path(out) if out is not None else workdir / "curves.png"
    fig = curves_figure(records, elo=ratings,
                        title=f"{workdir.name}: {len(records)} records, "
                              f"{records[-1]['env_steps'] if records else 0:,} env steps")
    fig.savefig(out, dpi=100)
    return out
