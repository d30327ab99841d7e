#!/usr/bin/env bash
# The loop experiment (eval/results/loop.md) on the embedded SmolLM2-135M, CPU only: zero-shot, CoT, the strawberry
# recipe and a compiled strawberry program on held-out test problems (accuracy, 95% Wilson intervals), and what a
# small train-split harvest of each yields for DPO (problems in band, pairs per 1 000 generated tokens).
# Usage: eval/loop.sh [TEST] [DEV] [BUDGET] [HARVEST_PROBLEMS] [SAMPLES] [WORK]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # llama.cpp's spinning threads starve a shared CPU (eval/bootstrap_round.sh)
TEST=${1:-200}
DEV=${2:-30}
BUDGET=${3:-6}
PROBLEMS=${4:-30}
SAMPLES=${5:-4}
WORK=${6:-runs/loop}  # runs/ is git-ignored
RESULTS=eval/results
mkdir -p "$WORK"
# 1. the three recipes on the same test problems, in one process (the strawberry recipe as it was before this study)
git show 248084a:programs/strawberry.yaml > "$WORK/strawberry_as_was.yaml"
python eval/compare_programs.py programs/zero_shot.yaml programs/cot.yaml "$WORK/strawberry_as_was.yaml" \
  --limit "$TEST" --concurrency 4 --out "$RESULTS/loop_programs.md"
# 2. an optuna search over the loop's levers (eval/loop_search.yaml's search: section) on dev problems;
#    the test split is scored below, on as many problems as the recipes, so compile's own test run is kept tiny
strawberry compile eval/loop_search.yaml --optimizer search --budget "$BUDGET" --dev-limit "$DEV" --test-limit 4 \
  --concurrency 4 --out "$WORK/compiled"
cp "$WORK/compiled/report.md" "$RESULTS/loop_compile_report.md"
cp "$WORK/compiled/optuna_history.png" "$RESULTS/loop_compile_history.png"
python eval/compare_programs.py "$WORK/compiled/compiled.json" --limit "$TEST" --concurrency 4 \
  --out "$RESULTS/loop_compiled.md" --keep "$WORK/runs-compiled"
# 3. hand-made variants of the compiled program, one at a time: hot steps with cool checks (the study's trial 4),
#    and a check that asks for the last step's result, with hot and with the compiled (cool) sampling
#    (loop_last.yaml is what programs/strawberry.yaml held until eval/loop_band.sh); then chain-of-thought drawn again, traces kept
for recipe in loop_hot loop_hot_last loop_last; do
  python eval/compare_programs.py "eval/$recipe.yaml" --limit "$TEST" --concurrency 4 --out "$RESULTS/$recipe.md" \
    --keep "$WORK/runs-$recipe"
done
python eval/compare_programs.py programs/cot.yaml --limit "$TEST" --concurrency 4 --out "$RESULTS/loop_cot_again.md" \
  --keep "$WORK/runs-cot"
# 4. a small train-split harvest per program, at each program's own temperatures, and two at a harvest's 1.0
#    (the recipe as it was: git show 248084a:programs/strawberry.yaml > "$WORK/strawberry_as_was.yaml")
for program in programs/cot.yaml "$WORK/strawberry_as_was.yaml" "$WORK/compiled/compiled.json" eval/loop_hot.yaml \
               eval/loop_last.yaml eval/loop_hot_last.yaml; do
  name=$(basename "$program" | sed 's/\.[a-z]*$//')
  strawberry harvest "$program" --split train --limit "$PROBLEMS" --samples "$SAMPLES" --concurrency 4 --no-progress \
    --out "$WORK/harvest-$name"
done
for name in cot loop_last; do
  strawberry harvest "$( [ $name = cot ] && echo programs/cot.yaml || echo eval/loop_last.yaml )" --split train \
    --limit "$PROBLEMS" --samples "$SAMPLES" --concurrency 4 --no-progress --temperature 1.0 --out "$WORK/harvest-$name-t1"
done
python eval/loop_yield.py cot="$WORK/harvest-cot" strawberry="$WORK/harvest-strawberry_as_was" \
  compiled="$WORK/harvest-compiled" loop_hot="$WORK/harvest-loop_hot" loop_last="$WORK/harvest-loop_last" \
  loop_hot_last="$WORK/harvest-loop_hot_last" cot@T1.0="$WORK/harvest-cot-t1" loop_last@T1.0="$WORK/harvest-loop_last-t1" \
  --out "$RESULTS/loop_yield.json"
python eval/plot_loop.py --accuracy "$RESULTS/loop_programs.json" "$RESULTS/loop_cot_again.json" \
  "$RESULTS/loop_compiled.json" "$RESULTS/loop_hot.json" "$RESULTS/loop_hot_last.json" "$RESULTS/loop_last.json" \
  --yield "$RESULTS/loop_yield.json" --label strawberry_as_was.yaml="recipe (as was)" strawberry="recipe (as was)" \
  --out "$RESULTS/loop.png"
# paired comparisons and the last-step diagnostic
python eval/paired.py "$WORK/runs-loop_last/run0/results.jsonl" "$WORK/runs-compiled/run0/results.jsonl" \
  "$WORK/runs-loop_hot/run0/results.jsonl" "$WORK/runs-loop_hot_last/run0/results.jsonl" "$WORK/runs-cot/run0/results.jsonl"
python eval/last_step.py "$WORK"/runs-*/run0/results.jsonl
