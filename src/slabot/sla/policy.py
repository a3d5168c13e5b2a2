"""The policy language: one support contract as an immutable, validated `Policy`.

The YAML shape is a contract other tools rely on (see README, "The policy language"). Parsing
is pydantic's; checks that span parts of the file (a target naming an unknown clock, a rule
paging an unknown level) run after it and report the same way, as a key path and a message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .calendar import ALL_HOURS, EPOCH, ONE_US, Calendar, Clock, Window, to_us
from .days import BusinessDays
from .durations import (
    BusinessTime,
    duration_words,
    format_share,
    parse_duration,
    parse_share,
    parse_target_time,
)
from .errors import PolicyError, Problem
from .pauses import Pause, deadline_us, pause_spans

TARGETS = ("time_to_open", "first_response", "resolution", "update_every")
TargetName = Literal["time_to_open", "first_response", "resolution", "update_every"]
STATES = ("open", "pending", "waiting_on_customer", "waiting_on_third_party", "resolved", "closed")
# A ticket still being worked on (its clocks may run), and the waiting states among them (a
# person or a party other than the support team holds it): everything outside ACTIVE is done.
WAITING = ("pending", "waiting_on_customer", "waiting_on_third_party")
ACTIVE = ("open", *WAITING)
StateKey = Literal[
    "open", "pending", "waiting_on_customer", "waiting_on_third_party", "resolved", "closed"
]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ENV = re.compile(r"[A-Z_][A-Z0-9_]*")


def _duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


def _trigger(value: Any) -> Any:
    """``at`` is ``open``, ``breach`` or a share, which is checked like every other share."""
    if value in (None, "open", "breach"):
        return value
    parse_share(value)
    return value


def _window(value: Any) -> Window:
    return value if isinstance(value, Window) else Window.parse(str(value))


def _key(value: Any) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a key: use lower-case letters, digits, '_' or '-', such as 'high'"
        )
    return value


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/London"
        ) from None
    return str(value)


def _month_day(value: Any) -> str:
    try:
        date.fromisoformat(f"2000-{value}")  # a leap year, so 02-29 is allowed
    except (TypeError, ValueError):
        raise ValueError(
            f"{value!r} is not a yearly date: write 'MM-DD', such as '08-15'"
        ) from None
    return str(value)


def _target_time(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_target_time(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
# A target's time may also be business days ("3 business days", "end of the next business
# day"): counted in the open days of its calendar, whatever their hours (`slabot.sla.days`).
TargetTime = Annotated[timedelta, BeforeValidator(_target_time)]
# Every share in a policy (uptime target, credit bands, reminders, a rule's ``at``) is read by
# `parse_share`, whatever its YAML type, so none can slip through as a bare number.
Share = Annotated[float, BeforeValidator(parse_share)]
Trigger = Annotated[str | None, BeforeValidator(_trigger)]
Key = Annotated[str, BeforeValidator(_key)]
WindowSpec = Annotated[Window, BeforeValidator(_window)]
MonthDay = Annotated[str, BeforeValidator(_month_day)]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
# A customer's name as people write it ("Acme Ltd"): a ticket's account, a report's cut.
CUSTOMER_MAX = 200
CustomerName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CUSTOMER_MAX)
]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Holidays(Model):
    """Closed dates: a country's public holidays (``holidays`` package), plus our own."""

    country: str | None = None
    subdiv: str | None = None
    dates: tuple[date, ...] = ()
    annual: tuple[MonthDay, ...] = ()  # closed every year on these MM-DD dates

    @model_validator(mode="after")
    def _known_country(self) -> Holidays:
        if self.subdiv and not self.country:
            raise ValueError("subdiv needs a country")
        if self.country:
            self.public()  # fails early, naming the country or subdivision
        return self

    def public(self) -> Any:
        import holidays

        if not self.country:
            return ()  # no country named: no public holidays
        try:
            return holidays.country_holidays(self.country, subdiv=self.subdiv)
        except NotImplementedError as exc:
            raise ValueError(
                f"no holidays known for country {self.country!r}"
                + (f" subdivision {self.subdiv!r}" if self.subdiv else "")
                + f": {exc}. Use an ISO 3166 code such as GB, IN or US"
            ) from None

    def closed(self) -> Any:
        extra = set(self.dates)
        annual = {(int(md[:2]), int(md[3:])) for md in self.annual}
        public = self.public()
        return lambda day: day in extra or (day.month, day.day) in annual or day in public


class CalendarSpec(Model):
    """Weekly windows in local time (``mon-fri: ["09:00-17:30"]``) and closed dates."""

    hours: dict[str, tuple[WindowSpec, ...]]
    holidays: Holidays | None = None

    @field_validator("hours")
    @classmethod
    def _days_once(cls, hours: dict[str, tuple[Window, ...]]) -> dict[str, tuple[Window, ...]]:
        _week(hours)
        return hours

    def week(self) -> list[tuple[Window, ...]]:
        return _week(self.hours)

    def longest_day(self) -> timedelta:
        """The most open time any weekday has (windows may overlap, so this is an upper bound)."""
        return max(self.day_lengths())

    def day_lengths(self) -> list[timedelta]:
        """How long each weekday (Monday first) is open (an upper bound, as above)."""
        return [timedelta(minutes=sum(w.end - w.start for w in day)) for day in self.week()]


def _week(hours: dict[str, tuple[Window, ...]]) -> list[tuple[Window, ...]]:
    week: list[tuple[Window, ...] | None] = [None] * 7
    for spec, windows in hours.items():
        for day in _days(spec):
            if week[day] is not None:
                raise ValueError(f"{DAYS[day]} is given twice in hours (again in {spec!r})")
            week[day] = windows
    return [day or () for day in week]


def _days(spec: str) -> list[int]:
    text = spec.strip().lower()
    if text in ("daily", "every day"):
        return list(range(7))
    first, _, last = text.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(
            f"{spec!r} is not a day: write mon, tue, wed, thu, fri, sat or sun, "
            "a range such as 'mon-fri', or 'daily'"
        )
    a = DAYS.index(first)
    b = DAYS.index(last) if last else a
    return [(a + i) % 7 for i in range((b - a) % 7 + 1)]


class Target(Model):
    """A promised time (``within``) measured on a named clock (a calendar or ``24x7``)."""

    within: TargetTime
    clock: str
    # A different time when the ticket opens while another calendar is open (peak hours).
    opened_in: dict[str, Duration] = Field(default_factory=dict)
    # Resolution only: an update marked as a workaround meets it too ("Target Resolution or
    # Mitigation"); the ticket stays open, and MTTR still counts to the resolution.
    mitigation: bool = False
    # Resolution only: a release date agreed with the customer stands for the target when it
    # is later ("10 business days, or specific release").
    agreed_release: bool = False
    clause: str | None = None

    @property
    def in_business_days(self) -> bool:
        return isinstance(self.within, BusinessTime)

    @model_validator(mode="after")
    def _peaks_count_like_within(self) -> Target:
        if self.opened_in and self.in_business_days:
            raise ValueError(
                "opened_in gives times in hours on the target's clock; a target in business "
                "days has no peak-hour times: write within in hours, or drop opened_in"
            )
        return self


class Targets(Model):
    time_to_open: Target | None = None
    first_response: Target | None = None
    resolution: Target | None = None
    update_every: Target | None = None

    @model_validator(mode="after")
    def _mitigation_meets_resolution_only(self) -> Targets:
        for name in ("time_to_open", "first_response", "update_every"):
            target = getattr(self, name)
            for flag in ("mitigation", "agreed_release"):
                if target is not None and getattr(target, flag):
                    raise ValueError(f"'{flag}' goes with the resolution target, not {name}")
        return self

    def items(self) -> list[tuple[str, Target]]:
        return [(name, t) for name in TARGETS if (t := getattr(self, name)) is not None]


class Severity(Model):
    key: Key
    label: str
    aliases: tuple[str, ...] = ()
    definition: str = ""
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    outage: bool = False  # tickets of this severity count as downtime
    targets: Targets = Targets()
    clause: str | None = None


def _env_name(value: Any) -> str:
    if not isinstance(value, str) or not _ENV.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an environment variable name: use capitals, digits and '_', "
            "such as PAGERDUTY_ROUTING_KEY"
        )
    return value


EnvName = Annotated[str, BeforeValidator(_env_name)]


class PagerDuty(Model):
    """A PagerDuty Events API v2 integration. The policy names the environment variable that
    holds the routing key, never the key itself: policy files are shared and versioned."""

    routing_key_env: EnvName


class Webhook(Model):
    """A generic pager: signed JSON posted to ``url`` (the secret, like a key, comes from the
    environment)."""

    url: str
    secret_env: EnvName

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not a web address: use https://…")
        return value


class EscalationLevel(Model):
    key: Key
    label: str
    # Slack users (U…), user groups (S…) or channels (C… or #name); supplied per deployment.
    contacts: tuple[str, ...] = ()
    # A rotation of the deployment's team file: whoever is on call in it when a page is due
    # is paged too (besides ``contacts``).
    rotation: Key | None = None
    clause: str | None = None
    pagerduty: PagerDuty | None = None  # also page through PagerDuty
    webhook: Webhook | None = None  # also page through a signed webhook
    # Quiet hours: outside this calendar's hours a page to the level that is not critical
    # (`Escalation.critical`) waits for the hours to start, and its repeats count from then.
    quiet_outside: str | None = None
    # A support level (`Escalation.support_levels`): what kind of query it takes, so a
    # ticket is routed to it at opening (`slabot.sla.levels`).
    definition: str = ""
    keywords: tuple[str, ...] = ()


class EscalationRule(Model):
    """When to page a level: ``at`` open, breach or a share of a target, or ``after`` a time."""

    page: Key
    severities: tuple[str, ...] | None = None  # None: every severity
    at: Trigger = None  # "open", "breach" or a share such as "75%"
    of: TargetName | None = None
    after: Duration | None = None
    clock: str = "24x7"  # the clock ``after`` and ``repeat`` count on
    unless: tuple[Literal["eta", "workaround"], ...] = ()
    repeat: Duration | None = None  # page again this often until someone acknowledges
    clause: str | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> EscalationRule:
        if (self.at is None) == (self.after is None):
            raise ValueError("give exactly one of 'at' (open, breach or a share) or 'after'")
        if self.at is not None and self.at != "open":
            if self.of is None:
                raise ValueError(f"'at: {self.at}' needs 'of: <target>', such as first_response")
        elif self.of is not None:
            raise ValueError("'of' goes with 'at: breach' or 'at: <share>'")
        if self.unless and self.after is None:
            raise ValueError("'unless' goes with 'after'")
        if self.repeat is not None and self.repeat <= timedelta(0):
            raise ValueError("'repeat' must be longer than zero")
        return self

    @property
    def share(self) -> float | None:
        """The share of the target at which this rule fires (1.0 at breach)."""
        if self.at == "breach":
            return 1.0
        if self.at and self.at != "open":
            return parse_share(self.at)
        return None

    def applies_to(self, severity: str) -> bool:
        return self.severities is None or severity in self.severities


# A rule's ``page`` naming no level but the ticket's own support level (`support_levels`).
SUPPORT_LEVEL = "support_level"


class Escalation(Model):
    levels: tuple[EscalationLevel, ...]
    rules: tuple[EscalationRule, ...] = ()
    # Levels a ticket is routed to at opening by the nature of the query (LeadPro's Level 1,
    # 2, 3), the first being where a query goes when nothing says otherwise. A routed ticket's
    # reminders mention its level's people, and a rule may page ``support_level``.
    support_levels: tuple[Key, ...] = ()
    # The severities whose pages never wait for a level's quiet hours; None: the policy's
    # first (most severe) severity alone.
    critical: tuple[str, ...] | None = None

    def level(self, key: str) -> EscalationLevel:
        """The level of ``key``; KeyError for one this policy has not (a newer version of the
        policy may have dropped a level that an older ticket's timer names)."""
        return self._levels[key]

    @cached_property
    def _levels(self) -> dict[str, EscalationLevel]:
        return {level.key: level for level in self.levels}


class State(Model):
    label: str
    pauses: bool = False  # no target's clock runs while a ticket is in this state
    definition: str = ""
    clause: str | None = None


class AutoSolve(Model):
    """Solve a ticket waiting on the customer after this many follow-ups or this long."""

    follow_ups: int | None = Field(default=None, ge=1)
    after: Duration | None = None


class Lifecycle(Model):
    """Follow-ups, auto-solve, reopen and auto-close windows, in real (24x7) time."""

    follow_up_every: Duration | None = None
    auto_solve: AutoSolve | None = None
    reopen_within: Duration | None = None
    close_after: Duration | None = None
    clause: str | None = None

    @model_validator(mode="after")
    def _follow_ups_need_interval(self) -> Lifecycle:
        if self.auto_solve and self.auto_solve.follow_ups and not self.follow_up_every:
            raise ValueError("auto_solve.follow_ups needs follow_up_every")
        return self


class CreditBand(Model):
    below: Share  # monthly uptime below this share …
    credit: Share  # … earns this share of the month's charges
    clause: str | None = None  # the contract's words, quoted on the customer statement


class Maintenance(Model):
    notice: Duration  # announce planned downtime at least this long ahead
    outside: str | None = None  # … and hold it outside this calendar's hours
    clause: str | None = None


class Cause(Model):
    """Why the service was down, as the contract names it, and what it leaves out: downtime
    of an ``uptime`` cause is not downtime at all (LeadPro: "not responsible for any downtime
    caused by general downtime to the host servers (AWS)"); downtime of a ``credits`` cause
    counts against uptime but earns no credit ("Service Credits will not be applicable for
    unavailability caused by Force Majeure"); ``none`` only names it."""

    label: str
    excluded_from: Literal["uptime", "credits", "none"] = "uptime"
    clause: str | None = None


class Uptime(Model):
    target: Share
    credits: tuple[CreditBand, ...] = ()
    claim_within: Duration | None = None
    claim_clause: str | None = None  # how and by when a credit is claimed, as the contract says
    unplanned_downtime_max: Duration | None = None  # a month's allowance
    maintenance: Maintenance | None = None
    # The causes of downtime the contract names, by key: tickets and outages carry one.
    causes: dict[Key, Cause] = Field(default_factory=dict)
    # Text only, from before `causes`: still read, so older stored versions of a policy parse.
    excludes: tuple[str, ...] = ()
    clause: str | None = None

    def credit_for(self, uptime: float) -> float:
        """The service credit owed for a month's uptime share (0.0 when the target was met)."""
        band = self.credit_band(uptime)
        return 0.0 if band is None else band.credit

    def credit_band(self, uptime: float) -> CreditBand | None:
        """The band a month's uptime share falls in: the largest credit of those it is below."""
        owed = [band for band in self.credits if uptime < band.below]
        return max(owed, key=lambda band: band.credit, default=None)


class Support(Model):
    channels: tuple[str, ...] = ()
    hours: str = ""


Principal = Annotated[str, BeforeValidator(lambda v: _principal(v))]


def _principal(value: Any) -> str:
    text = str(value)
    if text in PRINCIPALS or re.fullmatch(r"[UW][A-Z0-9]{2,}", text):
        return text
    raise ValueError(
        f"{text!r} is not someone: use {', '.join(PRINCIPALS)} or a Slack user ID such as U0123ABCD"
    )


PRINCIPALS = ("anyone", "owner", "reporter", "escalation", "leads")


class Permissions(Model):
    """Who may do what to a ticket: roles (owner, reporter, escalation: anyone in the matrix,
    its levels' contacts and whoever their rotations have on call; leads: the deployment's
    leads; anyone) or Slack user IDs. Deployment admins may always act.

    Interpretation (the seeds name who escalates, not who may close): the defaults are what a
    support team expects, the ticket's owner, the people it escalates to and the team's leads;
    a policy may narrow any of them."""

    change_severity: tuple[Principal, ...] = ("owner", "reporter", "escalation", "leads")
    resolve: tuple[Principal, ...] = ("owner", "escalation", "leads")
    reopen: tuple[Principal, ...] = ("owner", "reporter", "escalation", "leads")
    close: tuple[Principal, ...] = ("owner", "escalation", "leads")
    # Handing a ticket to someone (taking it is acknowledging it, open to anyone), and
    # pausing or resuming its clocks: either moves the contract's deadlines.
    assign: tuple[Principal, ...] = ("owner", "escalation", "leads")
    pause: tuple[Principal, ...] = ("owner", "reporter", "escalation", "leads")
    # Recording a release agreed with the customer: it can move the resolution's due date.
    agree_release: tuple[Principal, ...] = ("owner", "escalation", "leads")
    # Correcting the downtime a ticket implies (not an outage; caused by AWS): it moves the
    # month's uptime and the credits owed, so the matrix, the leads and admins only.
    correct_downtime: tuple[Principal, ...] = ("escalation", "leads")


class Policy(Model):
    """One support contract: severities and their targets, clocks, escalation, lifecycle."""

    name: Key
    title: str = ""
    source: str | None = None  # the document this policy encodes
    timezone: TimeZoneName
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    severities: tuple[Severity, ...]
    reminders: dict[TargetName, tuple[Share, ...]] = Field(default_factory=dict)
    escalation: Escalation | None = None
    states: dict[StateKey, State] = Field(default_factory=dict)
    lifecycle: Lifecycle = Lifecycle()
    permissions: Permissions = Permissions()
    uptime: Uptime | None = None
    support: Support | None = None
    # The customers the contract is with: one, usually (LeadPro: "the Client"). One named is
    # every ticket's customer by default; several, a ticket names one of them (`customer_for`).
    customers: tuple[CustomerName, ...] = ()

    digest: str = ""

    @field_validator("customers")
    @classmethod
    def _distinct_customers(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        folded = [n.casefold() for n in names]
        twice = sorted({n for n in names if folded.count(n.casefold()) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is named twice: name each customer once")
        return names  # hash of the file it was loaded from: which version a ticket ran under

    @model_validator(mode="before")
    @classmethod
    def _no_reserved_calendar(cls, data: Any) -> Any:
        if isinstance(data, dict) and "24x7" in (data.get("calendars") or {}):
            raise ValueError("'24x7' is the built-in all-hours clock; name your calendar otherwise")
        return data

    @model_validator(mode="after")
    def _references(self) -> Policy:
        problems = list(_reference_problems(self))
        if problems:
            raise PolicyError(problems)
        return self

    # -- lookups ------------------------------------------------------------------------------

    @cached_property
    def _clocks(self) -> dict[str, Clock]:
        """Each calendar as a `Calendar` (which builds its intervals lazily), and ``24x7``.
        A cached property rather than a private attribute: the engine asks for clocks many
        times a schedule, and pydantic serves private attributes through ``__getattr__``."""
        clocks: dict[str, Clock] = {"24x7": ALL_HOURS}
        for name, spec in self.calendars.items():
            closed = spec.holidays.closed() if spec.holidays else (lambda day: False)
            clocks[name] = Calendar(name, self.tz, spec.week(), closed)
        return clocks

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _severity_index(self) -> dict[str, Severity]:
        """Each severity by its key and aliases, as written and in lower case: the spellings
        callers pass, found with one lookup. Anything else is stripped and lower-cased first."""
        index = {}
        for severity in self.severities:
            for name in (severity.key, *severity.aliases):
                index[name] = index[name.lower()] = severity
        return index

    @cached_property
    def _allowances(self) -> dict[str, dict[str, Allowance | None]]:
        """Every target of every severity ready for arithmetic, under the spellings of
        ``_severity_index``: the deadline's fast path is two lookups."""
        by_key = {
            s.key: {name: self._allowance_of(getattr(s.targets, name)) for name in TARGETS}
            for s in self.severities
        }
        return {name: by_key[s.key] for name, s in self._severity_index.items()}

    def _allowance_of(self, spec: Target | None) -> Allowance | None:
        if spec is None:
            return None
        peaks = tuple((self.clock(name), within) for name, within in spec.opened_in.items())
        within, to_day_end = spec.within, False
        if isinstance(within, BusinessTime):
            to_day_end = within.to_day_end
            if within.weeks:
                within = timedelta(days=within.count * self.days_a_week(spec.clock))
        fixed = None if peaks or to_day_end else within // ONE_US
        return Allowance(self.target_clock(spec), within, peaks, fixed, to_day_end)

    def _allowance(self, severity: str, target: str) -> Allowance | None:
        """A severity's target (None: it has none); KeyError naming the valid targets, or
        listing the valid severities, for an unknown one."""
        try:
            return self._allowances[severity][target]
        except KeyError:
            if target not in TARGETS:
                raise KeyError(
                    f"unknown target {target!r}: use one of {', '.join(TARGETS)}"
                ) from None
            return self._allowances[self.severity(severity).key][target]

    def clock(self, name: str) -> Clock:
        return self._clocks[name]

    def customer_for(self, named: str | None) -> str | None:
        """The customer of a ticket opened under this policy that names ``named`` (None: it
        names none): the policy's own customer when it names exactly one, and else whoever
        is named. A policy that lists its customers takes only those (in any case, written
        as the policy writes them); ValueError says which it has.

        Interpretation: the seeds are each one vendor's contract with "the Client" (001) or
        "Customers and Partners" (002), so a policy may name one customer, several (a
        contract shared by a group's companies), or none (any customer, named per ticket).
        """
        named = " ".join(named.split()) if named else None
        if not self.customers:
            if named is not None and len(named) > CUSTOMER_MAX:
                raise ValueError(f"a customer's name is at most {CUSTOMER_MAX} characters")
            return named
        if named is None:
            return self.customers[0] if len(self.customers) == 1 else None
        found = next((c for c in self.customers if c.casefold() == named.casefold()), None)
        if found is None:
            raise ValueError(
                f"{named[:60]!r} is not a customer of the {self.name} policy: name one of "
                + ", ".join(self.customers)
            )
        return found

    @cached_property
    def _day_clocks(self) -> dict[str, BusinessDays]:
        return {
            name: BusinessDays(clock)
            for name, clock in self._clocks.items()
            if isinstance(clock, Calendar)
        }

    def target_clock(self, target: Target) -> Clock | BusinessDays:
        """The clock a target's time runs on: its calendar's hours, or its calendar's open days
        when the target is in business days."""
        if target.in_business_days:
            return self._day_clocks[target.clock]
        return self._clocks[target.clock]

    def days_a_week(self, clock: str) -> int:
        """How many days of its week a calendar opens: the business days in a business week."""
        return sum(1 for day in self.calendars[clock].week() if day)

    def duration_words(self, within: timedelta, clock: str) -> str:
        """``within`` on the clock named ``clock`` as people should read it (`duration_words`):
        ``24h (2 days of 12h)`` on a 12-hour calendar, never ``1d``."""
        spec = self.calendars.get(clock)
        return duration_words(within, spec.day_lengths() if spec else ())

    def target_words(self, target: Target, within: timedelta | None = None) -> str:
        """A target's time as the contract says it: "3 business days", "end of the next
        business day", or hours on its clock (`duration_words`); ``within`` is the time one
        ticket was given, where the moment of opening changed it (peak hours)."""
        if isinstance(target.within, BusinessTime):
            return target.within.words(self.days_a_week(target.clock))
        within = target.within if within is None else within
        if within <= timedelta(0):
            return "immediately"
        return self.duration_words(within, target.clock)

    @property
    def critical(self) -> tuple[str, ...]:
        """The severities whose pages never wait for a level's quiet hours: the escalation's
        ``critical``, else the first (most severe) severity alone."""
        listed = self.escalation.critical if self.escalation else None
        return listed if listed is not None else (self.severities[0].key,)

    def severity(self, name: str) -> Severity:
        """A severity by key or alias, any case; KeyError lists the valid keys."""
        found = self._severity_index.get(name)
        if found is not None:
            return found
        try:
            return self._severity_index[name.strip().lower()]
        except KeyError:
            raise KeyError(
                f"unknown severity {name!r} for policy {self.name}: use one of "
                + ", ".join(self.severity_names())
            ) from None

    def severity_names(self) -> list[str]:
        return [
            s.key + (f" ({', '.join(s.aliases)})" if s.aliases else "") for s in self.severities
        ]

    @cached_property
    def pausing_states(self) -> frozenset[str]:
        """The states whose time no target counts; cached, since every ticket a report
        judges asks (the policy is frozen)."""
        return frozenset(key for key, state in self.states.items() if state.pauses)

    def may(
        self,
        action: str,
        user: str,
        *,
        owner: str | None,
        reporter: str | None,
        escalation: frozenset[str] = frozenset(),
        leads: frozenset[str] = frozenset(),
    ) -> bool:
        """Whether ``user`` may ``action`` (a field of `Permissions`) a ticket. The levels'
        contacts are the matrix; ``escalation`` adds whom else it reaches now (whoever the
        levels' rotations have on call), and ``leads`` are the deployment's: both are the
        team's, which the policy does not hold."""
        allowed = getattr(self.permissions, action)
        contacts = (
            {c for level in self.escalation.levels for c in level.contacts}
            if (self.escalation)
            else set()
        )
        return (
            "anyone" in allowed
            or user in allowed
            or ("owner" in allowed and user == owner)
            or ("reporter" in allowed and user == reporter)
            or ("escalation" in allowed and (user in contacts or user in escalation))
            or ("leads" in allowed and user in leads)
        )

    def level_label(self, key: str | None) -> str:
        """An escalation level's label; its key when this version has no such level (an older
        ticket's page), "escalation" when there is no key at all, and the rule's own words
        for a rule that pages whichever level the ticket was routed to."""
        if not key:
            return "escalation"
        if key == SUPPORT_LEVEL:
            return "the ticket's support level"
        try:
            return self.escalation.level(key).label if self.escalation else key
        except KeyError:
            return key

    def state_label(self, key: str) -> str:
        state = self.states.get(key)  # type: ignore[call-overload]
        return state.label if state else key.replace("_", " ").capitalize()

    # -- arithmetic ---------------------------------------------------------------------------

    def within(self, severity: str, target: str, opened_at: datetime) -> timedelta | None:
        """The time a target allows for a ticket opened at ``opened_at``; None: no target.

        A target may allow a different time when the ticket opens while another calendar is
        open (LeadSquared's peak hours): the moment of opening decides.
        """
        allowance = self._allowance(severity, target)
        return None if allowance is None else allowance.at(to_us(opened_at))

    def within_us(self, severity: str, target: str, opened: int) -> int | None:
        """`within` in microseconds for a ticket opened at ``opened`` (epoch microseconds):
        what the engine's arithmetic takes, without a timedelta when no peak hours or day's
        end can change it (a report asks for every ticket's targets)."""
        allowance = self._allowance(severity, target)
        if allowance is None:
            return None
        fixed = allowance.fixed_us
        return allowance.at(opened) // ONE_US if fixed is None else fixed

    def deadline(
        self,
        severity: str,
        target: str,
        start: datetime,
        pauses: list[Pause] | tuple[Pause, ...] = (),
        *,
        share: float = 1.0,
    ) -> datetime | None:
        """When ``share`` of a target runs out for a clock started at ``start``, in UTC.

        ``start`` is when the ticket opened (for ``time_to_open``, when the problem was
        reported). None when the severity has no such target, or the clock never runs out.

        Every card, list and clock tick calls this, so the common case (no pauses, the whole
        target, no peak hours) is one lookup and one calendar addition.
        """
        try:
            allowance = self._allowances[severity][target]
        except KeyError:
            allowance = self._allowance(severity, target)
        if allowance is None:
            return None
        try:  # to_us and from_us, inlined on the hot path
            opened = (start - EPOCH) // ONE_US
        except TypeError:
            opened = to_us(start)  # says what is wrong
        within = allowance.fixed_us if share == 1.0 else None
        if within is None:
            within = allowance.duration_us(opened, share)
        if pauses:
            due = deadline_us(allowance.clock, opened, within, pause_spans(pauses))
        else:
            due = allowance.clock.add_us(opened, within)
        return None if due is None else EPOCH + ONE_US * due

    def deadlines(
        self,
        severity: str,
        target: str,
        starts: Sequence[datetime],
        pauses: list[Pause] | tuple[Pause, ...] = (),
        *,
        share: float = 1.0,
    ) -> list[datetime | None]:
        """`deadline` for many starts at once (the same pauses for each), in the order given,
        with the same answers: each one is what `deadline` returns for that start."""
        try:  # to_us and from_us inlined, as in `deadline`
            opened = [(start - EPOCH) // ONE_US for start in starts]
        except TypeError:
            opened = [to_us(start) for start in starts]  # says which one is wrong
        dues = self.deadlines_us(severity, target, opened, pauses, share=share)
        return [None if due is None else EPOCH + ONE_US * due for due in dues]

    def deadlines_us(
        self,
        severity: str,
        target: str,
        starts: Sequence[int],
        pauses: list[Pause] | tuple[Pause, ...] = (),
        *,
        share: float = 1.0,
    ) -> list[int | None]:
        """`deadlines` on epoch microseconds, for callers that already hold them: converting
        to and from datetimes costs more than the arithmetic itself (bench/README.md)."""
        allowance = self._allowance(severity, target)
        if allowance is None:
            return [None] * len(starts)
        clock = allowance.clock
        within: int | list[int] | None = allowance.fixed_us if share == 1.0 else None
        if within is None:
            within = [allowance.duration_us(start, share) for start in starts]
        if pauses:
            spans = pause_spans(pauses)
            each = [within] * len(starts) if isinstance(within, int) else within
            return [deadline_us(clock, s, w, spans) for s, w in zip(starts, each, strict=True)]
        added: list[int | None] = [*clock.add_many_us(starts, within)]
        return added


@dataclass(frozen=True, slots=True)
class Allowance:
    """One severity's target, ready for arithmetic: its clock and the time it allows.

    ``peaks`` are the times allowed instead when the ticket opens while another calendar is
    open, in the policy's order (the first open one wins).
    """

    clock: Clock | BusinessDays
    within: timedelta
    peaks: tuple[tuple[Clock, timedelta], ...]
    # ``within`` in microseconds whenever the moment of opening cannot change it (no peaks).
    fixed_us: int | None
    # "by the end of the (next) business day": the rest of the day it is received on, too.
    to_day_end: bool = False

    def at(self, opened: int) -> timedelta:
        """The time allowed for a ticket opened at ``opened`` (epoch microseconds)."""
        if self.to_day_end:
            return self.within + ONE_US * self.clock.to_day_end_us(opened)  # type: ignore[union-attr]
        for clock, within in self.peaks:
            if clock.next_open_us(opened) == opened:
                return within
        return self.within

    def duration_us(self, opened: int, share: float) -> int:
        """``share`` of the time allowed, in microseconds (rounded as timedelta rounds)."""
        return self.at(opened) * share // ONE_US


def _reference_problems(policy: Policy):
    """Checks that span parts of the file, each as (key path, message)."""
    clocks = {"24x7", *policy.calendars}
    clock_hint = ", ".join(sorted(clocks))
    if not policy.severities:
        yield Problem("severities", "a policy needs at least one severity")
    seen: dict[str, str] = {}
    for i, severity in enumerate(policy.severities):
        for j, name in enumerate((severity.key, *severity.aliases)):
            where = f"severities[{i}]" + ("" if j == 0 else f".aliases[{j - 1}]")
            if name.lower() in seen:
                yield Problem(where, f"{name!r} already names severity {seen[name.lower()]!r}")
            seen[name.lower()] = severity.key
        for name, target in severity.targets.items():
            path = f"severities[{i}].targets.{name}"
            if target.clock not in clocks:
                yield Problem(
                    f"{path}.clock", f"unknown clock {target.clock!r}: use one of {clock_hint}"
                )
            elif target.in_business_days and target.clock not in policy.calendars:
                yield Problem(
                    f"{path}.within",
                    f"{target.within.spelling!r} counts the open days of a calendar, and "  # type: ignore[attr-defined]
                    f"{target.clock!r} has none: name a calendar as the clock, or write hours",
                )
            for calendar in target.opened_in:
                if calendar not in policy.calendars:
                    yield Problem(f"{path}.opened_in.{calendar}", f"unknown calendar {calendar!r}")
    if "time_to_open" in policy.reminders:
        yield Problem(
            "reminders.time_to_open",
            "a ticket cannot be reminded of its time to open: it exists only once opened",
        )
    levels = [level.key for level in policy.escalation.levels] if policy.escalation else []
    for i, level in enumerate(levels):
        if level in levels[:i]:
            yield Problem(f"escalation.levels[{i}].key", f"level {level!r} is given twice")
    keys = [s.key for s in policy.severities]
    for i, spec in enumerate(policy.escalation.levels if policy.escalation else ()):
        if spec.quiet_outside is not None and spec.quiet_outside not in policy.calendars:
            yield Problem(
                f"escalation.levels[{i}].quiet_outside",
                f"unknown calendar {spec.quiet_outside!r}: use one of "
                f"{', '.join(sorted(policy.calendars)) or '(none defined)'}",
            )
    for i, key in enumerate(policy.escalation.critical or () if policy.escalation else ()):
        if key not in keys:
            yield Problem(
                f"escalation.critical[{i}]",
                f"unknown severity {key!r}: use one of {', '.join(keys)}",
            )
    rules = policy.escalation.rules if policy.escalation else ()
    routed = policy.escalation.support_levels if policy.escalation else ()
    for i, key in enumerate(routed):
        if key not in levels:
            yield Problem(
                f"escalation.support_levels[{i}]",
                f"unknown level {key!r}: use one of {', '.join(levels) or '(none defined)'}",
            )
    for i, rule in enumerate(rules):
        path = f"escalation.rules[{i}]"
        if rule.page == SUPPORT_LEVEL and not routed:
            yield Problem(
                f"{path}.page",
                "'support_level' pages the level a ticket is routed to: list the levels "
                "under escalation.support_levels first",
            )
        elif rule.page not in levels and rule.page != SUPPORT_LEVEL:
            yield Problem(
                f"{path}.page",
                f"unknown level {rule.page!r}: use one of {', '.join(levels) or '(none defined)'}",
            )
        for j, key in enumerate(rule.severities or ()):
            if key not in keys:
                yield Problem(
                    f"{path}.severities[{j}]",
                    f"unknown severity {key!r}: use one of {', '.join(keys)}",
                )
        if rule.clock not in clocks:
            yield Problem(f"{path}.clock", f"unknown clock {rule.clock!r}: use one of {clock_hint}")
    uptime = policy.uptime
    if uptime:
        yield from _band_problems(uptime)
    outside = uptime.maintenance.outside if uptime and uptime.maintenance else None
    if outside and outside not in policy.calendars:
        yield Problem("uptime.maintenance.outside", f"unknown calendar {outside!r}")


def _band_problems(uptime: Uptime):
    """Credit bands run from the mildest shortfall to the worst, each owing more than the one
    before, and none reaches above the target: otherwise a month that met the target would owe
    money, or a worse month less than a better one."""
    previous = None
    for i, band in enumerate(uptime.credits):
        path = f"uptime.credits[{i}]"
        if band.below > uptime.target:
            yield Problem(
                f"{path}.below",
                f"{format_share(band.below)} is above the target {format_share(uptime.target)}: "
                "a month that met the target would owe a credit",
            )
        if previous is not None and not band.below < previous.below:
            yield Problem(
                f"{path}.below",
                f"list the bands from the highest 'below' to the lowest: "
                f"{format_share(band.below)} comes after {format_share(previous.below)}",
            )
        elif previous is not None and not band.credit > previous.credit:
            yield Problem(
                f"{path}.credit",
                f"a lower uptime must earn a larger credit: below {format_share(band.below)} "
                f"earns {format_share(band.credit)}, no more than the "
                f"{format_share(previous.credit)} of the band before",
            )
        previous = band
