"""Month-end reports: the use case that reads the store and runs the pure figures."""

from .monthly import PolicyReport, ReportError, Reports, monthly, workspaces

__all__ = ["PolicyReport", "ReportError", "Reports", "monthly", "workspaces"]
