#!/usr/bin/env bash
# One real bootstrap round on the embedded SmolLM2-135M, CPU only: harvest 32 train problems x 8 samples
# (temperature 1.0), DPO on the pass-rate band, held-out accuracy before/after on 100 test problems.
# Results: $OUT/rounds.md, $OUT/rounds.png (recorded in eval/bootstrap_round/report.md).
# Usage: eval/bootstrap_round/bootstrap_round.sh [PROGRAM] [OUT] [--key=value ...]   (the program's overrides;
# rerunning resumes at the first unfinished stage)
set -euo pipefail
# llama.cpp's OpenMP threads spin while they wait; on a shared, oversubscribed CPU that made the embedded
# engine 20-50x slower here (measured: 16 tokens in 22-52 s spinning, 0.6 s passive). Passive waiting fixes it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
PROGRAM=${1:-programs/cot.yaml}
OUT=${2:-runs/bootstrap-basic-arithmetic}
shift $(( $# < 2 ? $# : 2 ))
exec strawberry bootstrap "$PROGRAM" \
  --benchmark 'reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1' \
  --rounds 1 --out "$OUT" \
  --samples 8 --limit 32 --temperature 1.0 --concurrency 2 \
  --eval-limit 100 --no-compile --no-progress \
  --train.learning_rate=1e-5 --train.max_steps=20 --train.max_length=384 "$@"
