"""The deployment's policies: the files (``book``), the versions tickets run under
(``versions``, the ``policy_versions`` table) and which channel uses which (``bindings``,
the ``channel_policies`` table). Everything that answers "which policy?" lives here."""

from .bindings import Binding, ChannelBindings
from .book import PolicyBook
from .versions import PolicyVersions

__all__ = ["Binding", "ChannelBindings", "PolicyBook", "PolicyVersions"]
