"""A local fake of the Slack Web API: a real HTTP server on 127.0.0.1 that records every call.

Point slack_sdk at it with ``WebClient(token="xoxb-…", base_url=fake.url)`` (or the app's
``SLACK_API_URL``). It answers the methods slabot uses the way Slack does (HTTP 200 with
``{"ok": true, …}`` or ``{"ok": false, "error": …}``), checks Block Kit's size limits like Slack,
and can be told to answer 429 (with ``Retry-After``), 500 or 503, to be slow, or to perform a
call and then hang (answer it late, or only once healed), as Slack does when it is in trouble,
and to enforce Slack's limit of about one message a second per channel (`FakeSlack.limit_posts`,
off by default; with `FakeSlack.delay`, a Slack as far away as slack.com)::

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        client.chat_postMessage(channel="C0001", text="hi")
        [call] = fake.wait_for("chat.postMessage")
        assert call.args["text"] == "hi"

As a pytest fixture (in a test module or ``conftest.py``)::

    @pytest.fixture
    def fake_slack():
        with FakeSlack() as fake:
            yield fake

What it serves
--------------
* ``POST|GET /api/<method>``: the Web API. Arguments are the query string, the form body or the
  JSON body, merged into ``Call.args``. Values of a form body that are JSON arrays or objects
  (``blocks``, ``view``, ``attachments``, …) are decoded, except free-text fields such as
  ``text``, which stay exactly as sent.
* ``POST /upload/<file_id>``: the upload URL that ``files.getUploadURLExternal`` hands out, so
  ``WebClient.files_upload_v2`` works end to end, as slack_sdk performs it: step 1 asks for a
  URL (``filename`` and ``length`` required), step 2 POSTs the raw bytes there (recorded as
  method ``"file.upload"``; refused with HTTP 404 for an ID never handed out and 400 when the
  byte count is not the ``length`` declared), step 3 ``files.completeUploadExternal`` names
  the files (each must have been uploaded) and shares them in ``channel_id``. `FakeSlack.files`
  returns what was shared, bytes included; a shared file also appears as a message with
  ``files`` in its channel.
* ``POST /response/<key>``: a stand-in for Slack's ``response_url`` (what Bolt's ``respond()``
  posts to). Build one with `FakeSlack.response_url`; recorded as method ``"response_url"``.

Answers are lenient where a test would otherwise need set-up (any ``U…`` user exists, updating a
message the fake never saw works) and strict where Slack is strict and slabot could get it
wrong: the token, unknown methods, required arguments, Block Kit limits, view hashes.
"""

from .blockkit import block_kit_errors, view_errors
from .records import TEAM_DOMAIN, Call
from .server import FakeSlack

__all__ = ["TEAM_DOMAIN", "Call", "FakeSlack", "block_kit_errors", "view_errors"]
