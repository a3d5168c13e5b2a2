"""slack_sdk's OAuth stores' tables, as slack_sdk declares them, in the metadata the migrations
are checked against (``slack_installations``, ``slack_bots``, ``slack_oauth_states``; see
`slabot.store.tables`).

They are declared here rather than beside the other tables because slack_sdk declares them
in the module of its SQLAlchemy stores, which imports SQLAlchemy's asyncio extension and
greenlet for its async stores: 2 MB that a deployment with one bot token (no OAuth) never
uses. `slabot.store.tables` is imported by every process that opens the store; this module
only by the migrations (``migrations/env.py``) and by whoever checks or reads these tables
directly. The stores themselves (`slabot.slack.workspaces`) build their own copies of the same
tables, and are imported only when slabot is installed by OAuth.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from .records import METADATA

SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    METADATA, "slack_installations"
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(METADATA, "slack_bots")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    METADATA, "slack_oauth_states"
)
