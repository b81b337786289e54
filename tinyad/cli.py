"""The ``tinyad`` command: ``tinyad compare | bench | walkthrough`` (``--help`` on each).

Each subcommand lives in its own module with ``add_arguments(parser)`` and ``run(args)``; this file
only wires them up. Bad arguments exit with code 2 and a one-line reason.
"""
import argparse
import importlib
import sys

COMMANDS = {
    "compare": ("tinyad.learning.compare",
                "train one model with several learning rules and compare them"),
    "bench": ("tinyad.benchmarks",
              "runtime ratios of forward-gradient and backprop steps to a forward pass"),
    "walkthrough": ("tinyad.walkthrough",
                    "step-by-step linear regression: predictions, residuals, gradients, updates"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
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
    return importlib.import_module(COMMANDS[args.command][0]).run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
