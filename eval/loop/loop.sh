#!/usr/bin/env bash
# The loop experiment (eval/loop/report.md) on the embedded SmolLM2-135M, CPU only: zero-shot, CoT, the strawberry
# recipe and a compiled strawberry program on held-out test problems (accuracy, 95% Wilson intervals), and what a
# small train-split harvest of each yields for DPO (problems in band, pairs per 1 000 generated tokens).
# Usage: eval/loop/loop.sh [TEST] [DEV] [BUDGET] [HARVEST_PROBLEMS] [SAMPLES] [WORK]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # llama.cpp's spinning threads starve a shared CPU (eval/bootstrap_round/bootstrap_round.sh)
TEST=${1:-200}
DEV=${2:-30}
BUDGET=${3:-6}
PROBLEMS=${4:-30}
SAMPLES=${5:-4}
WORK=${6:-runs/loop}  # runs/ is git-ignored
RESULTS=eval/loop/results
# The study's variants of programs/strawberry.yaml, as --key=value overrides (they were copied YAML files):
# loop_last: the compiled levers + a check asking for the last step's result, steps at 0.3, a check every 3
# (what programs/strawberry.yaml held until eval/loop/loop_band.sh); loop_hot: the search's trial 4, hot steps and
# greedy checks with the problem restated at checks; loop_hot_last: loop_hot + the last-step check.
LOOP_LAST="--temperature=0.3 --strawberry.check_every=3"
LOOP_HOT="--strawberry.reanchor=checks --strawberry.check_prompt=null"
LOOP_HOT_LAST="--strawberry.reanchor=checks"
# the search's starting point (the recipe before the study's levers) and its search space
SEARCH_BASE="--strawberry.check_temperature=null --strawberry.step_format=plain --strawberry.reanchor=none --strawberry.demos=[] --strawberry.check_prompt=null"
SEARCH='{temperature: {choices: [0.0, 0.3, 0.7]}, check_temperature: {choices: [0.0, 0.7]}, step_format: [plain, numbered, scratchpad], reanchor: [none, nudges, checks, both], check_every: [1, 3], nudges: null, nudge_probability: null, verifier_every: null, verifier_window: null, max_turns: null, check_prefill: null}'
mkdir -p "$WORK"
# 1. the three recipes on the same test problems, in one process (the strawberry recipe as it was before this study)
git show 248084a:programs/strawberry.yaml > "$WORK/strawberry_as_was.yaml"
python eval/programs/compare_programs.py programs/zero_shot.yaml programs/cot.yaml "$WORK/strawberry_as_was.yaml" \
  --limit "$TEST" --concurrency 4 --out "$RESULTS/loop_programs.md"
# 2. an optuna search over the loop's levers ($SEARCH) on dev problems;
#    the test split is scored below, on as many problems as the recipes, so compile's own test run is kept tiny
# shellcheck disable=SC2086  # the overrides are words
strawberry compile programs/strawberry.yaml $SEARCH_BASE "--search=$SEARCH" --optimizer search --budget "$BUDGET" --dev-limit "$DEV" --test-limit 4 \
  --concurrency 4 --out "$WORK/compiled"
cp "$WORK/compiled/report.md" "$RESULTS/loop_compile_report.md"
cp "$WORK/compiled/optuna_history.png" "$RESULTS/loop_compile_history.png"
python eval/programs/compare_programs.py "$WORK/compiled/compiled.json" --limit "$TEST" --concurrency 4 \
  --out "$RESULTS/loop_compiled.md" --keep "$WORK/runs-compiled"
# 3. hand-made variants of the compiled program, one at a time: hot steps with cool checks (the study's trial 4),
#    and a check that asks for the last step's result, with hot and with the compiled (cool) sampling
#    (loop_last is what programs/strawberry.yaml held until eval/loop/loop_band.sh); then chain-of-thought drawn again, traces kept
for recipe in loop_hot loop_hot_last loop_last; do
  overrides=$(case $recipe in loop_hot) echo "$LOOP_HOT";; loop_hot_last) echo "$LOOP_HOT_LAST";; *) echo "$LOOP_LAST";; esac)
  python eval/programs/compare_programs.py "$recipe=programs/strawberry.yaml $overrides" --limit "$TEST" --concurrency 4 \
    --out "$RESULTS/$recipe.md" --keep "$WORK/runs-$recipe"
done
python eval/programs/compare_programs.py programs/cot.yaml --limit "$TEST" --concurrency 4 --out "$RESULTS/loop_cot_again.md" \
  --keep "$WORK/runs-cot"
# 4. a small train-split harvest per program, at each program's own temperatures, and two at a harvest's 1.0
#    (the recipe as it was: git show 248084a:programs/strawberry.yaml > "$WORK/strawberry_as_was.yaml")
for program in programs/cot.yaml "$WORK/strawberry_as_was.yaml" "$WORK/compiled/compiled.json" \
               "loop_hot=programs/strawberry.yaml $LOOP_HOT" "loop_last=programs/strawberry.yaml $LOOP_LAST" \
               "loop_hot_last=programs/strawberry.yaml $LOOP_HOT_LAST"; do
  name=$(basename "${program%%=*}" | sed 's/\.[a-z]*$//')
  # shellcheck disable=SC2086  # a variant is its recipe followed by its overrides
  strawberry harvest ${program#*=} --split train --limit "$PROBLEMS" --samples "$SAMPLES" --concurrency 4 --no-progress \
    --out "$WORK/harvest-$name"
done
for name in cot loop_last; do
  # shellcheck disable=SC2086
  strawberry harvest $( [ $name = cot ] && echo programs/cot.yaml || echo "programs/strawberry.yaml $LOOP_LAST" ) \
    --split train --limit "$PROBLEMS" --samples "$SAMPLES" --concurrency 4 --no-progress --temperature 1.0 \
    --out "$WORK/harvest-$name-t1"
done
python eval/loop/loop_yield.py cot="$WORK/harvest-cot" strawberry="$WORK/harvest-strawberry_as_was" \
  compiled="$WORK/harvest-compiled" loop_hot="$WORK/harvest-loop_hot" loop_last="$WORK/harvest-loop_last" \
  loop_hot_last="$WORK/harvest-loop_hot_last" cot@T1.0="$WORK/harvest-cot-t1" loop_last@T1.0="$WORK/harvest-loop_last-t1" \
  --out "$RESULTS/loop_yield.json"
python eval/loop/plot_loop.py --accuracy "$RESULTS/loop_programs.json" "$RESULTS/loop_cot_again.json" \
  "$RESULTS/loop_compiled.json" "$RESULTS/loop_hot.json" "$RESULTS/loop_hot_last.json" "$RESULTS/loop_last.json" \
  --yield "$RESULTS/loop_yield.json" --label strawberry_as_was.yaml="recipe (as was)" strawberry="recipe (as was)" \
  --out eval/loop/loop.png
# paired comparisons and the last-step diagnostic
python eval/programs/paired.py "$WORK/runs-loop_last/run0/results.jsonl" "$WORK/runs-compiled/run0/results.jsonl" \
  "$WORK/runs-loop_hot/run0/results.jsonl" "$WORK/runs-loop_hot_last/run0/results.jsonl" "$WORK/runs-cot/run0/results.jsonl"
python eval/loop/last_step.py "$WORK"/runs-*/run0/results.jsonl
