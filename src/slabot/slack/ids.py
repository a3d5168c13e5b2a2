"""Every id Slack sends back to us: a button's ``action_id``, a block's ``block_id``, a form's
``callback_id``. The builders set them and the listeners match them, so each is written once,
here: a renamed id can never leave a button that nothing answers."""

# The ticket card's buttons (block TICKET_BLOCK); each value is "<number>:<version>".
TICKET_BLOCK = "sla_ticket"
ACK = "sla_ack"
SEVERITY = "sla_severity"  # the severity menu; an option's value adds ":<severity key>"
POST_UPDATE = "sla_update"  # opens the update form; on the card and on update reminders
WAIT = "sla_wait"
RESUME = "sla_resume"
RESOLVE = "sla_resolve"
REOPEN = "sla_reopen"
CLOSE = "sla_close"

# A timer's message (block TIMER_BLOCK): "I'm on it" on a page; value "<number>:<level>".
TIMER_BLOCK = "sla_timer"
PAGE_ACK = "sla_page_ack"

# The severity question: one button per severity, PICK_SEVERITY + the severity's key.
PICK_SEVERITY = "sla_pick_severity_"

# The question before a typed update's ETA puts off a duty: *Post it* (value: the pending
# update) and *Cancel*.
CONFIRM_UPDATE = "sla_update_confirm"
CANCEL_UPDATE = "sla_update_cancel"

# Forms (callback ids), and the open form's policy menu, which redraws the form.
OPEN_FORM = "sla_open"
UPDATE_FORM = "sla_update"
OPEN_POLICY = "sla_open_policy"
