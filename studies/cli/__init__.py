"""The ``snn`` command line.

Exit codes: 0 ok, 2 usage or bad input (one line, no traceback), 1 internal error,
130 interrupted (SIGINT or SIGTERM; nothing half-written is left behind).

This module imports nothing heavy at the top: an interrupt that arrives while numpy, numba
or a command module is still importing must land inside :func:`main`'s ``try`` and end
in one line, not a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

COMMANDS = {
    "simulate": (
        "studies.cli.simulate",
        "run a network (TOML or NIR file, or the default CUBA network) on any backend",
    ),
    "deploy": (
        "studies.cli.deploy",
        "write a network for a backend (NIR, Brian2 C++, ...) with a mapping report",
    ),
    "bench": ("studies.cli.bench", "benchmark the reference simulator against Brian2 on the same network"),
    "train": ("studies.cli.train", "train an LSNN on a sequence task with e-prop, random e-prop or BPTT"),
    "reservoir": (
        "studies.cli.reservoir",
        "an echo state network or liquid state machine on Mackey-Glass, NARMA10, memory capacity, digits",
    ),
    "sequence": (
        "studies.cli.sequence",
        "temporal memory (HTM): high-order, noisy, branching sequences, NAB anomalies, continual learning",
    ),
    "generate": (
        "studies.cli.generate",
        "train a GAN (ring, grid, digits) with GDA, Adam, OGDA, extragradient, CGD or ACGD and score it",
    ),
    "sparse-code": (
        "studies.cli.sparse_code",
        "sparse coding of digit patches by ISTA, FISTA, LISTA and a spiking LCA network, side by side",
    ),
    "energy": (
        "studies.cli.energy",
        "energy-based models: latent ellipse, SGLD EBMs on toys and digits, JEM, OOD scores of SNN features",
    ),
    "compare": (
        "studies.cli.compare",
        "train and compare ANN, converted SNN and directly trained SNN rows on one dataset",
    ),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for bad values
        self.exit(2, f"{self.prog}: error: {message}\n")


_signalled: list[int] = []  # the interrupts received (SIGINT, SIGTERM) during main()
_command = ["snn"]  # the command being run, for its messages (the signal handler reads it too)


def _interrupted(signum, frame) -> None:
    # in-process use (tests, an embedding app): SIGTERM ends the run the way Ctrl-C does, so
    # staged outputs are cleaned up as the stack unwinds; remember it, because an interrupt
    # that lands inside a C extension's import (numba's, seen in CI) comes back out as that
    # module's ImportError, not as a KeyboardInterrupt
    _signalled.append(signum)
    raise KeyboardInterrupt


def _end_now(signum, frame) -> None:
    # the executable: end the process from the handler, unwinding nothing. An exception raised
    # here can land inside a C library's Python callback (llvmlite's, while numba links cached
    # code), which swallows it and then crashes (seen in CI: exit -11, SIGTERM at 0.6 s)
    _signalled.append(signum)
    message = f"{_command[0]}: interrupted\n"
    atomic = sys.modules.get("snn.atomic")
    if atomic is None:  # nothing can be half-written before snn.atomic is imported
        os.write(2, message.encode())
        os._exit(130)
    atomic.abandon_and_exit(130, message)  # returns only while an output is being renamed in


def _after_the_work(signum, frame) -> None:
    # the command has returned, its outputs are in place: an interrupt from here to the
    # process's exit (interpreter shutdown can take a while) changes nothing, so it is noted
    # and the exit code stays the command's; left to Python's default handling it would
    # kill the process by SIGINT, with no message, after a successful run (seen in CI)
    _signalled.append(signum)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="snn",
        description="neurobridge: spiking network simulation and comparison.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary + ".")
        importlib.import_module(module_name).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None, *, executable: bool = False) -> int:
    """Run one ``snn`` command; returns its exit code.

    In-process (the default), SIGINT and SIGTERM raise KeyboardInterrupt, staged outputs are
    removed as it unwinds, the result is 130, and the handlers found on entry are put back.
    ``executable=True`` (the ``snn`` program): an interrupt ends the process at once with 130
    (:func:`snn.atomic.abandon_and_exit`), and once the command has returned an interrupt is
    only noted, so one during the process's exit cannot undo a finished run's exit code.
    """
    _command[0] = "snn"
    _signalled.clear()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    ours = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}
    during = _end_now if executable else _interrupted
    for sig, handler in previous.items():
        if handler is ours[sig]:  # only where nobody else (a test harness, an embedding app) has one
            signal.signal(sig, during)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as done:  # --help (0) or a usage error (2), already printed
            return int(done.code or 0)
        if args.command is None:
            parser.print_help()
            return 2
        _command[0] = f"snn {args.command}"
        from snn.errors import UnsupportedFeature, ValidationError
        from studies.cli.output import check_destinations

        try:
            check_destinations(args)  # an unwritable --out or --json fails now, not after the work
            return importlib.import_module(COMMANDS[args.command][0]).run(args)  # finally: see below
        except (ValidationError, UnsupportedFeature) as error:
            print(f"{_command[0]}: error: {error}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print(f"{_command[0]}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which exited: results are already written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        if _signalled:  # the interrupt surfaced as another error (see _interrupted)
            print(f"{_command[0]}: interrupted", file=sys.stderr)
            return 130
        raise
    finally:
        for sig, handler in previous.items():
            if handler is not ours[sig]:
                continue
            if not executable:
                signal.signal(sig, handler)
            elif signal.getsignal(sig) is during:  # the process ends next: see _after_the_work
                signal.signal(sig, _after_the_work)


def console() -> None:
    """The ``snn`` executable: :func:`main`, then exit with its code at once.

    Its outputs are written (and synced) by then, so the process skips the interpreter's
    finalisation: that resets the signal handlers to the defaults, and an interrupt during
    the second or so it takes (numba, torch) killed a finished run by SIGINT or SIGTERM with
    no message (seen twice in CI at 1.2 s). Worker threads still finishing a kernel block end
    with the process.
    """
    code = main(executable=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError):  # the reader went away (`snn ... | head`): nothing to add
            pass
    os._exit(code)
