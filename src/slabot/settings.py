"""Configuration from the environment and ``.env``: one place that knows every setting.

A missing or malformed setting stops the start with one line naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SLACK_API = "https://slack.com/api/"


class SettingsError(Exception):
    """One line per problem, each naming its environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API
    # Many workspaces: the app's OAuth credentials (Basic Information > App Credentials). Set,
    # slabot is installed through /slack/install and keeps each workspace's token in its
    # database; unset, it runs in the one workspace of SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # The HTTP port of `slabot serve` (platforms such as Heroku set it).
    port: int = 3000
    database_url: str | None = None
    slabot_policies: Path = Path("policies")
    slabot_default_policy: str | None = None
    # The deployment's team file: leads, on-call rotations and who may do what (none: no
    # rotations, no leads).
    slabot_team: Path | None = None
    # The secret in each rotation's iCal feed address (`serve`: /oncall/ROTATION.ics?token=…);
    # calendar apps cannot send headers, so the address is the key (unset: no feeds).
    slabot_oncall_feed_token: SecretStr | None = None
    # Slack user IDs who may always change severity, resolve and close, whatever the policy.
    slabot_admins: Annotated[tuple[str, ...], NoDecode] = Field(default=())
    # Every command's log lines: their level (unset: INFO for `serve` and `clock`, WARNING for
    # the one-shot commands, whose output is their answer), and text or one JSON object a line.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    log_format: Literal["text", "json"] = "text"
    # Inbound hooks (`slabot serve`, /hooks/…): the file routing alerts to policies and
    # channels, the shared secret of each alert hook (off while unset), and the signing secret
    # of the generic webhook (Standard Webhooks; whsec_<base64> or any text).
    slabot_hooks: Path | None = None
    slabot_alertmanager_token: SecretStr | None = None
    slabot_grafana_token: SecretStr | None = None
    slabot_inbound_secret: SecretStr | None = None
    # The inbound webhook for senders that cannot sign Standard Webhooks: Zendesk's own
    # signing secret, and a bearer token (for Jira Automation's "Send web request").
    slabot_zendesk_secret: SecretStr | None = None
    slabot_inbound_token: SecretStr | None = None
    # Where `slabot clock` serves /metrics, /healthz and /readyz (`serve` has them on PORT).
    metrics_port: int | None = None
    # The support mailbox `slabot mail` reads over IMAP (its port: 993 with tls, else 143),
    # and the file that maps each sender to its customer, policy and channel.
    mail_host: str | None = None
    mail_port: int | None = None
    mail_user: str | None = None
    mail_password: SecretStr | None = None
    mail_folder: str = "INBOX"
    mail_security: Literal["tls", "starttls", "none"] = "tls"
    mail_routes: Path = Path("mail-routes.yaml")

    @field_validator("slabot_admins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return (
            tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, str)
            else value
        )

    @field_validator(
        "slabot_alertmanager_token",
        "slabot_grafana_token",
        "slabot_inbound_secret",
        "slabot_zendesk_secret",
        "slabot_inbound_token",
        "slabot_oncall_feed_token",
        mode="before",
    )
    @classmethod
    def _secret_or_unset(cls, value: object) -> object:
        # Empty is unset (the hook is off), never a secret every request knows.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slabot_oncall_feed_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 20:
            raise ValueError(
                "the feed token is the only lock on the feeds: use at least 20 random "
                "characters, such as the output of `openssl rand -hex 16`"
            )
        return value

    @field_validator("slack_client_id", "slack_client_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one_way_in(self) -> Settings:
        """OAuth needs both its credentials, and is one way in: a bot token beside it would
        leave two answers to "which token does this workspace use"."""
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            have, lack = (
                ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
                if self.slack_client_id
                else ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
            )
            raise ValueError(
                f"{lack} is not set but {have} is: installing into many workspaces needs both "
                "(Basic Information > App Credentials); unset both for one workspace "
                "with SLACK_BOT_TOKEN"
            )
        if self.oauth and self.slack_bot_token is not None:
            raise ValueError(
                "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: choose one way in, "
                "SLACK_BOT_TOKEN for one workspace or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                "to install into many through /slack/install"
            )
        return self

    @property
    def oauth(self) -> bool:
        """Installed by OAuth into any number of workspaces (not one bot token)."""
        return self.slack_client_id is not None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb- (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp- (Basic Information page)")
        return value

    @field_validator("log_level", "log_format", "mail_security", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()

    @field_validator("port", "metrics_port", "mail_port", mode="before")
    @classmethod
    def _port(cls, value: object, info: ValidationInfo) -> object:
        text = "" if value is None else str(value).strip()
        if not text and info.field_name in ("metrics_port", "mail_port"):
            return None  # METRICS_PORT= (empty): no metrics server; MAIL_PORT=: the usual one
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ValueError(f"{text!r} is not a TCP port: give a number from 1 to 65535")
        return int(text)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("give the Web API base URL, such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    def require(self, *names: str) -> None:
        """Refuse to start without these settings (by field name). ``slack_bot_token`` stands
        for a way to reach Slack: installed by OAuth, each workspace's token is in the
        database instead."""
        missing = [
            n.upper()
            for n in names
            if getattr(self, n) is None and not (n == "slack_bot_token" and self.oauth)
        ]
        if missing:
            raise SettingsError(
                "\n".join(
                    f"{name} is not set: add it to the environment or .env (see .env.example)"
                    + (
                        ", or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install slabot "
                        "into many workspaces"
                        if name == "SLACK_BOT_TOKEN"
                        else ""
                    )
                    for name in missing
                )
            )


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(
            "\n".join(
                # A problem of several settings together names them in its message.
                (f"{'.'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
                + e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            )
        ) from None
