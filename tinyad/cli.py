"""The ``tinyad`` command: ``tinyad compare | bench | walkthrough`` (``--help`` on each).

Each subcommand is a module of ``tinyad.commands`` with ``add_arguments(parser)`` and ``run(args)``;
this file only wires them up. Bad arguments and bad input exit with code 2 and a one-line reason
on stderr (argparse's errors, and a command's ``UsageError``), found before any work starts. A
reader that goes away early (``tinyad compare | head -1``) ends the run quietly.
"""
import argparse
import importlib
import os
import sys

from .commands import COMMANDS
from .commands.checks import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {' '.join(message.split())}\n")
        sys.exit(2)


def build_parser(command=None):
    """The parser; only `command`'s module is imported (to add its arguments)."""
    parser = _Parser(prog="tinyad", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, summary) in COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=summary)
        if name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        code = importlib.import_module(COMMANDS[args.command][0]).run(args) or 0
        sys.stdout.flush()                     # a closed pipe shows here, not at exit
        return code
    except UsageError as e:
        sys.stderr.write(f"tinyad {args.command}: error: {e}\n")
        raise SystemExit(2) from None
    except BrokenPipeError:
        # stdout's reader is gone: send the rest (and the exit's flush) to /dev/null, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
