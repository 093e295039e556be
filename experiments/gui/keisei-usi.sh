#!/bin/sh
# keisei-usi for a shogi GUI on Linux or macOS: register this file as the engine (docs/gui.md).
# A GUI starts an engine without arguments, from a folder of its own choosing; this finds the
# checkout's .venv from where the file lives and passes the checkpoint below.
#
# CHECKPOINT: a run's workdir or one checkpoint's folder, as an absolute path, or a shipped
# network (baseline:az_lambda_850). Empty: the GUI's Checkpoint option decides (else the greedy
# baseline plays). KEISEI_CHECKPOINT and KEISEI_USI in the environment override both lines.
CHECKPOINT="${KEISEI_CHECKPOINT-baseline:az_lambda_850}"
root="$(cd -- "$(dirname -- "$0")/../.." && pwd)"
engine="${KEISEI_USI:-$root/.venv/bin/keisei-usi}"
if [ -n "$CHECKPOINT" ]; then
    exec "$engine" --checkpoint "$CHECKPOINT" "$@"
fi
exec "$engine" "$@"
