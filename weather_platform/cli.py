"""The `weather-platform` command: the local stack, and (as they land) the simulator and streaming services."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

console = Console(stderr=True)


def _stack(args: argparse.Namespace) -> int:
    from weather_platform.stack import manager
    from weather_platform.stack.provision import ProvisionError
    from weather_platform.stack.services import StackError

    try:
        if args.action == "up":
            rows = manager.up()
            manager.print_status(rows)
            return 0 if all(r.healthy for r in rows) else 1
        if args.action == "down":
            stopped = manager.down(purge=args.purge)
            console.print(
                f"stopped: {', '.join(stopped) or 'nothing was running'}" + (" (data purged)" if args.purge else "")
            )
            return 0
        if args.action == "status":
            rows = manager.status()
            manager.print_status(rows)
            return 0 if all(r.healthy for r in rows) else 3
        print("\n".join(manager.env_lines()))
        return 0
    except (StackError, ProvisionError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2


def _simulator(args: argparse.Namespace) -> int:
    import signal

    from weather_platform.sources.simulator import run_simulator

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: close the socket cleanly
    console.print(f"OpenWeather-compatible simulator on http://{args.host}:{args.port}/data/2.5 (Ctrl-C stops)")
    run_simulator(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weather-platform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    stack = commands.add_parser("stack", help="the local stack of real services (Kafka, MinIO, PostgreSQL, Spark jars)")
    stack.add_argument("action", choices=["up", "down", "status", "env"])
    stack.add_argument("--purge", action="store_true", help="with down: also delete the stack's data and logs")
    stack.set_defaults(func=_stack)
    sim = commands.add_parser("simulator", help="serve the OpenWeather-compatible simulator (the offline source)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8089)
    sim.add_argument("--state", help="working directory of the local stack (lets `stack status` find it)")
    sim.set_defaults(func=_simulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
