"""Tickets from outside Slack: one module per source, each calling the ticket use cases
(`slabot.tickets.Tickets`), never Slack itself (`cards`).

* `alerts`: Alertmanager and Grafana alert groups, routed by the hooks file (`hookroutes`).
* `webhook`: the generic signed webhook other helpdesks (Zendesk, Jira Service Management)
  post to, signed in the Standard Webhooks scheme (`slabot.signatures`).
* `mail`: e-mail read over IMAP by ``slabot mail`` (`mailbox`), routed by sender
  (`mailroutes`); a reply lands on its ticket and resumes a clock waiting on the customer.
* `http`: the hooks' WSGI routes under ``/hooks/``: authentication, JSON in and out, and errors
  that say what to fix (4xx, never a 500).
* `api/`: the HTTP API under ``/api/v1`` (Falcon and spectree), with bearer tokens (`tokens`)
  and an ``Idempotency-Key`` on every change.
"""
