"""The ``snn`` command line.

Exit codes: 0 ok, 2 usage or bad input (one line, no traceback), 1 internal error.
"""

from __future__ import annotations

import argparse
import sys

from studies import bench, compare, deploy, reservoir, simulate, train

COMMANDS = {
    "simulate": (simulate, "run a network (TOML or NIR file, or the default CUBA network) on any backend"),
    "deploy": (deploy, "write a network for a backend (NIR, Brian2 C++, ...) with a mapping report"),
    "bench": (bench, "benchmark the reference simulator against Brian2 on the same network"),
    "train": (train, "train an LSNN on a sequence task with e-prop, random e-prop or BPTT"),
    "reservoir": (
        reservoir,
        "an echo state network or liquid state machine on Mackey-Glass, NARMA10, memory capacity, digits",
    ),
    "compare": (compare, "train and compare ANN, converted SNN and directly trained SNN rows on one dataset"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for bad values
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="snn",
        description="neurobridge: spiking network simulation and comparison.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary + ".")
        module.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = COMMANDS[args.command][0]
    from snn.errors import UnsupportedFeature, ValidationError

    try:
        return module.run(args)
    except (ValidationError, UnsupportedFeature) as error:
        print(f"snn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"snn {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which exited: results are already written
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
