"""The clock: the process that performs due timers (reminders, nudges, pages, lifecycle).

* `dispatch`: one tick claims the due timers, performs them and records each outcome.
* `leader`: only one clock dispatches at a time; the others stand by.
* `runner`: APScheduler drives the tick every second or so (``slabot clock``, ``slabot serve``).
* `words`: what a timer is called and why an automatic solve fires, in plain words (pure).
* `maintenance`: reminders of planned maintenance, a second duty of each tick.
* `handoffs`: the rotations' hand-offs, a third duty.
* `operator`: what an operator sees of the timers and how dead ones are sent again.

The database's timers table is the only source of truth (docs/architecture.md, "Timers: the
database is the source of truth"): the clock keeps no state of its own, so a clock can be
killed, restarted or replaced at any moment.
"""
