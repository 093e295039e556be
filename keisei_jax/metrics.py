"""Run logs: one JSON object per line in ``WORKDIR/metrics.jsonl``, TensorBoard event files, and
a progress line (a live bar on a terminal, plain lines otherwise).

TensorBoard events are written by tensorboardX when it is installed (the ``tensorboard`` extra),
else by the ``tensorboard`` package's own framework-free ``tensorboard.summary.Writer`` (what
accelerator images and Colab ship; it needs neither TensorFlow nor PyTorch). With neither, the run
says so in one line on stderr and goes on with ``metrics.jsonl`` alone."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

TENSORBOARD_OFF = ("TensorBoard logging is off: neither tensorboardX nor tensorboard is installed "
                   "(pip install tensorboardX or tensorboard); metrics still go to metrics.jsonl")


def open_tensorboard(logdir: Path, *, stream: TextIO | None = None):
    """A writer with ``add_scalar(tag, value, step)``, ``flush()`` and ``close()`` on ``logdir``,
    or None after one line on ``stream`` (stderr) saying why there is none.

    Imported here, not at module level: only runs that ask for TensorBoard pay the import."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        pass
    else:
        return SummaryWriter(str(logdir))
    try:
        # Numpy-only event writer of TensorBoard itself (tensorboard >= 2.5).
        from tensorboard.summary import Writer
    except ImportError:
        print(TENSORBOARD_OFF, file=stream if stream is not None else sys.stderr, flush=True)
        return None
    return Writer(str(logdir))


class MetricsWriter:
    """Owns ``metrics.jsonl`` (appended, so a resumed run continues the same file) and the
    TensorBoard writer."""

    def __init__(self, workdir: str | Path, *, tensorboard: bool):
        self.path = Path(workdir) / "metrics.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._tb = open_tensorboard(Path(workdir) / "tensorboard") if tensorboard else None

    def write(self, env_steps: int, values: dict[str, Any]) -> None:
        record = {"env_steps": env_steps, **values}
        try:
            self._file.write(json.dumps(record, sort_keys=True) + "\n")
            self._file.flush()
        except OSError as err:
            err.filename = err.filename or str(self.path)  # a failed write names no file
            raise
        if self._tb is not None:
            for name, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    if math.isfinite(value):
                        self._tb.add_scalar(name, value, env_steps)
            self._tb.flush()

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


WANDB_MISSING = "--wandb needs the wandb package, which is not installed: pip install wandb"


class WandbLogger:
    """Sends each metrics record to a Weights & Biases run (it owns the run): the numbers of the
    record, at step ``env_steps``. wandb is imported when this is made (ImportError naming the
    package when it is missing), never by the package otherwise; the run starts with the first
    record, once the workdir has passed its checks. Offline use is wandb's own
    ``WANDB_MODE=offline``. The run's id is kept in ``WORKDIR/wandb_run_id``, so a resumed
    training continues the same run."""

    def __init__(self, workdir: str | Path, *, project: str, config: dict[str, Any]):
        try:
            import wandb
        except ImportError:
            raise ImportError(WANDB_MISSING) from None
        self._wandb, self._workdir = wandb, Path(workdir)
        self._project, self._config = project, config
        self._run = None

    def __call__(self, record: dict[str, Any]) -> None:
        if self._run is None:
            id_file = self._workdir / "wandb_run_id"
            run_id = (id_file.read_text().strip() if id_file.is_file()
                      else self._wandb.util.generate_id())
            self._run = self._wandb.init(project=self._project, id=run_id, resume="allow",
                                         config=self._config, name=self._workdir.name,
                                         dir=str(self._workdir))
            id_file.write_text(run_id + "\n")
        numbers = {name: value for name, value in record.items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)
                   and name != "env_steps"}
        self._run.log(numbers, step=int(record["env_steps"]))

    def close(self) -> None:
        if self._run is not None:
            self._run.finish()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


def truncate_metrics(path: str | Path, iteration: int,
                     warn: Callable[[str], None] = _warn) -> list[str]:
    """Drop the records of ``path`` past ``iteration`` (a resume from that iteration writes them
    again), keeping every other line; rewritten atomically. A line that is not JSON (the last
    one, cut short by a killed run) is dropped too, with one ``warn`` naming the file and the
    line. Returns the dropped lines."""
    path = Path(path)
    if not path.exists():
        return []
    kept, dropped = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), 1):
        if not line.strip():
            continue
        try:
            later = json.loads(line).get("iteration", 0) > iteration
        except json.JSONDecodeError:  # a line cut short by a killed run: nothing to keep
            later = True
            warn(f"{path} line {number} is not a whole JSON record ({len(line.rstrip())} "
                 "characters, cut short when a run was killed?): dropped on resume")
        (dropped if later else kept).append(line if line.endswith("\n") else line + "\n")
    if dropped:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    return dropped


class Progress:
    """Iterations done, env steps/s and ETA; redraws one line on a TTY, prints lines otherwise."""

    def __init__(self, total: int, *, start: int = 0, stream: TextIO | None = None):
        # sys.stdout when made, not at import: a redirected stdout is followed.
        self.total, self.start = total, start
        self.stream = sys.stdout if stream is None else stream
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()

    def update(self, done: int, steps_per_sec: float, extra: str = "") -> None:
        elapsed = time.monotonic() - self.t0
        rate = (done - self.start) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        eta_text = f"{int(eta) // 60:d}m{int(eta) % 60:02d}s" if math.isfinite(eta) else "?"
        frac = done / self.total
        if self.tty:
            bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
            line = (f"\r[{bar}] {done}/{self.total} it {steps_per_sec:7.0f} steps/s "
                    f"ETA {eta_text} {extra}")
            self.stream.write(line[:200].ljust(120))
        else:
            self.stream.write(
                f"it {done}/{self.total} ({100 * frac:.0f}%) {steps_per_sec:.0f} steps/s "
                f"ETA {eta_text} {extra}\n"
            )
        self.stream.flush()

    def message(self, text: str) -> None:
        self.stream.write(("\n" if self.tty else "") + text + "\n")
        self.stream.flush()
