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

  An org-wide install in an Enterprise Grid org (an org admin installs slabot for the whole
  org: ``oauth.v2.access`` answers ``is_enterprise_install: true``, ``enterprise``, ``team:
  null``, per Slack's reference for organization-wide apps) keeps one bot row with the org's
  ``enterprise_id`` and no ``team_id``, whose one token speaks for every workspace the org
  added slabot to. A ticket knows its workspace, not its org, so a workspace with no
  installation of its own is looked up among the orgs: each org-wide token's
  ``auth.teams.list`` ("the workspaces your org-wide app has been approved for") says which
  workspaces are its, remembered per process for `ORGS_FOR` and asked again sooner when a
  workspace is not among them (an org may have added it since). A workspace the org removed
  the app from is thus served no longer than that, then is gone like an uninstalled one. A
  workspace's own installation wins over its org's.

Inside a request, Bolt finds the same rows itself: its authorize asks the installation store
for ``(enterprise_id, team_id, is_enterprise_install)`` read from the payload (the
``authorizations`` of an event, the ``is_enterprise_install`` of a command or click), and
slack_sdk's store ignores the team of an enterprise install; ``app_uninstalled`` of an org-wide
install (its ``authorizations`` name the org and no team) deletes the org's rows.

The stores live in slabot's database (tables made by migration 0012), so replicas and the
clock share one set of installations.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.oauth.token_rotation.rotator import SlackTokenRotationError
from sqlalchemy.sql import ColumnElement

from ..settings import Settings
from ..store import Store
from .client import make_client

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

log = logging.getLogger(__name__)

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
ORGS_FOR = 600  # seconds the workspaces each org-wide install serves are believed unasked


# What a person is told when Bolt finds no installation for the workspace their request names:
# one slabot was never installed in (a customer's, in a channel shared with them through Slack
# Connect, whose shortcut names their own workspace) or one that uninstalled it. Bolt's own
# message asks them to reinstall, which a customer cannot and need not do.
NOT_INSTALLED = (
    "slabot is not installed in your workspace (or no longer). In a channel shared with "
    "another organisation, use the buttons on the ticket's card, or ask the people of the "
    "workspace that installed slabot; to use it from your own workspace, ask your Slack "
    "admin to install it there."
)


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
        monotonic: Callable[[], float] = time.monotonic,
    ):
        """``retry`` as `make_client`'s; ``observe``: told of each client made (metrics);
        ``monotonic``: seconds, for how long the orgs' workspaces are remembered."""
        assert settings.slack_client_id is not None and settings.slack_client_secret is not None
        self.settings = settings
        self.monotonic = monotonic
        self.retry = retry
        self.observe = observe
        self.installations = installation_store(settings, store)
        self.rotator = TokenRotator(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            client=WebClient(base_url=settings.slack_api_url),
        )
        self.base_url = settings.slack_api_url
        self._clients: dict[str, WebClient] = {}
        self._orgs: dict[str, str] = {}  # workspace → the org that installed slabot org-wide
        self._orgs_asked: float | None = None  # when (`monotonic`) Slack last listed them
        self._asking = threading.Lock()
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
        token = self._fresh(bot, workspace).bot_token
        assert token is not None  # a rotated bot has a token too
        return token

    def _bot(self, workspace: str) -> Bot | None:
        """The workspace's own latest bot, whichever Enterprise Grid org it belongs to (a
        ticket knows its workspace, not its org; slack_sdk's ``find_bot`` needs both); else
        the bot of the org that installed slabot org-wide and added the workspace."""
        bots = self.installations.bots
        own = self._latest(bots.c.team_id == workspace)
        if own is not None:
            return own
        with self._asking:  # one question to Slack at a time: the others wait for its answer
            asked = self._orgs_asked
            if workspace not in self._orgs or asked is None or self.monotonic() - asked > ORGS_FOR:
                self._orgs_asked = self.monotonic()
                self._orgs = self._org_workspaces()
            org = self._orgs.get(workspace)
        return None if org is None else self._org_bot(org)

    def _org_bot(self, org: str) -> Bot | None:
        bots = self.installations.bots
        return self._latest(bots.c.enterprise_id == org, bots.c.team_id.is_(None))

    def _latest(self, *where: ColumnElement[bool]) -> Bot | None:
        bots = self.installations.bots
        query = (
            bots.select()
            .where(
                bots.c.client_id == self.installations.client_id,
                bots.c.bot_token.is_not(None),
                *where,
            )
            .order_by(bots.c.installed_at.desc())
            .limit(1)
        )
        with self.installations.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else self.installations.build_bot_entity(row)

    def _org_workspaces(self) -> dict[str, str]:
        """Each workspace an org-wide installation serves, with its org, as Slack lists them
        now. An org whose token no longer works (uninstalled meanwhile) serves none."""
        bots = self.installations.bots
        query = sa.select(bots.c.enterprise_id).distinct()
        query = query.where(
            bots.c.client_id == self.installations.client_id,
            bots.c.team_id.is_(None),
            bots.c.enterprise_id.is_not(None),
        )
        with self.installations.engine.connect() as connection:
            orgs = [org for (org,) in connection.execute(query)]
        found: dict[str, str] = {}
        for org in orgs:
            bot = self._org_bot(org)
            if bot is None:
                continue
            try:
                client = WebClient(token=self._fresh(bot, org).bot_token, base_url=self.base_url)
                for page in client.auth_teams_list(limit=1000):
                    found |= {team["id"]: org for team in page.get("teams", [])}
            except (WorkspaceGone, SlackApiError) as exc:
                log.warning("org %s's workspaces are unknown: %s", org, exc)
        return found

    def _fresh(self, bot: Bot, workspace: str) -> Bot:
        if not bot.bot_refresh_token:
            return bot  # the app does not rotate tokens: this one lasts until revoked
        try:
            rotated = self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_BEFORE
            )
        except SlackTokenRotationError as exc:
            error = exc.api_error.response.get("error")
            if error in ("invalid_refresh_token", "token_revoked", "invalid_auth"):
                raise WorkspaceGone(workspace) from None
            raise
        if rotated is None:
            return bot
        self.installations.save_bot(rotated)
        return rotated


def installation_store(settings: Settings, store: Store) -> SQLAlchemyInstallationStore:
    """slack_sdk's store of installations on slabot's database. Its module (with its state
    store's) is imported here, when slabot is installed by OAuth: it brings SQLAlchemy's
    asyncio extension and greenlet, 2 MB a deployment with one bot token never uses."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    assert settings.slack_client_id is not None
    return SQLAlchemyInstallationStore(settings.slack_client_id, store.engine)


def oauth_settings(settings: Settings, store: Store) -> OAuthSettings:
    """Bolt's OAuth flow (``/slack/install``, ``/slack/oauth_redirect``) on slabot's database:
    bot tokens only (slabot never acts as a person), rotated as `InstalledWorkspaces` does."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

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
