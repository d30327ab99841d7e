"""A compiled program on disk: DSPy's own `program.save()` JSON plus our metadata under one key.

The file is what `program.save(path)` writes (each predictor's instructions and demos, and
DSPy's dependency versions) with a `"strawberry"` key added: the compiled ProgramSettings (knobs
chosen, benchmark, split and seed so `strawberry run compiled.json` reproduces the test
score), the base program YAML with its hash, the optimizer, budget, LM calls and scores.
`dspy.Module.load()` ignores the extra key, so the file stays a plain DSPy state file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dspy

from strawberry_dspy.config import ProgramSettings, config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.leaks import RECORD_ATTR
from strawberry_dspy.program.build import build_program
from strawberry_dspy.provenance import check_versions
from strawberry_dspy.text_input import read_text
from strawberry_dspy.stage_output import (OutputKind, check_claim, check_creatable, check_output_file, claim_dir,
                                         make_dir, write_file)

FORMAT = "strawberry-compiled/1"
META_KEY = "strawberry"
# a compile directory resumes its study; compiled.json in it is replaced atomically on every compile
COMPILE_OUTPUT = OutputKind("compile", "compiled program", ("compiled.json", "study.sqlite", "compile.log"))
COMPILE_REPORT = OutputKind("compile", "compile report")  # beside a compiled file: report.md and the study's plot


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def program_structure(program: dspy.Module) -> str:
    """A hash of the program's shape: predictor names and their fields (what the saved state must fit)."""
    shape = [(name, list(p.signature.input_fields), list(p.signature.output_fields))
             for name, p in program.named_predictors()]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def base_program_record(path: str | Path) -> dict:
    """Where the recipe was, its text and hash: what a compiled file was compiled from."""
    path = Path(path)
    text = path.read_text()
    return {"path": str(path), "absolute_path": str(path.resolve()), "sha256": text_hash(text), "yaml": text}


def save_compiled(path: str | Path, program: dspy.Module, config: ProgramSettings, metadata: dict) -> Path:
    """Write program.save() JSON plus metadata, atomically (a temp file renamed over the target)."""
    def write(tmp: Path) -> None:
        program.save(str(tmp))
        state = json.loads(tmp.read_text())
        state[META_KEY] = {"format": FORMAT, "config": config.to_dict(), "structure": program_structure(program),
                           **metadata}
        tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n")

    return write_file(Path(path), write)


def check_compile_output(out_dir: Path, compiled_path: Path, file_form: bool, side_files: list[str],
                         source: Path) -> None:
    """Refuse (one line) a compile output that would replace what compile did not write; nothing is created.

    A directory --out is the compile's own (it resumes its study there). With --out X.json the folder is the
    user's: X.json must be new or a compiled program, and the report files beside it new or from compiling X.json.
    """
    if file_form:
        check_output_file(compiled_path, COMPILE_OUTPUT, is_compiled)
        if not compiled_path.exists():
            for name in side_files:
                check_output_file(out_dir / name, COMPILE_REPORT, lambda path: False)
        check_creatable(out_dir)
    else:
        check_claim(out_dir, COMPILE_OUTPUT, sources=[source])


def claim_compile_output(out_dir: Path, compiled_path: Path, file_form: bool, side_files: list[str],
                         source: Path) -> None:
    """check_compile_output, then make the output's folder."""
    check_compile_output(out_dir, compiled_path, file_form, side_files, source)
    if file_form:
        make_dir(out_dir)
    else:
        claim_dir(out_dir, COMPILE_OUTPUT, sources=[source])


def is_compiled(path: Path) -> bool:
    """Whether a file is a compiled program written by strawberry compile (what `--out X.json` may replace)."""
    try:
        read_metadata(path)
    except UserError:
        return False
    return True


def read_metadata(path: str | Path) -> dict:
    """The metadata of a compiled file; a file that is not one is a UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"compiled program not found: {str(path)!r}; pass a compiled.json written by strawberry compile")
    try:
        state = json.loads(read_text(path, "compiled program"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); pass a compiled.json written by strawberry compile") from None
    meta = state.get(META_KEY) if isinstance(state, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(f"{path}: not a compiled strawberry program (no '{META_KEY}' metadata of format {FORMAT}); "
                        "pass a compiled.json written by strawberry compile, or a program YAML")
    return meta


def check_base_program(path: Path, meta: dict) -> None:
    """Reject a compiled file whose base recipe has changed since it was compiled (its settings, not its comments
    or layout: the same YAML data is the same recipe)."""
    base = meta.get("base_program") or {}
    for candidate in (base.get("path"), base.get("absolute_path")):
        if candidate and Path(candidate).is_file():
            text = Path(candidate).read_text()
            now = text_hash(text)
            if now != base.get("sha256") and not _same_data(text, base.get("yaml")):
                raise UserError(f"{path} was compiled from {candidate} (hash {base.get('sha256')}), which has changed "
                                f"since (hash {now}): recompile it with strawberry compile {candidate} ...")
            return


def _same_data(text: str, compiled_from: str | None) -> bool:
    import yaml

    from strawberry_dspy import safe_yaml

    try:
        return compiled_from is not None and safe_yaml.load(text) == safe_yaml.load(compiled_from)
    except yaml.YAMLError:
        return False


def load_compiled(path: str | Path, overrides: dict | None = None) -> tuple[ProgramSettings, dspy.Module]:
    """The compiled config (with overrides) and its program with the optimized instructions and demos."""
    path = Path(path)
    meta = read_metadata(path)
    check_base_program(path, meta)
    check_versions(meta.get("versions"), f"compiled program {path}")  # DSPy's load checks python and dspy only
    config = config_from_dict(meta.get("config") or {}, overrides, str(path))
    program = build_program(config)
    if program_structure(program) != meta.get("structure"):
        raise UserError(f"{path} was compiled for another version of the '{config.program}' program (its predictors "
                        "or their fields have changed): recompile it with strawberry compile")
    try:
        program.load(str(path))
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: the saved program state does not fit the '{config.program}' program ({exc}); "
                        "recompile it with strawberry compile") from None
    setattr(program, RECORD_ATTR, meta.get("demo_problems") or [])  # its demos' problems: never asked as unseen
    return config, program
