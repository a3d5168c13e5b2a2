"""A month of LeadSquared tickets in IST, for the report's tests (figures and Block Kit)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slabot.sla.history import Acknowledged, Opened, StatusChanged

IST = ZoneInfo("Asia/Kolkata")


def ist(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST).astimezone(UTC)


def leadsquared_month():
    """LeadSquared, November 2026. Support hours Mon–Fri 10:00–02:00 IST; peak 10:00–19:00.

    * SLA-1 high, Mon 2 Nov 11:00 (peak: first response 60 min). Acknowledged 11:30 (met).
      Waits on the customer 12:00–15:00. Resolved 20:00: 9 h wall, 6 h of support time less
      the wait; resolution (8 h support + the 3 h pause) was due 22:00, so met.
    * SLA-2 high, Mon 2 Nov 20:00 (off-peak: 2 h). Acknowledged 23:00, due 22:00: 1 h late.
      Resolution: 6 h to Tue 02:00 and 2 h from Tue 10:00, due Tue 12:00; resolved 13:00, 1 h
      late. MTTR 17 h wall, 9 h support time.
    * SLA-3 urgent, Wed 4 Nov 10:00 (peak: 30 min), nobody has answered at ``now`` (10:45):
      first response breached 15 min ago; resolution (4 h) still running.
    * SLA-4 medium, Wed 4 Nov 10:40: both targets still running.
    * SLA-0 opened in October: not in the report.
    """
    return [
        ("SLA-0", [Opened(ist(31, 12, month=10), "high")]),
        (
            "SLA-1",
            [
                Opened(ist(2, 11), "high"),
                Acknowledged(ist(2, 11, 30)),
                StatusChanged(ist(2, 12), "waiting_on_customer"),
                StatusChanged(ist(2, 15), "open"),
                StatusChanged(ist(2, 20), "resolved"),
            ],
        ),
        (
            "SLA-2",
            [
                Opened(ist(2, 20), "high"),
                Acknowledged(ist(2, 23)),
                StatusChanged(ist(3, 13), "resolved"),
            ],
        ),
        ("SLA-3", [Opened(ist(4, 10), "urgent")]),
        ("SLA-4", [Opened(ist(4, 10, 40), "medium")]),
    ]
