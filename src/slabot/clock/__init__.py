"""The clock: the process that performs due timers (reminders, nudges, pages, lifecycle).

* `dispatch`: one tick claims the due timers, performs them and records each outcome.
* `leader`: only one clock dispatches at a time; the others stand by.
* `runner`: APScheduler drives the tick every second or so (``slabot clock``, ``slabot serve``).
* `words`: what a timer is called and why an automatic solve fires, in plain words (pure).
* `notices`: the notices owed outside tickets (maintenance's announcement and reminders,
  outage announcements), a second duty of each tick.
* `handoffs`: the rotations' hand-offs, a third duty.

The database's timers table is the only source of truth (docs/architecture.md, "Timers: the
database is the source of truth"): the clock keeps no state of its own, so a clock can be
killed, restarted or replaced at any moment.
"""
