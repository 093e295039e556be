"""Train PPO self-play: ``python experiments/train.py --config default --workdir runs/x``.

Every ``TrainConfig`` field is a flag (``--lr 1e-3``, ``--eval_greedy false``, the model's as
``--model.channels 64``; ``--model keisei_ref`` swaps in a preset); an unknown flag or
a bad value stops with an error naming the field and what it accepts. ``--resume`` continues the
run in ``--workdir`` from its latest checkpoint (verified by its checksums); ``--resume_from STEP``
from an earlier one instead (when the latest is damaged: the error lists the kept steps), moving
the later checkpoints and metrics records to ``WORKDIR/abandoned-<time>/``. A fresh run refuses a
workdir holding an earlier run's checkpoints, config.json, metrics.jsonl or TensorBoard files;
``--fresh`` first moves it aside (to ``WORKDIR.prev-<time>``). One run writes a workdir at a time
(``WORKDIR/.lock``). Checkpoints are saved every ``--checkpoint_every`` iterations and at the end
(0: only at the end). A loss, gradient or parameter that becomes NaN or infinite stops the run
with exit code 1 and a line naming the iteration and the metric; that state is never saved.

The run uses every device JAX sees. Over several hosts, start this same command on each with
``--distributed`` (Cloud TPU pod slices, SLURM and Open MPI: JAX finds the others by itself) or
with ``--coordinator_address HOST:PORT --num_processes N --process_id I``.

``--parallel`` (short for ``--parallel.enabled true``) plays self-play in worker processes instead
(the CPU fallback for many-core hosts without an accelerator); ``--parallel.num_workers 4`` and
the other ``parallel.*`` fields shape it. They are part of the config like the model's: saved in
``config.json`` and the checkpoints, and free to change on resume.

Compiled programs persist in ``$JAX_COMPILATION_CACHE_DIR`` (default ``~/.cache/keisei_jax/jax``);
steps/s leave compiling out, which is reported on its own line. ``--wandb [PROJECT]`` also sends
every metrics record to Weights & Biases (``pip install wandb``; ``WANDB_MODE=offline`` without a
network). ``python experiments/plot.py WORKDIR`` draws the records to ``WORKDIR/curves.png``.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from pathlib import Path
from typing import Any

from experiments import configs
from keisei_jax.checkpoints import CheckpointError, kept_checkpoint
from keisei_jax.config import (
    FIELDS,
    NESTED,
    ConfigError,
    TrainConfig,
    apply_overrides,
    closest_field,
    describe,
    field_value,
)
from keisei_jax.models import PRESETS
from keisei_jax.workdir import WorkdirError, check_directory, locked

_FLAGS = {"--config", "--workdir", "--resume", "--fresh", "--quiet", "--help", "--stop_at",
          "--distributed", "--coordinator_address", "--num_processes", "--process_id",
          "--parallel", "--model", "--resume_from", "--wandb"}


def closest_flag(flag: str) -> str | None:
    """The flag ``flag`` most likely means: a config field (``--learning_rate`` -> ``--lr``,
    ``config.closest_field``) or one of the other flags (``--fersh`` -> ``--fresh``)."""
    field = closest_field(flag)
    if field is not None:
        return f"--{field}"
    close = difflib.get_close_matches(flag, _FLAGS, n=1)
    return close[0] if close else None


class _Parser(argparse.ArgumentParser):
    argv: list[str] = []

    def error(self, message: str):
        known = {f"--{n}" for n in FIELDS} | _FLAGS
        flags = [a.split("=")[0] for a in self.argv if a.startswith("--")]
        bad = [f for f in flags if f not in known]
        if bad:  # one line, not the usage: the flags number in the dozens
            lines = []
            for flag in bad:
                hint = closest_flag(flag)
                lines.append(f"unknown config key {flag}"
                             + (f": did you mean {hint}?" if hint else ""))
            self.exit(2, f"{self.prog}: error: {'; '.join(lines)} (see --help)\n")
        super().error(message)


def parse_args(argv: list[str]):
    parser = _Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                     allow_abbrev=False)
    parser.argv = argv
    parser.add_argument("--config", default="default", help=f"one of {configs.names()}")
    parser.add_argument("--workdir", required=True, help="directory for everything the run writes")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--resume_from", type=int, default=None, metavar="STEP",
                        help="continue from checkpoint STEP instead of the last (e.g. when the "
                             "last is damaged); later checkpoints and metrics records move to "
                             "WORKDIR/abandoned-<time>/")
    parser.add_argument("--fresh", action="store_true",
                        help="move an existing workdir aside and start a new run")
    parser.add_argument("--stop_at", type=int, default=None,
                        help="stop after this many iterations with a checkpoint (resume later)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--wandb", nargs="?", const="keisei_jax", default=None, metavar="PROJECT",
                        help="also log every metrics record to Weights & Biases, project PROJECT "
                        "(default keisei_jax; needs `pip install wandb`; WANDB_MODE=offline "
                        "logs without a network)")
    multi = parser.add_argument_group("multi-host (jax.distributed)")
    multi.add_argument("--distributed", action="store_true",
                       help="join a multi-process run found by JAX (TPU pod slice, SLURM, MPI)")
    multi.add_argument("--coordinator_address", default=None, help="HOST:PORT of process 0")
    multi.add_argument("--num_processes", type=int, default=None)
    multi.add_argument("--process_id", type=int, default=None)
    groups = {"": parser.add_argument_group(
        "config fields (override the named config; defaults shown are the default config's)")}
    for head, nested in NESTED.items():
        groups[head] = parser.add_argument_group(f"{head}.* fields: {nested.metadata['doc']}")
    groups["model"].add_argument(
        "--model", dest="model_preset", default=None, metavar="PRESET",
        help=f"model preset, one of {sorted(PRESETS)}; --model.* flags change it")
    groups["parallel"].add_argument("--parallel", action="store_true",
                                    help="short for --parallel.enabled true")
    defaults = TrainConfig()
    for name, field in FIELDS.items():
        resumable = "; may change on resume" if field.metadata["resumable"] else ""
        text = (f"{field.metadata['doc']} ({describe(name)}; default "
                f"{field_value(defaults, name)!r}{resumable})")
        head, _, rest = name.partition(".")
        groups[head if rest else ""].add_argument(
            f"--{name}", dest=f"field_{name}", metavar=field.type.upper(), default=None,
            help=text.replace("%", "%%"))
    args = parser.parse_args(argv)
    overrides = {"model": args.model_preset} if args.model_preset else {}
    if args.parallel:
        overrides["parallel.enabled"] = "true"
    overrides |= {
        name: getattr(args, f"field_{name}") for name in FIELDS
        if getattr(args, f"field_{name}") is not None
    }
    return args, overrides


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = apply_overrides(configs.get(args.config), overrides)
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    if (args.resume or args.resume_from is not None) and args.fresh:
        print("--resume / --resume_from and --fresh exclude each other", file=sys.stderr)
        return 2
    if not args.workdir.strip():  # Path("") would be the current directory
        print("error: --workdir is empty: name the run's folder, e.g. --workdir runs/my_run",
              file=sys.stderr)
        return 2
    workdir = Path(args.workdir)
    try:
        check_directory(workdir)
    except WorkdirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    wandb = None
    if args.wandb is not None:
        from keisei_jax.metrics import WandbLogger

        try:
            wandb = WandbLogger(args.workdir, project=args.wandb, config=config.to_dict())
        except ImportError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.fresh and workdir.exists():
        aside = workdir.with_name(f"{workdir.name}.prev-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            with locked(workdir):  # not while another run writes there
                workdir.rename(aside)
        except WorkdirError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"moved the previous run to {aside}")

    try:
        return _train(args, config, workdir, wandb)
    except KeyboardInterrupt:  # one line: what is safe on disk, not a traceback
        kept = kept_checkpoint(workdir / "checkpoints")
        then = "; --resume continues from it" if kept.startswith("the last") else ""
        print(f"interrupted: {kept}{then}", file=sys.stderr)
        return 130
    finally:
        if wandb is not None:
            wandb.close()


def _train(args: argparse.Namespace, config: TrainConfig, workdir: Path, wandb: Any) -> int:
    from keisei_jax import compile_cache, distributed  # imports jax: after argument checks

    compile_cache.enable_persistent_cache()
    try:
        distributed.initialize(
            coordinator_address=args.coordinator_address, num_processes=args.num_processes,
            process_id=args.process_id, auto=args.distributed,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from keisei_jax.training import TrainingDiverged, train_and_evaluate

    try:
        record = train_and_evaluate(config, workdir, resume=args.resume,
                                    resume_from=args.resume_from, stop_at=args.stop_at,
                                    quiet=args.quiet, on_record=wandb)
    except (CheckpointError, ConfigError, WorkdirError, TrainingDiverged) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not distributed.is_main_process():
        return 0
    if record.get("eval/random/games"):
        from keisei_jax.eval.results import match_statistics

        stats = match_statistics(*(int(record[f"eval/random/{k}"])
                                   for k in ("wins", "draws", "losses")))
        evaluation = (f"vs random {stats.text()} over {stats.games} games (mean "
                      f"{record['eval/random/mean_length']:.0f} plies, cap "
                      f"{config.eval_max_plies})")
    else:
        evaluation = "no evaluation (eval_every 0)"
    print(
        f"summary: {record['env_steps']} env steps, {record.get('time/wall_seconds', 0):.0f} s, "
        f"{record.get('env_steps_per_sec', 0):.0f} steps/s (last call, compiling excluded), "
        f"{evaluation}"
    )
    print(f"compiling: {record.get('time/compile_seconds_total', 0):.0f} s of it (training "
          "calls and evaluations; the persistent cache shortens the next run's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
