"""Review a harvest: flag traces or whole problems to keep them out of exports, unflag them, list flags and traces."""

from __future__ import annotations

import argparse

from strawberry_dspy.errors import UserError
from strawberry_dspy.review import ReviewActions, flag_lines, review, trace_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="a harvest directory (or its traces.sqlite)")
    parser.add_argument("--flag", type=int, action="append", default=[], metavar="TRACE_ID",
                        help="flag a trace (repeatable): export leaves it out")
    parser.add_argument("--flag-problem", action="append", default=[], metavar="PROBLEM_ID",
                        help="flag every trace of a problem (repeatable)")
    parser.add_argument("--note", default="", help="why: kept with each flag this call makes")
    parser.add_argument("--unflag", type=int, action="append", default=[], metavar="TRACE_ID",
                        help="remove a trace's flag (repeatable)")
    parser.add_argument("--unflag-problem", action="append", default=[], metavar="PROBLEM_ID",
                        help="remove a problem's flag (repeatable)")
    parser.add_argument("--list", action="store_true", help="print every flag (tab-separated)")
    parser.add_argument("--traces", nargs="?", const="", metavar="PROBLEM_ID",
                        help="print every trace (or one problem's) with its id, answer and flag (tab-separated)")


def main(args: argparse.Namespace) -> int:
    if args.overrides:
        raise UserError(f"review takes no --key=value overrides (got {args.overrides[0]!r}): see `strawberry review --help`")
    actions = ReviewActions(args.flag, args.flag_problem, args.unflag, args.unflag_problem, args.note)
    if not actions and not args.list and args.traces is None:
        raise UserError("nothing to do: pass --flag TRACE_ID, --flag-problem ID, --unflag TRACE_ID, "
                        "--unflag-problem ID, --list or --traces")
    if args.note and not (args.flag or args.flag_problem):
        raise UserError(f"--note {args.note!r} belongs to a flag: pass --flag TRACE_ID or --flag-problem ID with it")
    lines = review(args.dir, actions) if actions else []
    if args.traces is not None:
        lines += trace_lines(args.dir, args.traces or None)
    if args.list:
        lines += flag_lines(args.dir)
    print("\n".join(lines))
    return 0
