"""The offline commands without Django: `python -m isolation COMMAND [options]`.

    python -m isolation reachability --snapshot FILE.yaml [--format json|table|summary] ...
    python -m isolation compile_isolation --snapshot FILE.yaml [--format yaml|json] ...
    python -m isolation traffic_path --snapshot FILE.yaml (--service NS/NAME | --ingress NS/NAME)

Same flags, output and exit codes as the `manage.py` commands of the same names (which hand
their arguments to the same `isolation.cli` modules). Each command's module is imported only
when it is run, so `--help` answers without loading the engines.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

# command -> the isolation.cli module whose `main(argv)` runs it
COMMANDS: dict[str, str] = {
    "reachability": "isolation.cli.reachability",
    "compile_isolation": "isolation.cli.compile",
    "traffic_path": "isolation.cli.traffic",
}
USAGE = ("usage: python -m isolation {" + ",".join(COMMANDS) + "} [options]\n"
         "       python -m isolation COMMAND --help\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named by argv[0]; returns its exit status (2 for an unknown command)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    command = args[0]
    if command not in COMMANDS:
        sys.stderr.write(USAGE + f"python -m isolation: error: unknown command {command!r}\n")
        return 2
    # The engines' numpy work is integer and bitwise, never BLAS: one BLAS thread spares the
    # start of a pool whose threads would only spin (numpy reads this when first imported).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return importlib.import_module(COMMANDS[command]).main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
