"""Outages recorded without a ticket, and planned maintenance: the use cases around them."""

from .service import Outages

__all__ = ["Outages"]
