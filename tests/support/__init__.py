"""The test kit: what the tests and the benchmarks share, imported as ``support.<module>``.

* ``fakeslack``: a fake Slack Web API over real HTTP (server, methods, Block Kit checks, faults).
* ``signed``: requests built and signed as Slack builds and signs them.
* ``conversation``: the Slack app served over HTTP and a driver that talks to it (``slack``).
* ``desk``: the clock's tests' policy book, moving clock and dispatcher.
* ``surfaces``: checking what a Block Kit builder drew; ``months``: a month of tickets.
* ``processes``: slabot run as its own process (``slabot serve``), and waiting on it.
* ``roles``: the team whose leads the tests record outages and maintenance as.
* ``databases``: a PostgreSQL schema per store; ``properties``: hypothesis' example counts.
* ``reference``: a minute-stepping calendar the engine is checked against.
* ``tcpproxy``: a TCP proxy that can cut a connection (database outages).

No test module imports another: what two tests share lives here.
"""
