"""``slabot serve``: the Slack app over HTTP (or Socket Mode, for a laptop), and the clock
(in the background, unless ``--no-clock``), so one machine needs one command."""

from __future__ import annotations

import argparse
import gc
import logging
import threading
from typing import TYPE_CHECKING, Any

from ..ops.metrics import Metrics
from ..ops.observers import ClockWatch, count_slack_calls, request_metrics
from ..ops.probes import Heartbeat, Readiness, ops_routes
from ..store.migrate import upgrade
from . import config
from .errors import CliError
from .storage import open_service, reach, use_cases

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient
    from slack_sdk.web import SlackResponse
    from waitress.server import BaseWSGIServer, MultiSocketServer

    from ..settings import Settings
    from ..tickets import Tickets

log = logging.getLogger("slabot")
TICK = 1.0  # seconds between the clock's runs when serve runs it


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="HTTP port (default: the PORT setting, or 3000)")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (0.0.0.0)")
    parser.add_argument("--threads", type=int, default=8, help="HTTP worker threads (8)")
    parser.add_argument(
        "--socket",
        action="store_true",
        help="use Socket Mode (needs SLACK_APP_TOKEN): no public URL needed",
    )
    parser.add_argument(
        "--no-clock",
        action="store_true",
        help="do not run the clock here (run `slabot clock` elsewhere)",
    )


def run(args: argparse.Namespace) -> int:
    settings = config.settings(
        "slack_bot_token",
        "slack_app_token" if args.socket else "slack_signing_secret",
        service=True,
    )
    if settings.oauth and args.socket:
        raise CliError(
            "--socket serves the one workspace of SLACK_BOT_TOKEN: installing into many "
            "(SLACK_CLIENT_ID) needs the HTTP server, whose /slack/install Slack redirects to",
            code=2,
        )
    store, policies, team = open_service(settings)
    reach(store, lambda: upgrade(store))
    tickets = use_cases(settings, store, policies, team)
    if settings.slabot_default_policy:
        try:
            policies.get(settings.slabot_default_policy)
        except KeyError as exc:
            raise CliError(f"SLABOT_DEFAULT_POLICY: {exc.args[0]}", code=2) from None

    from ..slack.app import create_app
    from ..slack.client import make_client

    metrics = Metrics()
    metrics.watch_tickets(store)
    client = count_slack_calls(make_client(settings), metrics)
    # Installed by OAuth, Bolt finds and checks each request's token in its workspace.
    identity = None if settings.oauth else _connected(client, settings.slack_api_url)
    if settings.oauth:
        log.info("installed by OAuth: each workspace installs slabot at /slack/install")
    from ..inbound.api import lazy_api

    app = create_app(settings, client, tickets=tickets)
    from ..slack.usergroups import GroupMembers
    from ..slack.workspaces import workspaces

    tickets.read_groups(GroupMembers(client if not settings.oauth else workspaces(settings, store)))
    workspace = identity.get("team_id") if identity else None
    hooks = _hooks(settings, tickets, workspace)
    feeds = _feeds(settings, tickets, client, workspace)
    heartbeat = None if args.no_clock else Heartbeat(TICK)
    readiness = Readiness(store, heartbeat)
    routes = ops_routes(metrics, readiness) | hooks | feeds
    api = lazy_api(tickets)
    # In Socket Mode Slack's requests come over the socket; the port still serves the API, the
    # hooks, the feeds and the probes, which other systems reach over HTTP whatever Slack uses.
    server = _listen(None if args.socket else app, args, settings.port, routes, metrics, api)
    if heartbeat is not None:
        from ..clock.runner import schedule
        from .clockwork import build

        watch = ClockWatch(metrics, heartbeat)
        # The clock writes behind the requests: a person waiting goes first (`WriteTurns`).
        ticker = build(settings, store.background(), policies, watch=watch, team=team)
        schedule(ticker, TICK, background=True).start()
        tickets.when_owed(ticker.wake)  # a card owed by a request goes out within a tick
    gc.freeze()  # what start-up built lives as long as the process: keep the collector off it
    port = server.effective_port  # type: ignore[union-attr]  # a TCP server's: stubs say less
    if args.socket:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        threading.Thread(target=server.run, name="slabot-http", daemon=True).start()
        log.info(
            "slabot takes Slack's requests over Socket Mode; HTTP on http://%s:%s", args.host, port
        )
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[union-attr]
        return 0
    log.info("slabot listening on http://%s:%s/slack/events", args.host, port)
    server.run()
    return 0


def _hooks(settings: Settings, tickets: Tickets, workspace: str | None) -> dict[str, Any]:
    """The inbound hooks' routes, when ``SLABOT_HOOKS`` names a hooks file: their modules
    (alerts, the webhook, the hooks file's models) are imported only then."""
    if settings.slabot_hooks is None:
        return {}
    from ..inbound.hookroutes import HooksError
    from ..inbound.http import serve_hooks

    try:
        return serve_hooks(settings.slabot_hooks, settings, tickets, workspace)
    except HooksError as exc:
        raise CliError(str(exc), code=2) from None


def _feeds(
    settings: Settings, tickets: Tickets, client: WebClient, workspace: str | None
) -> dict[str, Any]:
    """The rotations' iCal feeds, when ``SLABOT_ONCALL_FEED_TOKEN`` turns them on."""
    token = settings.slabot_oncall_feed_token
    if token is None:
        return {}
    if workspace is None:  # the overrides are the workspace's: without it a feed would lie
        log.warning("Slack did not say which workspace this is: no on-call feeds until restart")
        return {}
    from ..oncall.feeds import feed_routes
    from ..slack.people import names

    return feed_routes(tickets.roles, workspace, token.get_secret_value(), names(client))


def _listen(
    app: App | None,
    args: argparse.Namespace,
    port: int,
    routes: dict[str, Any],
    metrics: Metrics,
    api: Any = None,
) -> BaseWSGIServer | MultiSocketServer:
    """Bind the HTTP port before anything else starts, so a busy port is one clear line."""
    from waitress.server import create_server

    from ..web import API_PREFIX, EVENTS_PATH, wsgi_app

    port = port if args.port is None else args.port
    # Counted beside Slack's surfaces: each hook (hook_alertmanager, …) and the HTTP API.
    surfaces = {p: f"hook_{p.rsplit('/', 1)[-1]}" for p in routes if p.startswith("/hooks/")}
    surfaces |= {API_PREFIX: "api", f"{API_PREFIX}/": "api"}
    served = request_metrics(wsgi_app(app, routes=routes, api=api), metrics, EVENTS_PATH, surfaces)
    try:
        return create_server(
            served, host=args.host, port=port, threads=args.threads, ident="slabot"
        )
    except (OSError, OverflowError) as exc:  # taken, not ours to take, or not a port at all
        reason = getattr(exc, "strerror", None) or exc
        raise CliError(
            f"cannot listen on {args.host}:{port} ({reason}): stop what uses the port, or "
            "choose another with --port or PORT",
            code=2,
        ) from None


def _connected(client: WebClient, api_url: str) -> SlackResponse | None:
    """Who the bot token is (``auth.test``), refusing to start on a token Slack refuses."""
    from slack_sdk.errors import SlackApiError

    try:
        identity = client.auth_test()
        log.info("connected to Slack as %s in %s", identity.get("user"), identity.get("team"))
        return identity
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
            raise CliError(
                f"SLACK_BOT_TOKEN is refused by Slack ({error}): copy it again "
                "from the app's OAuth & Permissions page",
                code=2,
            ) from None
        log.warning("could not check the token with Slack (%s); starting anyway", error)
    except OSError as exc:
        log.warning("could not reach Slack at %s (%s); starting anyway", api_url, exc)
    return None
