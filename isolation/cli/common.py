"""What the snapshot commands (`compile_isolation`, `traffic_path`) share: exit codes, a parser
whose usage errors exit with the bad-input code, and reading the snapshot file or stdin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO

from isolation.snapshot import Snapshot

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


def read_snapshot(path: str) -> bytes | str:
    """The bytes of `path`, or of stdin for '-' (its text when it has no byte buffer, as a
    test's StringIO); raises OSError as `open` does. Decoding
    (UTF-8, or UTF-16 with a byte order mark) is `isolation.yamlio`'s, which refuses invalid
    UTF-8 with the offending byte's offset."""
    if path == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        return buffer.read() if buffer is not None else sys.stdin.read()
    with open(path, "rb") as handle:
        return handle.read()


def snapshot_text(path: str, err: TextIO) -> bytes | str | None:
    """The snapshot's bytes, or None after telling `err` why it cannot be read."""
    try:
        return read_snapshot(path)
    except OSError as exc:
        err.write(f"error: cannot read {path}: {exc.strerror or exc}\n")
        return None


def warn_ignored(snapshot: Snapshot, path: str, err: TextIO, limit: int = 10) -> None:
    """One warning line on `err` naming the objects the snapshot held but the engines do not
    evaluate (other kinds, or other apiVersions of a kind: a Calico NetworkPolicy)."""
    if not snapshot.ignored:
        return
    shown = ", ".join(snapshot.ignored[:limit])
    more = f", and {len(snapshot.ignored) - limit} more" if len(snapshot.ignored) > limit else ""
    err.write(f"warning: {path}: ignored {len(snapshot.ignored)} object(s) of kinds the engine "
              f"does not evaluate: {shown}{more}\n")


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None,
                run: Callable[[argparse.Namespace, TextIO, TextIO], int]) -> int:
    """Parse `argv` (without the program name) and `run` on stdout and stderr; --help and
    usage errors, already printed by the parser, return their exit code instead."""
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run(options, sys.stdout, sys.stderr)
