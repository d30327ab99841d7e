#!/usr/bin/env bash
# `strawberry compile --optimizer search` on the embedded SmolLM2-135M, CPU only: an optuna study over the
# strawberry loop's knobs scored on dev problems, then the recipe and the winner on held-out test problems.
# Writes eval/compile_search/report.md (the command, the report) and eval/compile_search/compile_search.png
# (optuna's history). Usage: [OBJECTIVE=band] eval/compile_search/compile_search.sh [BUDGET] [DEV] [TEST] [OUT]
# (rerunning resumes the study in OUT/study.sqlite). OBJECTIVE=band writes compile_search_band.{md,png}.
set -euo pipefail
BUDGET=${1:-12}
DEV=${2:-30}
TEST=${3:-100}
OBJECTIVE=${OBJECTIVE:-accuracy}
SUFFIX=$([ "$OBJECTIVE" = accuracy ] && echo "" || echo "_$OBJECTIVE")
OUT=${4:-runs/compiled/compile-search-eval$SUFFIX}
BENCH='reasoning_gym:basic_arithmetic?min_terms=2&max_terms=2&max_digits=1'
CMD=(strawberry compile programs/strawberry.yaml --benchmark "$BENCH" --optimizer search --objective "$OBJECTIVE" --budget "$BUDGET"
     --dev-limit "$DEV" --test-limit "$TEST" --concurrency 2 --out "$OUT")
start=$(date +%s)
"${CMD[@]}"
elapsed=$(( $(date +%s) - start ))
# the compiled file runs like a recipe: the same test problems again, as a user would
RUN=(strawberry run "$OUT/compiled.json" --limit "$TEST" --concurrency 2 --out "$OUT-run")
rm -rf "$OUT-run"
"${RUN[@]}"
rerun=$(python -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"{s['correct']}/{s['problems']} ({s['accuracy']:.1%})\")" "$OUT-run/summary.json")
RESULTS=eval/compile_search
{
  echo "# Compile: optuna search over the strawberry knobs, objective $OBJECTIVE"
  echo
  echo "Command (\`OBJECTIVE=$OBJECTIVE eval/compile_search/compile_search.sh $BUDGET $DEV $TEST\`, $elapsed s on the 2-core CPU machine):"
  echo
  printf '```\n'; printf '%q ' "${CMD[@]}"; printf '\n```\n\n'
  cat "$OUT/report.md"
  echo
  echo "The compiled file run again on the same test problems (sampling at the compiled temperature, 2 traces in"
  echo "flight, so llama.cpp's batching makes it a fresh sample, not a replay): **$rerun**."
  echo
  printf '```\n'; printf '%q ' "${RUN[@]}"; printf '\n```\n'
  echo
  echo "![optuna history](compile_search$SUFFIX.png)"
} > "$RESULTS/$([ -z "$SUFFIX" ] && echo README || echo "compile_search$SUFFIX").md"
if [ -f "$OUT/optuna_history.png" ]; then cp "$OUT/optuna_history.png" "$RESULTS/compile_search$SUFFIX.png"; fi
echo "wrote the report in $RESULTS/"
