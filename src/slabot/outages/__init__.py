"""Downtime recorded without a ticket: outages (`service.py`) and planned maintenance
(`maintenance.py`), each its own table, with the notices they owe a channel and their trails."""

from .maintenance import Maintenances
from .service import Outages

__all__ = ["Maintenances", "Outages"]
