"""slabot: support SLAs as running clocks in Slack."""

__version__ = "0.1.0"
