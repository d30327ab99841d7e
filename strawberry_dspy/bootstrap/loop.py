"""`strawberry bootstrap`: rounds of compile -> harvest -> band -> export -> train -> held-out eval -> level up.

OUT/
  bootstrap.json          the loop's identity (a rerun must match it) and the command that made it
  round-N/round.json      the round's starting model, benchmark (level) and arms
  round-N/<stage>/        the stage's artifacts and done.json, the marker that it finished (what it produced, its
                          wall and CPU seconds, how often it read the test split)
  rounds.md, rounds.png   the round table and plot, rewritten after every round
A rerun skips every stage whose marker exists and resumes at the first unfinished one.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from strawberry_dspy.bootstrap import stages
from strawberry_dspy.bootstrap.curriculum import level_of
from strawberry_dspy.bootstrap.report import write_report
from strawberry_dspy.bootstrap.settings import BootstrapSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.stage_output import (DONE_MARKER, OutputKind, check_claim, claim_dir, lock_output, log_to,
                                         read_done, remove_created, task_slug, write_done, write_json)

IDENTITY_FILE = "bootstrap.json"
ROUND_FILE = "round.json"
BOOTSTRAP_DIR = OutputKind("bootstrap", "bootstrap loop", (IDENTITY_FILE,))


@dataclass
class BootstrapResult:
    """Where the loop wrote, each round's markers, and the (round, stage) pairs this invocation ran."""

    out: Path
    rounds: list[dict] = field(default_factory=list)  # per round: {"round", "model", "benchmark", "level", stages...}
    ran: list[tuple[int, str]] = field(default_factory=list)
    model: str = ""  # the model the next round would start from


def default_out(settings: BootstrapSettings) -> Path:
    """runs/bootstrap-<recipe>-<task>-<hash of the identity>."""
    return Path("runs") / f"bootstrap-{Path(settings.program).stem}-{task_slug(settings.benchmark)}-{settings.digest()}"


def lock_out(out: Path):
    """Hold an exclusive lock on OUT for this process (released by the OS even on SIGKILL)."""
    return lock_output(out, BOOTSTRAP_DIR, f"another strawberry bootstrap is running in {out}; wait for it to finish "
                                       "or pass another --out")


def check_identity(out: Path, settings: BootstrapSettings, fresh: bool, command: str | None) -> None:
    """Claim OUT for this loop, or refuse one that holds another loop (or other files) with one line."""
    if fresh:  # the loop's own files only: whatever else a user put into OUT stays
        remove_created(out, [IDENTITY_FILE, "rounds.md", "rounds.png", *(p.name for p in out.glob("round-*"))])
    refuse_other_setup(out, settings)
    if not (out / IDENTITY_FILE).is_file():
        write_json(out / IDENTITY_FILE, {"identity": settings.identity(), "command": command,
                                         "versions": package_versions(), "created": time.strftime("%Y-%m-%d %H:%M:%S")})


def refuse_other_setup(out: Path, settings: BootstrapSettings) -> None:
    """One line (UserError) when OUT holds another loop's rounds, or rounds of no loop; nothing is written."""
    wanted, path = settings.identity(), out / IDENTITY_FILE
    if path.is_file():
        stored = json.loads(path.read_text()).get("identity", {})
        if "program" in stored:  # older loops stored the program's absolute path; its name and text identify it
            stored["program"] = Path(str(stored["program"])).name
        different = [k for k in sorted(set(wanted) | set(stored))
                     if stored.get(k) != json.loads(json.dumps(wanted.get(k)))]
        if different:
            diffs = "; ".join(f"{k} {_short(stored.get(k))} there, {_short(wanted.get(k))} now" for k in different[:3])
            raise UserError(f"{out} holds a bootstrap of another setup ({diffs}): pass another --out, "
                            "or --fresh to delete its rounds and start over")
    elif any(out.glob("round-*")):
        raise UserError(f"{out} holds round directories but no {IDENTITY_FILE}, so they are not from this loop: "
                        "pass another --out, or --fresh to delete them")


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def start_model(spec: str) -> str:
    """The model round 1 starts from, served the way every trained model is (an HF folder written to GGUF).

    A GGUF spec ('local', 'local:/x.gguf') is converted to its Hugging Face folder (cached), so the before
    and after figures differ by the training alone, not by the GGUF's quantization.
    """
    if spec == "local" or spec.startswith("local:"):
        from strawberry_dspy.train.convert import base_model_folder

        return f"hf:{base_model_folder(spec).resolve()}"
    if not spec.startswith("hf:"):
        raise UserError(f"bootstrap trains its model each round, so --model must be weights on this machine: "
                        f"'local', 'local:/path/model.gguf' or 'hf:/path/to/folder', got {spec!r}")
    from strawberry_dspy.models.hf import parse_hf_spec

    parse_hf_spec(spec)  # a folder that is not there fails here, before the output folder exists
    return spec


def cpu_seconds() -> float:
    """CPU time of this process (all its threads: the embedded engine, training) and its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_round(ctx: stages.RoundContext, ran: list[tuple[int, str]]) -> dict[str, dict]:
    """Run the round's unfinished stages in order; return every stage's marker."""
    for name, stage in stages.stage_plan(ctx):
        marker = read_done(ctx.stage_dir(name))
        if marker is None:
            logger.info("round {}: {} ...", ctx.number, name)
            started, cpu = time.perf_counter(), cpu_seconds()
            ctx.stage_dir(name).mkdir(parents=True, exist_ok=True)
            marker = stage(ctx)
            marker["wall_s"] = round(time.perf_counter() - started, 1)
            marker["cpu_s"] = round(cpu_seconds() - cpu, 1)
            write_done(ctx.stage_dir(name), marker)
            ran.append((ctx.number, name))
        else:
            logger.info("round {}: {} done already ({}), skipped", ctx.number, name, ctx.stage_dir(name) / DONE_MARKER)
        ctx.done[name] = marker
    return ctx.done


def bootstrap(settings: BootstrapSettings, out: str | Path | None = None, *, fresh: bool = False,
              progress: bool = True, command: str | None = None) -> BootstrapResult:
    """Run (or resume) the rounds; write the round table and plot after each round."""
    from strawberry_dspy.benchmarks import load_benchmark
    from strawberry_dspy.train import require_train_extra

    settings.validate()
    require_train_extra(purpose="strawberry bootstrap (each round trains)")
    benchmark = load_benchmark(settings.benchmark)  # a bad spec or too few problems fail before any work
    benchmark.problems("train", settings.limit)
    benchmark.problems("test", settings.eval_limit)
    benchmark.problems("dev", settings.dev_limit)
    out = Path(out) if out else default_out(settings)
    check_claim(out, BOOTSTRAP_DIR, sources=[settings.program])  # what is refused, refused before the model loads
    if not fresh:
        refuse_other_setup(out, settings)
    model = start_model(settings.model)  # the model before the folder: one that cannot load leaves nothing behind
    claim_dir(out, BOOTSTRAP_DIR, sources=[settings.program])
    lock = lock_out(out)
    try:
        check_identity(out, settings, fresh, command)
        with log_to(out / "bootstrap.log"):
            return _run_rounds(out, settings, model, progress)
    finally:
        lock.close()


def _run_rounds(out: Path, settings: BootstrapSettings, model: str, progress: bool) -> BootstrapResult:
    """The rounds from `model`, each resumed at its first unfinished stage."""
    result = BootstrapResult(out)
    spec = settings.benchmark
    previous: dict[str, dict] = {}
    for number in range(1, settings.rounds + 1):
        arms = settings.arm_list() if number == 1 else [previous["advance"]["arm"]]
        ctx = stages.RoundContext(settings, number, out / f"round-{number}", model, spec, level_of(spec),
                                  progress, previous=previous, arms=arms)
        _check_round(ctx)
        done = run_round(ctx, result.ran)
        result.rounds.append({"round": number, "model": model, "benchmark": spec, "level": ctx.level, "arms": arms,
                              **done})
        write_report(out, result.rounds, settings)
        model, spec, previous = done["advance"]["model"], done["advance"]["benchmark"], done
    result.model = model
    return result


def _check_round(ctx: stages.RoundContext) -> None:
    """A round directory must hold the round these inputs describe (else: one line, and nothing is touched)."""
    path, wanted = ctx.dir / ROUND_FILE, {"round": ctx.number, "model": ctx.model, "benchmark": ctx.benchmark,
                                          "level": ctx.level, "arms": ctx.arms}
    if path.is_file():
        stored = json.loads(path.read_text())
        if stored != wanted:
            raise UserError(f"{ctx.dir} was started from model {stored.get('model')!r} on {stored.get('benchmark')!r}, "
                            f"not {ctx.model!r} on {ctx.benchmark!r}: pass another --out, or --fresh to start over")
        return
    write_json(path, wanted)
