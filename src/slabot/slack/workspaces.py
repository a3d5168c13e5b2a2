"""Which token speaks to which workspace: one bot token, or each workspace's installation.

Inside a Bolt request the listener's ``client`` already carries the workspace's token. Every
other caller of Slack (the clock's reminders and pages, maintenance reminders, the cards the
hooks and the HTTP API post) asks `Workspaces.client_for(workspace)`:

* `OneWorkspace` (``SLACK_BOT_TOKEN``): the one client, whatever the workspace.
* `InstalledWorkspaces` (``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``): the bot token slack_sdk's
  installation store keeps for the workspace, refreshed first when the app rotates tokens
  and it expires within `ROTATE_BEFORE` (and saved, so Bolt and every other process see
  the new one). A workspace with no installation (never installed, or uninstalled: Bolt's
  ``app_uninstalled`` and ``tokens_revoked`` listeners delete its rows) raises
  `WorkspaceGone`, which only a person can mend: the clock's timers for it die with that
  reason instead of being retried.

The stores live in slabot's database (tables made by migration 0012), so replicas and the
clock share one set of installations.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.oauth.token_rotation.rotator import SlackTokenRotationError

from ..settings import Settings
from ..store import Store
from .client import make_client

# What slabot asks of each workspace it is installed into; the manifests request the same
# (a test checks), each scope with the reason it is needed.
SCOPES = (
    "chat:write",
    "chat:write.public",
    "commands",
    "im:write",
    "users:read",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
    "usergroups:read",
    "usergroups:write",
)
ROTATE_BEFORE = 120  # minutes before a rotating token expires that it is refreshed, as Bolt's
STATE_LIFETIME = 600  # seconds an install started at /slack/install may take to come back


class WorkspaceGone(Exception):
    """slabot is not installed in this workspace (any more): no token can reach it."""

    def __init__(self, workspace: str):
        super().__init__(
            f"slabot is not installed in workspace {workspace} (uninstalled, or its token "
            "revoked): install it again through /slack/install"
        )
        self.workspace = workspace


class Workspaces(Protocol):
    def client_for(self, workspace: str) -> WebClient:
        """A Web API client with the workspace's token; `WorkspaceGone` when it has none."""


class OneWorkspace:
    """One bot token (``SLACK_BOT_TOKEN``): every workspace is that token's one."""

    def __init__(self, client: WebClient):
        self.client = client

    def client_for(self, workspace: str) -> WebClient:
        return self.client


class InstalledWorkspaces:
    """Each workspace's bot token from the installation store, rotated when it must be.

    One client per workspace is kept while its token stays the same, so its connections
    stay open between calls as `make_client`'s do."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        retry: bool = True,
        observe: Callable[[WebClient], object] = lambda client: None,
    ):
        """``retry`` as `make_client`'s; ``observe``: told of each client made (metrics)."""
        assert settings.slack_client_id is not None and settings.slack_client_secret is not None
        self.settings = settings
        self.retry = retry
        self.observe = observe
        self.installations = installation_store(settings, store)
        self.rotator = TokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            client=WebClient(base_url=settings.slack_api_url),
        )
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def client_for(self, workspace: str) -> WebClient:
        token = self._token(workspace)
        with self._lock:
            client = self._clients.get(workspace)
            if client is None or client.token != token:
                client = make_client(self.settings, retry=self.retry, token=token)
                self.observe(client)
                self._clients[workspace] = client
            return client

    def _token(self, workspace: str) -> str:
        bot = self._bot(workspace)
        if bot is None:
            raise WorkspaceGone(workspace)
        token = self._fresh(bot).bot_token
        assert token is not None  # a rotated bot has a token too
        return token

    def _bot(self, workspace: str) -> Bot | None:
        """The workspace's latest bot, whichever Enterprise Grid org it belongs to (a ticket
        knows its workspace, not its org; slack_sdk's ``find_bot`` needs both)."""
        bots = self.installations.bots
        query = (
            bots.select()
            .where(
                bots.c.client_id == self.installations.client_id,
                bots.c.team_id == workspace,
                bots.c.bot_token.is_not(None),
            )
            .order_by(bots.c.installed_at.desc())
            .limit(1)
        )
        with self.installations.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else self.installations.build_bot_entity(row)

    def _fresh(self, bot: Bot) -> Bot:
        if not bot.bot_refresh_token:
            return bot  # the app does not rotate tokens: this one lasts until revoked
        try:
            rotated = self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_BEFORE
            )
        except SlackTokenRotationError as exc:
            error = exc.api_error.response.get("error")
            if error in ("invalid_refresh_token", "token_revoked", "invalid_auth"):
                raise WorkspaceGone(bot.team_id or "?") from None
            raise
        if rotated is None:
            return bot
        self.installations.save_bot(rotated)
        return rotated


def installation_store(settings: Settings, store: Store) -> SQLAlchemyInstallationStore:
    assert settings.slack_client_id is not None
    return SQLAlchemyInstallationStore(settings.slack_client_id, store.engine)


def oauth_settings(settings: Settings, store: Store) -> OAuthSettings:
    """Bolt's OAuth flow (``/slack/install``, ``/slack/oauth_redirect``) on slabot's database:
    bot tokens only (slabot never acts as a person), rotated as `InstalledWorkspaces` does."""
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    secret = settings.slack_client_secret.get_secret_value()
    installations = installation_store(settings, store)
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret,
        scopes=list(SCOPES),
        installation_store=installations,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=ROTATE_BEFORE,
        state_store=SQLAlchemyOAuthStateStore(STATE_LIFETIME, store.engine),
    )
    # Bolt's own authorize refreshes rotating tokens at slack.com whatever SLACK_API_URL says
    # (GovSlack, the fake Slack): the same, given the deployment's API URL.
    oauth.authorize = InstallationStoreAuthorize(
        logger=logging.getLogger(__name__),
        client_id=settings.slack_client_id,
        client_secret=secret,
        token_rotation_expiration_minutes=ROTATE_BEFORE,
        installation_store=installations,
        bot_only=True,
        client=WebClient(base_url=settings.slack_api_url),
    )
    return oauth


def workspaces(
    settings: Settings,
    store: Store,
    *,
    retry: bool = True,
    observe: Callable[[WebClient], object] = lambda client: None,
) -> Workspaces:
    """The deployment's way to each workspace: its installations when set up for OAuth, else
    its one bot token (``retry`` as `make_client`'s; ``observe``: told of each client)."""
    if settings.oauth:
        return InstalledWorkspaces(settings, store, retry=retry, observe=observe)
    client = make_client(settings, retry=retry)
    observe(client)
    return OneWorkspace(client)
