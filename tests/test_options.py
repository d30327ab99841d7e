"""Command options from dataclasses: flags, defaults and help from the fields; --config YAML; --key=value; one line on error."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from strawberry_dspy.band import DEFAULT_BAND, Band
from strawberry_dspy.cli import build_parser
from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.compile import CompileSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.options import add_options, option, options_from_args, split_options


@dataclass
class Inner:
    name: str = option("plain", "which kind", flag="--kind")
    count: int | None = option(None, "how many", shown="2 for fancy")

    def validate(self) -> None:
        if self.count is not None and self.count < 0:
            raise UserError(f"--count must be >= 0, got {self.count}")


@dataclass
class Toy:
    size: int = option(3, "how big", aliases=("-s",))
    ratio: float = option(0.5, "a share")
    label: str | None = option(None, "a label")
    band: Band = option(DEFAULT_BAND, "the band")
    style: str = option("a", "the style", choices=("a", "b"))
    fresh: bool = option(False, "start over")
    progress: bool = option(True, "no progress bar")
    factor: float = option(0.0, "repeat rows", nargs="?", const=1.0, metavar="FACTOR")
    inner: Inner = field(default_factory=Inner)
    hidden: list[str] = field(default_factory=lambda: ["x"])  # no help: YAML and --key=value only

    def validate(self) -> None:
        self.inner.validate()
        if self.size < 1:
            raise UserError(f"--size must be >= 1, got {self.size}")


def _parse(argv: list[str], overrides: list[str] = ()) -> Toy:
    parser = argparse.ArgumentParser()
    add_options(parser, Toy)
    args = parser.parse_args(argv)
    args.overrides = list(overrides)
    return options_from_args(Toy, args)


def test_defaults_come_from_the_dataclass():
    assert _parse([]) == Toy()


def test_flags_take_the_fields_types_and_names():
    toy = _parse(["-s", "5", "--ratio", "1", "--label", "x", "--band", "0.2", "0.8", "--style", "b", "--fresh",
                  "--no-progress", "--factor", "--kind", "fancy", "--count", "2"])
    assert toy == Toy(size=5, ratio=1.0, label="x", band=Band(0.2, 0.8), style="b", fresh=True, progress=False,
                      factor=1.0, inner=Inner("fancy", 2))
    assert _parse(["--factor", "2.5"]).factor == 2.5


def test_help_sits_next_to_each_flag_with_the_default():
    parser = argparse.ArgumentParser()
    add_options(parser, Toy)
    text = " ".join(parser.format_help().split())
    for fragment in ("--size SIZE, -s SIZE how big (default 3)", "--band LO HI the band (default 0.1 0.9)",
                     "--no-progress no progress bar", "--kind KIND which kind (default plain)",
                     "--count COUNT how many (default: 2 for fancy)", "--style {a,b}", "--config FILE.yaml"):
        assert fragment in text
    assert "--hidden" not in text


def test_yaml_file_then_overrides_then_flags(tmp_path):
    config = tmp_path / "opts.yaml"
    config.write_text("size: 4\nratio: 0.25\nband: [0.3, 0.7]\nkind: fancy\nhidden: [y, z]\n")
    toy = _parse(["--config", str(config), "--ratio", "0.75"], ["--size=6", "--inner.count=1"])
    assert (toy.size, toy.ratio, toy.band, toy.inner, toy.hidden) == (6, 0.75, Band(0.3, 0.7), Inner("fancy", 1),
                                                                      ["y", "z"])


@pytest.mark.parametrize("text, message", [
    ("sise: 4\n", "opts.yaml: unknown key 'sise': valid keys are size, ratio"),
    ("size: four\n", "opts.yaml: 'size' must be int, got 'four'"),
    ("band: [0.1]\n", "opts.yaml: 'band' must be a pair of pass rates [LO, HI], got [0.1]"),
    ("inner: {nme: x}\n", "opts.yaml: unknown key 'inner.nme'"),
])
def test_a_bad_yaml_key_or_type_names_the_key_and_the_file(tmp_path, text, message):
    config = tmp_path / "opts.yaml"
    config.write_text(text)
    with pytest.raises(UserError) as exc:
        _parse(["--config", str(config)])
    assert str(exc.value).startswith(str(tmp_path)) and message in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("overrides, message", [
    (["--sise=4"], "command line: unknown key 'sise'"),
    (["--ratio=high"], "command line: 'ratio' must be float, got 'high'"),
    (["--label=3"], "command line: 'label' must be str, got 3"),
    (["--band=[0.9, 0.1]"], r"--band 0.9 0.1 is not a range of pass rates"),
    (["--size=0"], "--size must be >= 1, got 0"),
    (["--count=-1"], "--count must be >= 0, got -1"),
])
def test_a_bad_override_is_one_user_error(overrides, message):
    with pytest.raises(UserError, match=message):
        _parse([], overrides)


def test_a_missing_config_file_is_one_user_error(tmp_path):
    with pytest.raises(UserError, match="--config '.*nope.yaml' is not a file"):
        _parse(["--config", str(tmp_path / "nope.yaml")])


def test_overrides_are_split_between_the_options_and_the_recipe():
    mine, rest = split_options(CompileSettings, {"samples": 4, "objective": "band", "dev_limit": 3, "seed": 1,
                                                 "strawberry": {"max_turns": 6}})
    assert mine == {"objective": {"samples": 4, "name": "band"}, "dev_limit": 3}
    assert rest == {"seed": 1, "strawberry": {"max_turns": 6}}


def test_every_command_reads_its_defaults_from_its_dataclass():
    from strawberry_dspy.cli.bootstrap import settings_from_args
    from strawberry_dspy.cli.export import config_from_args
    from strawberry_dspy.export import ExportSettings
    from strawberry_dspy.harvest import HarvestSettings
    from strawberry_dspy.harvest.stats import StatsSettings

    def args(*argv):
        parsed = build_parser().parse_args(list(argv))
        parsed.overrides = []
        return parsed

    assert config_from_args(args("export", "DIR")) == ExportSettings()
    assert options_from_args(HarvestSettings, args("harvest", "programs/cot.yaml")) == HarvestSettings()
    assert options_from_args(CompileSettings, args("compile", "programs/cot.yaml")) == CompileSettings()
    assert options_from_args(StatsSettings, args("stats", "DIR")) == StatsSettings()
    settings = settings_from_args(args("bootstrap", "programs/cot.yaml"))
    assert (settings.compile_budget, settings.samples, settings.band) == (4, 8, DEFAULT_BAND)  # 4: the unified default
    assert settings_from_args(args("bootstrap", "programs/cot.yaml", "--no-compile")).compile_budget == 0
    with pytest.raises(UserError, match="--no-compile and --compile-budget 2 contradict"):
        settings_from_args(args("bootstrap", "programs/cot.yaml", "--no-compile", "--compile-budget", "2"))


def test_the_cli_prints_one_line_for_a_bad_config_file(tmp_path, capsys):
    config = tmp_path / "export.yaml"
    config.write_text("format: dpo\nmax_pair: 2\n")
    assert cli_main(["export", str(tmp_path), "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {config}: unknown key 'max_pair': valid keys are format, style, band, sft_form, nudges, "
                   "system, thinking, max_pairs, weighting, alpha, resample, seed, eval_splits, decontam_benchmark, "
                   "demos, decontam_limit, ngram, ngram_threshold, to, push_to_hub, private, steps_hold")


def test_the_recipe_flags_of_every_command_come_from_program_settings():
    from dataclasses import fields

    from strawberry_dspy.config import ProgramSettings
    from strawberry_dspy.options import recipe_overrides

    helps = {f.name: f.metadata["help"] for f in fields(ProgramSettings) if "help" in f.metadata}
    assert set(helps) == {"model", "api_base", "benchmark", "split", "limit", "concurrency"}
    for command, names in (("run", helps), ("harvest", helps), ("compile", ("model", "api_base", "benchmark",
                                                                          "concurrency")), ("bootstrap", ("concurrency",))):
        sub = next(a for a in build_parser([command])._actions if isinstance(a, argparse._SubParsersAction))
        flags = {a.dest.removeprefix("recipe."): a for a in sub.choices[command]._actions if a.dest.startswith("recipe.")}
        assert set(flags) == set(names), command
        assert all(flags[name].help.startswith(helps[name]) for name in names)

    def overrides(*argv):
        parsed = build_parser(list(argv)).parse_args(list(argv))
        parsed.overrides = ["--seed=3"]
        return recipe_overrides(parsed)

    assert overrides("run", "P", "--model", "openai/x", "--limit", "5") == {"seed": 3, "model": "openai/x", "limit": 5}
    assert overrides("harvest", "P") == {"seed": 3, "split": "train"}  # harvests are training data
    assert overrides("harvest", "P", "--split", "dev")["split"] == "dev"
