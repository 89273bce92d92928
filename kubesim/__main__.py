"""`python -m kubesim`: serve the simulator without Django (same options as `manage.py kubesim`)."""

from __future__ import annotations

import argparse

from kubesim.server import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kubesim", description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
    parser.add_argument("--state", default=None, metavar="FILE")
    args = parser.parse_args(argv)
    serve_forever(seed=args.seed, state_file=args.state, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
