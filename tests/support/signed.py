"""Requests built and signed the way Slack builds and signs them, for end-to-end tests.

Slack signs each request it sends to an app with the app's signing secret: the header
``X-Slack-Signature`` is ``"v0=" + hex(HMAC-SHA256(secret, f"v0:{timestamp}:{raw body}"))`` and
``X-Slack-Request-Timestamp`` is the timestamp (Unix seconds) the base string used. Slash
commands and interactivity arrive form-encoded (interactivity as a single ``payload=`` field
holding JSON); Events API deliveries arrive as JSON. A redelivery carries ``X-Slack-Retry-Num``
and ``X-Slack-Retry-Reason``.

Body builders return the exact text to send (and sign); `post` sends one over real HTTP::

    body = slash_command("open P1 checkout is down", response_url=fake.response_url())
    status, headers, text = post(app_url, body, SECRET)
    status, _, _ = post(app_url, body, SECRET, retry_num=1, retry_reason="http_timeout")

Defaults match `fakeslack.FakeSlack`'s workspace (team ``T0001``). The default ``response_url``
points at a closed port on 127.0.0.1, never at Slack: pass ``fake.response_url()`` to see what
the app posts there.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "app_home_opened",
    "block_actions",
    "button",
    "event_callback",
    "new_response_url",
    "new_trigger_id",
    "plain_text_value",
    "post",
    "select",
    "selected_option_value",
    "sign",
    "signed_headers",
    "slash_command",
    "url_verification",
    "view_submission",
]

TEAM_ID = "T0001"
TEAM_DOMAIN = "fake-team"
API_APP_ID = "A0001"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "fakeVerificationToken0001"  # deprecated by Slack, still sent
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Where a default response_url points: a closed local port, so a forgotten one fails fast.
DEFAULT_RESPONSE_URL_BASE = "http://127.0.0.1:9/commands"

# Slack's published example ("Verifying requests from Slack").
EXAMPLE_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EXAMPLE_TIMESTAMP = 1531420618
EXAMPLE_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXAMPLE_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

_serial = itertools.count(1)


# -- signing ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """Slack's request signature: ``"v0=" + HMAC-SHA256 hex of "v0:{timestamp}:{body}"``,
    over the body's bytes as sent (even bytes that are not UTF-8)."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: str | bytes,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    *,
    content_type: str | None = None,
) -> dict[str, str]:
    """The headers Slack sends with ``body``: timestamp (now by default), signature, content type
    (JSON for a body starting with ``{``, else form) and, for a redelivery, the retry headers."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    raw = body.encode() if isinstance(body, str) else body
    headers = {
        "Content-Type": content_type or (JSON if raw.lstrip().startswith(b"{") else FORM),
        "User-Agent": USER_AGENT,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, ts, raw),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
    if retry_reason is not None:
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def post(
    url: str,
    body: str | bytes,
    secret: str,
    *,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], str]:
    """POST ``body`` (text, or raw bytes) to ``url`` over real HTTP, signed with ``secret``
    like Slack does.

    ``headers`` are added last (to override or drop one, e.g. a forged signature). Returns
    ``(status, headers with lower-case names, body text)``; HTTP errors are returned, not raised.
    """
    all_headers = signed_headers(secret, body, timestamp, retry_num, retry_reason)
    all_headers.update(headers or {})
    raw = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=raw, headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read().decode("utf-8"),
            )
    except urllib.error.HTTPError as error:
        with error:
            return (
                error.code,
                {k.lower(): v for k, v in error.headers.items()},
                error.read().decode("utf-8", "replace"),
            )


# -- ids -------------------------------------------------------------------------------------


def new_trigger_id() -> str:
    """A fresh trigger ID shaped like Slack's (``"398738663015.47445629121.803a…"``)."""
    return f"{next(_serial) + 100_000_000_000}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"


def new_response_url(team_id: str = TEAM_ID) -> str:
    """A fresh default ``response_url`` (a closed local port: see the module docstring)."""
    return f"{DEFAULT_RESPONSE_URL_BASE}/{team_id}/{next(_serial)}/{secrets.token_urlsafe(18)}"


def _user(user_id: str, user_name: str | None, team_id: str) -> dict[str, str]:
    name = user_name or f"user-{user_id.lower()}"
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


# -- slash commands --------------------------------------------------------------------------


def slash_command(
    text: str,
    *,
    command: str = "/sla",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    user_id: str = "U0001",
    user_name: str | None = None,
    channel_id: str = "C0001",
    channel_name: str = "support",
    trigger_id: str | None = None,
    response_url: str | None = None,
    api_app_id: str = API_APP_ID,
    org: str | None = None,
) -> str:
    """A slash command's form body, with Slack's field set in Slack's order. ``org``: typed in
    a workspace of that Enterprise Grid org, where slabot is installed org-wide (Slack then
    adds ``enterprise_id`` and ``enterprise_name`` and says ``is_enterprise_install=true``)."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or f"user-{user_id.lower()}",
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url or new_response_url(team_id),
        "trigger_id": trigger_id or new_trigger_id(),
    }
    if org is not None:
        fields |= {"enterprise_id": org, "enterprise_name": f"Org {org}"}
        fields["is_enterprise_install"] = "true"
    return urlencode(fields)


# -- interactivity ---------------------------------------------------------------------------


def button(
    action_id: str, value: str, *, text: str = "Button", block_id: str = "actions"
) -> dict[str, Any]:
    """One clicked button, as it appears in a ``block_actions`` payload's ``actions``."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": _action_ts(),
    }


def select(
    action_id: str,
    value: str,
    *,
    text: str | None = None,
    block_id: str = "actions",
    type: str = "static_select",
) -> dict[str, Any]:
    """One chosen option of a select menu (or ``type="overflow"``), as in ``actions``."""
    option = {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    return {
        "type": type,
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": option,
        "action_ts": _action_ts(),
    }


def block_actions(
    actions: list[dict[str, Any]],
    *,
    team_id: str = TEAM_ID,
    user_id: str = "U0001",
    user_name: str | None = None,
    channel_id: str | None = "C0001",
    message_ts: str | None = None,
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    api_app_id: str = API_APP_ID,
    user_team_id: str | None = None,
) -> str:
    """A ``block_actions`` interaction, form-encoded as ``payload=<json>``.

    ``user_team_id``: the clicker's own workspace when it is not ``team_id``, as in a Slack
    Connect channel, where ``team`` stays the workspace of the app that posted the message
    (java-slack-sdk issue 1041 shows such a payload).

    Where the click happened:
    * ``message_ts``: a button on a channel message (``message`` adds fields to the message
      Slack echoes back, such as its ``blocks``);
    * ``view``: a button in a modal or the Home tab (``{"id": "V…", "type": "home", …}``);
    * neither: a button on an ephemeral message (Slack sends no ``message`` then).

    ``actions`` are dicts as built by `button` / `select`; missing ``action_ts`` and
    ``block_id`` are filled in.
    """
    actions = [{"block_id": "actions", "action_ts": _action_ts(), **a} for a in actions]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, user_team_id or team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        full_view = {
            "team_id": team_id,
            "type": "home",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "app_id": api_app_id,
            "bot_id": "B0001",
            **view,
        }
        full_view.setdefault("id", "VFAKE000001")
        full_view.setdefault("root_view_id", full_view["id"])
        payload["container"] = {"type": "view", "view_id": full_view["id"]}
        payload["view"] = full_view
    else:
        ts = message_ts or _action_ts()
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": message_ts is None,
        }
    if channel_id is not None and view is None:
        payload["channel"] = {"id": channel_id, "name": "support"}
    if view is None and message_ts is not None:
        payload["message"] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": message_ts,
            "bot_id": "B0001",
            "app_id": api_app_id,
            "text": "",
            "team": team_id,
            "blocks": [],
            **(message or {}),
        }
    if view is None:
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url or new_response_url(team_id)
    payload["actions"] = actions
    return _payload_form(payload)


def plain_text_value(value: str | None) -> dict[str, Any]:
    """A ``plain_text_input``'s entry in ``view.state.values``."""
    return {"type": "plain_text_input", "value": value}


def selected_option_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    """A ``static_select``'s entry in ``view.state.values`` (None: nothing chosen)."""
    option = None
    if value is not None:
        option = {
            "text": {"type": "plain_text", "text": text or value, "emoji": True},
            "value": value,
        }
    return {"type": "static_select", "selected_option": option}


def view_submission(
    callback_id: str,
    state_values: dict[str, dict[str, dict[str, Any]]],
    *,
    private_metadata: str = "",
    team_id: str = TEAM_ID,
    user_id: str = "U0001",
    user_name: str | None = None,
    view_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    title: str = "slabot",
    trigger_id: str | None = None,
    api_app_id: str = API_APP_ID,
    installed_team_id: str | None = None,
) -> str:
    """A modal's ``view_submission``, form-encoded as ``payload=<json>``.

    ``installed_team_id``: the workspace slabot is installed in, when the person (of
    ``team_id``) opened the modal from there through a Slack Connect channel: Slack names it
    in ``view.app_installed_team_id`` (as slack-bolt's ``extract_team_id`` reads it), while
    ``team`` and ``view.team_id`` are the person's own.

    ``state_values`` is ``{block_id: {action_id: value}}`` with values as Slack sends them
    (see `plain_text_value`, `selected_option_value`).
    """
    view_id = view_id or f"VFAKE{next(_serial):06d}"
    view = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": blocks or [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": state_values},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": api_app_id,
        "external_id": "",
        "app_installed_team_id": installed_team_id or team_id,
        "bot_id": "B0001",
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_form(payload)


# -- shortcuts -------------------------------------------------------------------------------


def message_shortcut(
    callback_id: str,
    *,
    message_ts: str,
    text: str,
    channel_id: str = "C0001",
    author: str = "U0002",
    team_id: str = TEAM_ID,
    user_id: str = "U0001",
    trigger_id: str | None = None,
    response_url: str = "",
) -> str:
    """A message shortcut (``message_action``) chosen on a message, form-encoded."""
    payload = _shortcut("message_action", callback_id, team_id, user_id, trigger_id)
    payload.update(
        channel={"id": channel_id, "name": "support"},
        response_url=response_url or new_response_url(team_id),
        message_ts=message_ts,
        message={"type": "message", "user": author, "ts": message_ts, "text": text},
    )
    return _payload_form(payload)


def _shortcut(
    kind: str, callback_id: str, team_id: str, user_id: str, trigger_id: str | None
) -> dict[str, Any]:
    """What every shortcut payload carries: who chose which shortcut, in which workspace."""
    return {
        "type": kind,
        "token": VERIFICATION_TOKEN,
        "action_ts": _action_ts(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, None, team_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }


def global_shortcut(
    callback_id: str,
    *,
    team_id: str = TEAM_ID,
    user_id: str = "U0001",
    trigger_id: str | None = None,
    org: str | None = None,
) -> str:
    """A global shortcut (``shortcut``) chosen from the shortcuts menu, form-encoded.

    ``org``: chosen in a workspace of that Enterprise Grid org, where slabot is installed
    org-wide: Slack then sends ``team: null`` with the org in ``enterprise`` and the person's
    workspace only in ``user.team_id`` (the payload in bolt-python pull request 23)."""
    payload = _shortcut("shortcut", callback_id, team_id, user_id, trigger_id)
    if org is not None:
        payload |= {"team": None, "enterprise": {"id": org, "name": f"Org {org}"}}
        payload["is_enterprise_install"] = True
    return _payload_form(payload)


def function_executed(
    callback_id: str, inputs: dict[str, Any], *, execution_id: str | None = None
) -> dict[str, Any]:
    """The ``function_executed`` event of a workflow step (wrap it with `event_callback`)."""
    return {
        "type": "function_executed",
        "function": {
            "id": "Fn0FAKE",
            "callback_id": callback_id,
            "title": "Open SLA ticket",
            "type": "app",
            "app_id": API_APP_ID,
        },
        "inputs": inputs,
        "function_execution_id": execution_id or f"Fx{secrets.token_hex(6).upper()}",
        "workflow_execution_id": f"Wx{secrets.token_hex(6).upper()}",
        "event_ts": _action_ts(),
        "bot_access_token": f"xwfp-{secrets.token_hex(12)}",
    }


# -- Events API ------------------------------------------------------------------------------


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    api_app_id: str = API_APP_ID,
    org: str | None = None,
) -> str:
    """An Events API delivery (JSON) wrapping ``event`` (for example `app_home_opened`).

    ``org``: to slabot installed org-wide in that Enterprise Grid org. Slack then says so in
    ``authorizations`` (https://api.slack.com/enterprise/apps/changes-apis: "a special
    is_enterprise_install boolean field to indicate that the event is being sent to an
    organization-wide installation"), whose ``team_id`` is null, as in slack-bolt's own
    scenario tests of org apps (``test_events_org_apps.py``); ``team_id`` may be None for an
    event about the whole org (an org-wide ``app_uninstalled``)."""
    payload: dict[str, Any] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": org,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": org,
                "team_id": None if org else team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": org is not None,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    if org is not None:
        payload["enterprise_id"] = org
    return json.dumps(payload, separators=(",", ":"))


def app_home_opened(
    user_id: str = "U0001",
    *,
    channel_id: str | None = None,
    tab: str = "home",
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``app_home_opened`` event (``view`` only once a Home tab was published)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id or "D" + (user_id[1:] if user_id[:1] in ("U", "W") else user_id),
        "tab": tab,
        "event_ts": _action_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
) -> str:
    """The handshake Slack sends when an Events API request URL is saved."""
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"},
        separators=(",", ":"),
    )


def _action_ts() -> str:
    return f"{time.time():.6f}"
