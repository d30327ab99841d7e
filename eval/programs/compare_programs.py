"""Compare reasoning programs side by side on one benchmark split, in one run.

    python eval/programs/compare_programs.py programs/zero_shot.yaml programs/cot.yaml programs/strawberry.yaml \
        --limit 50 --out eval/programs/report.md
    python eval/programs/compare_programs.py cot "hot=strawberry --temperature=1.0 --strawberry.check_every=3" ...

A PROGRAM is a recipe (a packaged recipe's name or a file) or a compiled program, optionally named and followed by
its own --key=value overrides in one argument: `NAME=RECIPE --key=value ...` (a variant without a copied file).

Each program runs on the same problems with the same model; the table (accuracy with a
95% Wilson interval, steps, tokens, time) is written with the command that produced it.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

from strawberry_dspy.config import parse_overrides
from strawberry_dspy.stats import wilson
from strawberry_dspy.program_file import load_program_file
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.report import format_grid
from strawberry_dspy.run import run


def program_spec(text: str) -> tuple[str, str, dict]:
    """(name, recipe path, overrides) of a PROGRAM argument: `RECIPE` or `NAME=RECIPE --key=value ...`."""
    words = shlex.split(text)
    name, sep, recipe = words[0].partition("=")
    if not sep or "/" in name:  # a plain path (which may hold '=' further on)
        name, recipe = Path(words[0]).name, words[0]
    return name, recipe, parse_overrides(words[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("programs", nargs="+", metavar="PROGRAM", help="RECIPE, or NAME=RECIPE --key=value ... (quoted)")
    parser.add_argument("--benchmark")
    parser.add_argument("--model")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--out", default="eval/programs/report.md")
    parser.add_argument("--keep", help="keep the run directories under this folder (default: a temporary one)")
    args = parser.parse_args()
    overrides = {"split": args.split, "limit": args.limit, "concurrency": args.concurrency}
    overrides.update({k: v for k, v in (("benchmark", args.benchmark), ("model", args.model)) if v})
    rows, configs, summaries = [], [], {}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        for i, spec in enumerate(args.programs):
            name, path, own = program_spec(spec)
            config, program = load_program_file(path, {**own, **overrides})  # a recipe or a compiled program
            configs.append(config)
            _, s, _ = run(config, Path(tmp) / f"run{i}", program)
            summaries[name] = s
            lo, hi = wilson(s["correct"], s["problems"])
            rows.append([name, f"{s['accuracy']:.1%}", f"[{lo:.1%}, {hi:.1%}]", f"{s['correct']}/{s['problems']}",
                         f"{s['mean_steps']:.1f}", str(s["completion_tokens"]),
                         f"{s['cached_tokens'] / s['prompt_tokens']:.0%}" if s["prompt_tokens"] else "-", f"{s['wall_s']:.0f}"])
    table = format_grid(["program", "accuracy", "95% CI", "correct", "mean steps", "completion tok", "prompt cached", "time s"], rows)
    command = "python " + shlex.join(sys.argv)
    versions = package_versions()
    text = (f"# Programs compared\n\nCommand: `{command}`\n\nBenchmark: `{configs[0].benchmark}` ({args.split} split, "
            f"{args.limit} problems), model `{configs[0].model}`, dspy {versions.get('dspy')}, xllamacpp {versions.get('xllamacpp')}.\n\n"
            f"```\n{table}\n```\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    # the summaries beside the table, for plots (eval/loop/plot_loop.py)
    Path(args.out).with_suffix(".json").write_text(json.dumps(summaries, indent=2, default=str))
    print(text)


if __name__ == "__main__":
    main()
