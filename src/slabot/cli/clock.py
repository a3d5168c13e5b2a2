"""``slabot clock``: run the clock alone (``slabot serve`` also runs one unless --no-clock)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from ..ops.metrics import Metrics
from ..ops.observers import ClockWatch
from ..ops.probes import Heartbeat, Readiness, serve_in_background
from ..store.migrate import upgrade
from . import config
from .arguments import positive
from .errors import CliError
from .ops import bind
from .storage import open_service, reach


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often the clock looks for due timers (1)",
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=60,
        metavar="SECONDS",
        help="a claim older than this was interrupted by a dead clock and is taken over (60)",
    )
    parser.add_argument(
        "--batch", type=positive, default=200, help="timers claimed at most per tick (200)"
    )
    parser.add_argument(
        "--workers",
        type=positive,
        help="tickets performed at once, at most (default 32: Slack's pace in 500 busy channels)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics, /healthz and /readyz on this port (default: METRICS_PORT, else none)",
    )
    parser.add_argument(
        "--metrics-host", default="0.0.0.0", help="address of the metrics port (0.0.0.0)"
    )


def run(args: argparse.Namespace) -> int:
    if not 0 < args.interval <= 3600:
        raise CliError(f"--interval {args.interval:g}: give seconds, more than 0, at most 3600", 2)
    if args.lease <= 0:
        raise CliError(f"--lease {args.lease:g}: give seconds, more than 0", code=2)
    settings = config.settings("slack_bot_token", service=True)
    store, policies, team = open_service(settings)
    metrics, heartbeat = Metrics(), Heartbeat(args.interval)
    metrics.watch_tickets(store)
    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    readiness = Readiness(store, heartbeat)
    if port is not None:  # answers (not ready yet) while the database is being reached
        serve_in_background(bind(args.metrics_host, port, "--metrics-port", metrics, readiness))
    reach(store, lambda: upgrade(store))

    from ..clock.runner import run_forever
    from .clockwork import build

    ticker = build(
        settings,
        store,
        policies,
        lease=timedelta(seconds=args.lease),
        batch=args.batch,
        **({"workers": args.workers} if args.workers else {}),  # else the clock's WORKERS
        watch=ClockWatch(metrics, heartbeat),
        team=team,
    )
    run_forever(ticker, args.interval)
    return 0
