"""Sources of tickets outside Slack's listeners: the HTTP API (``api/``), and the shared
bearer tokens (``tokens``). Each source calls the same use cases (`slabot.tickets`) as
``/sla open`` does, and gets its card and thread through the same `Publisher`."""
