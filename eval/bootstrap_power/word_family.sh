#!/usr/bin/env bash
# The shipped programs on a task family nothing was tuned on (reasoning-gym leg_counting, one or two kinds of
# animal): strawberry (programs/strawberry.yaml), chain-of-thought and zero-shot, the same held-out problems and
# seeds, 2 samples each. Then: python eval/bootstrap_power/collect_runs.py OUT/*  (rows for reproduce.py)
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
OUT=${1:-runs/word-family}
SPEC='reasoning_gym:leg_counting?min_animals=1&max_animals=2&max_instances=3&seed=2026'
for program in zero_shot cot strawberry; do
  [ -f "$OUT/$program/summary.json" ] && continue  # resumable: a finished run is kept
  strawberry run "programs/$program.yaml" --benchmark "$SPEC" --split test --limit "${LIMIT:-200}" --samples 2 \
    --concurrency 2 --out "$OUT/$program"
done
