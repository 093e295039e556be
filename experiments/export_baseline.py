"""Ship a run's checkpoint with the repository as ``baseline:NAME``:

    python experiments/export_baseline.py --run runs/az --name az_420

writes ``experiments/baselines/NAME/``: the checkpoint (its latest, or ``--step``) without its
replay buffer (``checkpoints.export_for_play``: a player needs the network, not the positions
an ``az`` runner keeps: 3.4 MB instead of 7.7), the run's ``config.json`` and its
``metrics.jsonl`` up to that step. Every checkpoint argument then takes ``baseline:NAME``
(``evaluate.py --checkpoint`` and ``--opponent``, ``strength.py``, ``elo.py``,
``keisei-usi --checkpoint``). Add its row to ``experiments/baselines/README.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from experiments import evaluate

BASELINES = Path(__file__).parent / "baselines"
# What a shipped network may weigh (the repository carries it).
MAX_BYTES = 10 * 2**20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=evaluate.HelpFormatter)
    parser.add_argument("--run", required=True, help="the run's workdir")
    parser.add_argument("--name", required=True, help="the baseline's name (a folder name)")
    parser.add_argument("--step", type=int, default=None, help="checkpoint (default: latest)")
    parser.add_argument("--into", default=str(BASELINES), help="the baselines folder")
    args = parser.parse_args(argv)
    if not args.name or "/" in args.name or args.name.startswith("."):
        parser.error(f"--name must be a plain folder name, got {args.name!r}")
    return args


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import jax

    from keisei_jax.algos import make_train
    from keisei_jax.checkpoints import Checkpointer, CheckpointError, export_for_play
    from keisei_jax.metrics import read_metrics

    run, out = Path(args.run), Path(args.into) / args.name
    if out.exists():
        print(f"error: {out} exists; choose another --name or remove it", file=sys.stderr)
        return 2
    checkpointer = Checkpointer(run / "checkpoints", keep=1_000_000)  # never deletes
    try:
        step = args.step if args.step is not None else checkpointer.latest_step()
        if step is None:
            raise CheckpointError(f"no checkpoint in {run / 'checkpoints'}")
        config = checkpointer.saved_config(step)
        template = jax.eval_shape(make_train(config).init, jax.random.PRNGKey(0))
        runner, step = checkpointer.restore(template, config, step)
    except CheckpointError as err:
        print(f"checkpoint error: {err}", file=sys.stderr)
        return 2
    finally:
        checkpointer.close()
    try:
        export_for_play(runner, config, out, step)
        if (run / "config.json").exists():
            shutil.copy(run / "config.json", out / "config.json")
        else:
            (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
        records = [r for r in read_metrics(run / "metrics.jsonl") if r["iteration"] <= step] \
            if (run / "metrics.jsonl").exists() else []
        with (out / "metrics.jsonl").open("w") as f:
            for record in records:
                f.write(json.dumps(record) + "\n")
    except OSError as err:
        shutil.rmtree(out, ignore_errors=True)
        print(f"output error: writing {out}: {err}", file=sys.stderr)
        return 2
    size = _size(out)
    if size > MAX_BYTES:
        shutil.rmtree(out)
        print(f"error: the export weighs {size / 2**20:.1f} MB, over the {MAX_BYTES / 2**20:.0f} "
              "MB a shipped network may; nothing was written", file=sys.stderr)
        return 2
    print(f"wrote {out} ({size / 2**20:.1f} MB, checkpoint {step}): load it as "
          f"baseline:{args.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
