#!/usr/bin/env bash
# The powered bootstrap experiment (eval/bootstrap_power/README.md): base vs rft vs dpo+NLL vs rft+dpo on
# 300 frozen held-out problems x 4 samples, harvested from 300 train problems x 4 samples with the shipped
# strawberry program; the arm best on dev continues into round 2. Resumable: rerun the same command.
# Usage: eval/bootstrap_power/run.sh [OUT] [ROUNDS]   then: python eval/bootstrap_power/collect.py OUT
# The round harvested with chain-of-thought beside it: PROGRAM=cot ARMS=rft,dpo eval/bootstrap_power/run.sh OUT_COT 1
#   then: python eval/bootstrap_power/collect.py OUT_COT --name cot
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # llama.cpp's threads spin otherwise on a shared CPU
OUT=${1:-runs/bootstrap-power}
ROUNDS=${2:-2}
# seed=2026: a draw of the task that no earlier choice of this project was made on (those read seed 0's test split)
exec strawberry bootstrap "${PROGRAM:-programs/strawberry.yaml}" \
  --benchmark 'reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1&seed=2026' \
  --rounds "$ROUNDS" --out "$OUT" \
  --samples 4 --limit 300 --temperature 1.0 \
  --eval-limit 300 --eval-samples 4 --dev-limit 100 \
  --arms "${ARMS:-rft,dpo,rft+dpo}" --no-compile --no-progress --concurrency "${CONCURRENCY:-2}" \
  --train.learning_rate=1e-5 --train.max_steps=20 --train.max_length=384 --train.rpo_alpha=1.0
