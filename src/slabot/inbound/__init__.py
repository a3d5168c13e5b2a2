"""Sources of tickets outside Slack's own surfaces, one module per source.

Each reads its outside system's shape, then calls the same use cases as `/sla open` and the
card's buttons (`slabot.tickets`): a ticket from anywhere gets the same card, clocks and
timers, and its ``source``/``source_ref`` so a repeat finds it.
"""
