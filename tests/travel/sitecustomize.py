"""Moves this Python process's clock ahead when ``SLABOT_TEST_TRAVEL_SECONDS`` is set.

.ci/run runs the suite a second time with this folder on ``PYTHONPATH``, so every Python
process of that run (pytest and each ``slabot`` process a test starts) travels by the same
offset from its own start: they all agree on the date, which is more than a year ahead and a
leap day, and the clock keeps ticking. time-machine moves the wall clock only (``time.time``,
``datetime.now`` …), not the monotonic clock that timeouts and sleeps use. (libfaketime, which
moves it for the whole process, makes Python 3.11's ``time.sleep`` fail with EINVAL or its
timed lock waits hang, depending on whether it also moves the monotonic clock.)
"""

import os

_offset = os.environ.get("SLABOT_TEST_TRAVEL_SECONDS")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
    # time-machine's clock starts ticking at the first question, not at `start`: ask now, or
    # a process that spends a second importing before it first asks lags the others by that
    # second (and a message stamped by one looks older than a claim made by another).
    time.time()
