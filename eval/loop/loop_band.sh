#!/usr/bin/env bash
# The band objective and the strawberry bootstrap round (eval/loop/report.md "The band objective",
# eval/bootstrap_round/report.md): compile the tuned loop for problems in the pass-rate band, score the result on held-out
# test problems, harvest it on the train split (problems in band, DPO pairs per 1 000 tokens), try MIPROv2 with the
# local model as its proposer, and run bootstrap rounds harvested with the tuned and the band-compiled loop.
# Needs eval/loop/loop.sh's harvests in WORK for the yield table's other rows. Stages already done are skipped.
# Usage: eval/loop/loop_band.sh [WORK]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # llama.cpp's spinning threads starve a shared CPU (eval/bootstrap_round/bootstrap_round.sh)
WORK=${1:-runs/loop}
RESULTS=eval/loop/results
LOOP_LAST="--temperature=0.3 --strawberry.check_every=3"  # eval/loop/loop.sh's loop_last variant
BAND_SEARCH='{temperature: {choices: [0.3, 0.7, 1.0]}, check_temperature: {choices: [0.0, 0.7]}, check_every: [2, 3], nudges: null, nudge_probability: null, verifier_every: null, verifier_window: null, max_turns: null, check_prefill: null, step_format: null, reanchor: null, demos: null}'
mkdir -p "$WORK"
# 1. the band compile: 4 optuna trials over step / check temperature and check cadence ($BAND_SEARCH), starting from
#    loop_last, each scored as problems in band over 4 samples of 24 dev problems
# shellcheck disable=SC2086
[ -f "$WORK/compile-band/compiled.json" ] || strawberry compile programs/strawberry.yaml $LOOP_LAST "--search=$BAND_SEARCH" \
  --objective band --optimizer search \
  --budget 4 --dev-limit 24 --samples 4 --test-limit 4 --concurrency 2 --out "$WORK/compile-band"
cp "$WORK/compile-band/report.md" "$RESULTS/loop_band_compile_report.md"
cp "$WORK/compile-band/compiled.json" "$WORK/band_compiled.json"  # its own name in the tables (compiled.json is eval/loop/loop.sh's)
# 2. its train-split harvest (30 x 4, as eval/loop/loop.sh's), at its own temperatures and at a bootstrap's 1.0
[ -d "$WORK/harvest-band" ] || strawberry harvest "$WORK/band_compiled.json" --split train --limit 30 --samples 4 \
  --concurrency 2 --no-progress --out "$WORK/harvest-band"
[ -d "$WORK/harvest-band-t1" ] || strawberry harvest "$WORK/band_compiled.json" --split train --limit 30 \
  --samples 4 --concurrency 2 --no-progress --temperature 1.0 --out "$WORK/harvest-band-t1"
# 3. the band-compiled program on the 200 test problems of eval/loop/loop.sh, traces kept for paired comparisons
[ -f "$RESULTS/loop_band.json" ] || python eval/programs/compare_programs.py "$WORK/band_compiled.json" --limit 200 \
  --concurrency 2 --out "$RESULTS/loop_band.md" --keep "$WORK/runs-band"
python eval/loop/loop_yield.py cot="$WORK/harvest-cot" strawberry="$WORK/harvest-strawberry_as_was" \
  compiled="$WORK/harvest-compiled" loop_hot="$WORK/harvest-loop_hot" loop_last="$WORK/harvest-loop_last" \
  loop_hot_last="$WORK/harvest-loop_hot_last" band_compiled="$WORK/harvest-band" cot@T1.0="$WORK/harvest-cot-t1" \
  loop_last@T1.0="$WORK/harvest-loop_last-t1" band_compiled@T1.0="$WORK/harvest-band-t1" --out "$RESULTS/loop_yield.json"
python eval/loop/plot_loop.py --accuracy "$RESULTS/loop_programs.json" "$RESULTS/loop_cot_again.json" \
  "$RESULTS/loop_compiled.json" "$RESULTS/loop_hot.json" "$RESULTS/loop_hot_last.json" "$RESULTS/loop_last.json" \
  "$RESULTS/loop_band.json" --yield "$RESULTS/loop_yield.json" \
  --label strawberry.yaml="recipe (as was)" strawberry_as_was.yaml="recipe (as was)" strawberry="recipe (as was)" \
  --out eval/loop/loop.png   # loop_programs.json names the recipe as it was strawberry.yaml
python eval/programs/paired.py "$WORK/runs-band/run0/results.jsonl" "$WORK/runs-loop_last/run0/results.jsonl" \
  "$WORK/runs-cot/run0/results.jsonl" "$WORK/runs-loop_hot_last/run0/results.jsonl"
# 4. MIPROv2, tiny, with the 135M model proposing its own instructions
[ -f "$WORK/compile-mipro/report.md" ] || strawberry compile programs/strawberry.yaml --optimizer mipro --budget 2 \
  --dev-limit 8 --train-limit 8 --test-limit 4 --concurrency 2 --out "$WORK/compile-mipro" || true  # a failure is a result here
# 5. one bootstrap round harvested with the tuned strawberry program, beside eval/bootstrap_round/bootstrap_round.sh's CoT round
#    (run as programs/strawberry.yaml while it held loop_last's settings: steps at 0.3, a check every 3),
#    and one harvested with the band-compiled program (= programs/strawberry.yaml since)
# shellcheck disable=SC2086
eval/bootstrap_round/bootstrap_round.sh programs/strawberry.yaml runs/bootstrap-strawberry $LOOP_LAST
eval/bootstrap_round/bootstrap_round.sh "$WORK/band_compiled.json" runs/bootstrap-band
python eval/bootstrap_round/plot_bootstrap.py cot=17/100:23/100:56:21495 strawberry=runs/bootstrap-strawberry \
  strawberry_band=runs/bootstrap-band --out eval/bootstrap_round/bootstrap_programs.png   # CoT: as recorded in bootstrap.md
