"""What the snapshot commands (`compile_isolation`, `traffic_path`) share: exit codes, a parser
whose usage errors exit with the bad-input code, and reading the snapshot file or stdin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage errors print the usage and exit with `EXIT_BAD_INPUT`."""

    def error(self, message: str) -> None:   # argparse's own exit code is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def add_snapshot_argument(parser: argparse.ArgumentParser) -> None:
    """The required `--snapshot FILE.yaml` option ('-' reads stdin, see `read_snapshot`)."""
    parser.add_argument("--snapshot", required=True, metavar="FILE.yaml",
                        help="cluster snapshot: multi-document YAML or a List ('-' reads stdin)")


def read_snapshot(path: str) -> str:
    """The text of `path` as strict UTF-8, or stdin for '-'; raises OSError (and
    UnicodeDecodeError) as `open` does."""
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8", errors="strict") as handle:
        return handle.read()


def snapshot_text(path: str, err: TextIO) -> str | None:
    """The snapshot's text, or None after telling `err` why it cannot be read."""
    try:
        return read_snapshot(path)
    except OSError as exc:
        err.write(f"error: cannot read {path}: {exc.strerror or exc}\n")
        return None


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None,
                run: Callable[[argparse.Namespace, TextIO, TextIO], int]) -> int:
    """Parse `argv` (without the program name) and `run` on stdout and stderr; --help and
    usage errors, already printed by the parser, return their exit code instead."""
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run(options, sys.stdout, sys.stderr)
