"""Every Slack listener, registered by kind, as Bolt's own starter app does (its
``listeners/__init__.py``): each module registers what it listens to, and this is the one list
of them, in the order Bolt tries them.

======== =========================================== =================================
kind     module                                      listens to
======== =========================================== =================================
command  `command` (`grammar` parses; `leads`,       ``/sla``
         `oncall` answer their subcommands)
actions  `actions`, `pages`                          the card's buttons and menus; a
                                                     page's "On it"
views    `views`                                     the open and update forms submitted
events   `home`                                      ``app_home_opened``
shortcut `shortcuts`                                 on a message, from the menu
function `workflow`                                  the Workflow Builder step
======== =========================================== =================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from . import actions, command, home, pages, shortcuts, views, workflow

if TYPE_CHECKING:
    from .app import Slabot


def register(app: App, bot: Slabot) -> None:
    command.register(app, bot)
    actions.register(app, bot)
    views.register(app, bot)
    home.register(app, bot)
    pages.register(app, bot)
    shortcuts.register(app, bot)
    workflow.register(app, bot)
    actions.register_fallback(app)  # last: Bolt runs the first listener that matches
