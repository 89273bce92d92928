#!/usr/bin/env python3
import os
import sys

# The offline commands read only a snapshot file: they run without starting Django (which loads
# every feature of the console), so they answer in a tenth of the time.
OFFLINE_COMMANDS = ("reachability", "compile_isolation", "traffic_path")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS:
        from isolation.__main__ import main as offline

        sys.exit(offline(sys.argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
