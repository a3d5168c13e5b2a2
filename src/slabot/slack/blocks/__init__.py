"""Block Kit builders: a ticket, a queue, a policy or a Home tab in, plain JSON-ready dicts out.

Pure functions. Nothing here talks to Slack or the database or reads the wall clock: ``now`` is
a parameter, so every builder is tested without Slack and renders the same way from a command,
a button or the clock process.

``kit`` holds Slack's limits, text safety and the small blocks; each other module is one
surface built from them (``card``, ``history``, ``queue``, ``home``, ``modals``, ``policy``,
``help``, ``report``, ``outage``, ``notes``). Callers import the surface they draw.
"""
