"""The ``symsys`` command line.

Each subcommand lives in ``symsys/commands/<name>.py`` with ``HELP``, ``EXAMPLES``,
``add_arguments(parser)`` and ``run(args) -> (text, data)``: ``text`` is printed, ``data``
(JSON-serialisable) is printed instead under ``--json``. User mistakes exit 1 with one
readable line (or a JSON error object under ``--json``), usage errors exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings

COMMANDS = ("solve", "serve", "cost", "train", "sweep", "stream", "sensitivity", "synthesize",
            "derive",
            "zoo", "show", "plot", "validate")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage error: one line, exit 2
        self.print_usage(sys.stderr)
        print(f"symsys: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _load(name: str):
    try:
        return importlib.import_module(f"symsys.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"symsys.commands.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    from symsys._version import __version__

    parser = _Parser(prog="symsys", description="Symbolic ML-systems performance models.",
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog="Run 'symsys COMMAND --help' for a command's options and examples.")
    parser.add_argument("--version", action="version", version=f"symsys {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = _load(name)
        if module is None:
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP,
                                 epilog="examples:\n" + module.EXAMPLES,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_argument("--json", action="store_true", help="machine-readable output")
        module.add_arguments(command)
        command.set_defaults(_module=module, _parser=command)
    return parser


def _unrecognized(args, extras: list[str]) -> int:
    """Arguments the command does not take: a usage error of the command (exit 2) that names
    the closest of its options for each mistyped one."""
    from symsys.errors import close_matches, did_you_mean

    command = args._parser
    options = [s for action in command._actions for s in action.option_strings
               if s.startswith("--")]
    hints = "".join(did_you_mean(close_matches(extra.split("=")[0], options, 3))
                    for extra in extras if extra.startswith("--"))
    command.print_usage(sys.stderr)
    print(f"symsys {args.command}: error: unrecognized arguments: {' '.join(extras)}."
          f"{hints}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    from symsys.errors import SymsysError

    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if not getattr(args, "command", None):
        if extras:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        parser.print_help()
        return 2
    if extras:
        return _unrecognized(args, extras)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            text, data = args._module.run(args)
    except SymsysError as exc:
        if args.json:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        else:
            print(f"symsys {args.command}: {exc}", file=sys.stderr)
        return 1
    try:
        if args.json:
            print(json.dumps(data, indent=2, default=_jsonable))
        elif text:
            print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into head: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def examples() -> list[list[str]]:
    """Every example command in the commands' help (``symsys CMD --help``), as argument lists:
    what the CLI documents, and so what the shipped kernels must answer without sympy
    (``symsys.shipping``). Continuation lines are joined; comments, shell quoting and
    examples with a placeholder path are dropped."""
    import shlex

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command in sub.choices.values():
        text = (command.epilog or "").replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip().split("  #")[0].split("  (")[0]
            if line.startswith("symsys ") and "path/to" not in line:
                found.append(shlex.split(line)[1:])
    return found


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr, as a user reads it: no package file, no source line."""
    print(f"symsys: warning: {message}", file=sys.stderr)


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {value!r}")
