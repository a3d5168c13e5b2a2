"""Installing the app into many workspaces: ``oauth.v2.access`` and the tokens it hands out.

Slack's OAuth flow as the fake plays it: a person approves the install on Slack's authorize
page, which sends the browser back to the app's redirect URL with a one-use ``code``
(`Installs.grant` is that approval, and returns the code); the app trades the code for the
workspace's bot token at ``oauth.v2.access``. Each token belongs to its workspace: ``auth.test``
and ``team.info`` answer for the caller's workspace, and `Call.token` shows which token every
call carried. A rotating install (``rotating=True``) hands out a token that expires and a
refresh token that ``oauth.v2.access`` (``grant_type=refresh_token``) trades for a new one;
`Installs.revoke` is an uninstall: every token of the workspace stops working.

An org-wide install (``grant(org, org_wide=True, workspaces=[...])``) is an Enterprise Grid org
admin installing the app for the whole org: ``oauth.v2.access`` answers as Slack's reference for
organization-wide apps shows (https://api.slack.com/enterprise/apps/reference):
``is_enterprise_install: true``, ``enterprise: {id, name}``, ``team: null``. Its one token
speaks for every workspace the org added the app to: ``auth.test`` answers with the org
(``enterprise_id``, ``is_enterprise_install``: the fields of slack_sdk's and @slack/web-api's
``AuthTestResponse``), and ``auth.teams.list`` lists those workspaces (Slack's method "to obtain a
full list of workspaces your org-wide app has been approved for"). `team_of` an org token is
the org's id.
"""

from __future__ import annotations

import base64
import itertools
import time
from dataclasses import dataclass
from typing import Any

from .records import APP_ID

INSTALLER = "UINSTALLER"  # who approved the install, as ``authed_user``


@dataclass
class _Grant:
    team_id: str
    team_name: str
    rotating: bool
    expires_in: int
    org_wide: bool = False  # team_id is then the org's (E…) id


@dataclass
class _Token:
    team_id: str
    expires_at: float | None  # time.time() seconds; None: until revoked


class Installs:
    """Mixed into `FakeSlack`: who installed the app, and the tokens each workspace holds."""

    team_id: str
    oauth_client: tuple[str, str] | None
    _caller: str | None

    def _init_installs(self) -> None:
        self.oauth_client = None
        """(client_id, client_secret) ``oauth.v2.access`` accepts; None: any."""
        self._grants: dict[str, _Grant] = {}
        self._issued: dict[str, _Token] = {}
        self._refresh: dict[str, _Grant] = {}
        self._revoked: set[str] = set()
        self._team_names: dict[str, str] = {}
        self._org_workspaces: dict[str, list[str]] = {}
        self._serial = itertools.count(1)
        self._caller = None

    # -- steering ----------------------------------------------------------------------------

    def grant(
        self,
        team_id: str,
        team_name: str | None = None,
        *,
        rotating: bool = False,
        expires_in: int = 43_200,
        org_wide: bool = False,
        workspaces: list[str] | None = None,
    ) -> str:
        """A person of ``team_id`` approved the install: the code Slack's authorize page
        sends back to the redirect URL. ``rotating``: its tokens expire after ``expires_in``
        seconds and come with a refresh token. ``org_wide``: ``team_id`` is an Enterprise Grid
        org's id, whose admin installed the app for the whole org and added it to
        ``workspaces``."""
        code = f"code-{team_id}-{next(self._serial)}"
        name = team_name or f"Workspace {team_id}"
        self._grants[code] = _Grant(team_id, name, rotating, expires_in, org_wide)
        self._team_names[team_id] = name
        if org_wide:
            self._org_workspaces[team_id] = list(workspaces or [])
        return code

    def revoke(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens and refresh tokens stop working."""
        self._revoked.update(t for t, held in self._issued.items() if held.team_id == team_id)
        self._revoked.update(r for r, g in self._refresh.items() if g.team_id == team_id)

    def add_to_org(self, org: str, team_id: str) -> None:
        """The org's admin adds the org-wide app to one more of its workspaces."""
        self._org_workspaces[org].append(team_id)

    def remove_from_org(self, org: str, team_id: str) -> None:
        """The org's admin removes the org-wide app from one of its workspaces."""
        self._org_workspaces[org].remove(team_id)

    def tokens_of(self, team_id: str) -> list[str]:
        """Every bot token handed out to ``team_id``, oldest first (revoked ones too)."""
        return [t for t, held in self._issued.items() if held.team_id == team_id]

    def team_of(self, token: str | None) -> str:
        """The workspace a token belongs to (the fake's own for tokens it did not issue); the
        org's id for an org-wide token."""
        held = self._issued.get(token or "")
        return held.team_id if held else self.team_id

    def team_name(self, team_id: str, default: str) -> str:
        return self._team_names.get(team_id, default)

    # -- answering ---------------------------------------------------------------------------

    def _issued_token_ok(self, token: str) -> bool | None:
        """True or False for a token this fake issued or revoked; None for any other."""
        if token in self._revoked:
            return False
        held = self._issued.get(token)
        if held is None:
            return None
        return held.expires_at is None or time.time() < held.expires_at

    def org_of(self, token: str | None) -> str | None:
        """The Enterprise Grid org an org-wide token speaks for; None for any other token."""
        team = self.team_of(token)
        return team if team in self._org_workspaces else None

    def _m_auth_teams_list(self, args: dict[str, Any]) -> dict[str, Any]:
        org = self.org_of(self._caller)
        if org is None:  # Slack: the method is for org-wide apps
            return {"ok": False, "error": "not_allowed_token_type"}
        teams = [{"id": t, "name": self.team_name(t, t)} for t in self._org_workspaces[org]]
        return {"ok": True, "teams": teams, "response_metadata": {"next_cursor": ""}}

    def _m_oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self._client_ok(args):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            refresh = str(args.get("refresh_token") or "")
            grant = self._refresh.get(refresh)
            if grant is None or refresh in self._revoked:
                return {"ok": False, "error": "invalid_refresh_token"}
            return self._issue(grant, refresh)
        grant = self._grants.pop(str(args.get("code") or ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        refresh = f"xoxe-1-{grant.team_id}-{next(self._serial)}" if grant.rotating else None
        if refresh is not None:
            self._refresh[refresh] = grant
        return self._issue(grant, refresh)

    def _issue(self, grant: _Grant, refresh: str | None) -> dict[str, Any]:
        serial = next(self._serial)
        if grant.rotating:
            token = f"xoxe.xoxb-1-{grant.team_id}-{serial}"
            expires_at: float | None = time.time() + grant.expires_in
        else:
            token, expires_at = f"xoxb-{grant.team_id}-{serial}", None
        self._issued[token] = _Token(grant.team_id, expires_at)
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": INSTALLER},
            "scope": "chat:write,commands",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": getattr(self, "bot_user_id", "UBOT"),
            "team": {"id": grant.team_id, "name": grant.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if grant.org_wide:
            org = {"id": grant.team_id, "name": grant.team_name}
            answer |= {"team": None, "enterprise": org, "is_enterprise_install": True}
        if refresh is not None:
            answer |= {"refresh_token": refresh, "expires_in": grant.expires_in}
        return answer

    def _client_ok(self, args: dict[str, Any]) -> bool:
        if self.oauth_client is None:
            return True
        sent = (args.get("client_id"), args.get("client_secret"))
        basic = getattr(self, "_basic", None)
        return self.oauth_client in (sent, basic)


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """``Authorization: Basic …`` as (user, password), as slack_sdk sends the app's client."""
    if not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
    except ValueError:
        return None
    return user, password
