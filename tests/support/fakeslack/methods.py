"""The Web API methods the fake answers, one ``_m_<method>`` each, as Slack answers them."""

from __future__ import annotations

import time
from typing import Any

from .blockkit import view_errors
from .records import APP_ID, TEAM_DOMAIN, TEAM_NAME
from .wire import _history_page


class WebApiMethods:
    """Mixed into `FakeSlack`: its state (messages, views, files) lives there."""

    def _m_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team_id = self.team_of(self._caller)  # the caller's workspace (or org), by its token
        org = self.org_of(self._caller)
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": self.team_name(team_id, TEAM_NAME),
            "user": "slabot",
            "team_id": team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "enterprise_id": org,
            "is_enterprise_install": org is not None,
        }

    def _m_bots_info(self, args: dict[str, Any]) -> dict[str, Any]:
        bot = {"id": args.get("bot", self.bot_id), "deleted": False, "name": "slabot"}
        return {"ok": True, "bot": {**bot, "app_id": APP_ID, "user_id": self.bot_user_id}}

    def _m_team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        team_id = args.get("team") or self.team_of(self._caller)
        team = {"id": team_id, "name": self.team_name(team_id, TEAM_NAME), "domain": TEAM_DOMAIN}
        return {"ok": True, "team": team}

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": APP_ID,
            "text": args.get("text", ""),
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                message[key] = args[key]
        return message

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return {"ok": False, "error": "no_text"}
        if invalid := self._blocks_invalid(args):
            return invalid
        if isinstance(channel, str) and channel[:1] in ("U", "W"):
            channel = self._dm_channel(channel)
        ts = self._next_ts()
        message = self._message(args, ts)
        self._messages[(channel, ts)] = {"channel": channel, **message}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return {"ok": False, "error": "no_text"}
        if invalid := self._blocks_invalid(args):
            return invalid
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        if invalid := self._blocks_invalid(args):
            return invalid
        stored = self._messages.get((channel, ts))
        message = {**(stored or {"channel": channel, **self._message({}, ts)})}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._messages[(channel, ts)] = message
        shown = {k: v for k, v in message.items() if k != "channel"}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": shown,
        }

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        self._messages.pop((channel, ts), None)
        return {"ok": True, "channel": channel, "ts": ts}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("message_ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _m_functions_completeSuccess(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("function_execution_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(args.get("outputs"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _m_functions_completeError(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("function_execution_id") or not args.get("error"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args.get("users") or ""
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self._dm_channel(str(users))}}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first; thread replies are left out, as Slack does
        (``conversations.replies`` has them). Metadata only with ``include_all_metadata``."""
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        found = [
            m
            for (ch, ts), m in self._messages.items()
            if ch == channel and m.get("thread_ts") in (None, ts)
        ]
        return _history_page(found, args, newest_first=True)

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent and replies, oldest first (like history, within oldest/latest)."""
        channel, thread_ts = args.get("channel"), args.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not thread_ts:
            return {"ok": False, "error": "thread_not_found"}
        found = [
            m
            for (ch, ts), m in self._messages.items()
            if ch == channel and thread_ts in (ts, m.get("thread_ts"))
        ]
        return _history_page(found, args, newest_first=False)

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        is_im = str(channel).startswith("D")
        info = {"id": channel, "name": None if is_im else "support", "is_channel": not is_im}
        return {"ok": True, "channel": {**info, "is_im": is_im, "is_private": False}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        name = f"user-{str(user_id).lower()}"
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": name.title(),
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == self.bot_user_id,
            "is_app_user": False,
            "profile": {
                "real_name": name.title(),
                "display_name": name,
                "email": f"{name}@example.com",
            },
        }
        user.update(self.users.get(user_id, {}))
        return {"ok": True, "user": user}

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup")
        if group not in self.groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.groups[group])}

    def _m_usergroups_users_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """``users`` is comma-separated, as Slack takes it; a group cannot be left empty."""
        group = args.get("usergroup")
        if group not in self.groups:
            return {"ok": False, "error": "no_such_subteam"}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            return {"ok": False, "error": "no_users_provided"}
        self.groups[group] = users
        return {"ok": True, "usergroup": {"id": group, "users": users, "user_count": len(users)}}

    def _m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("name"):
            return {"ok": False, "error": "invalid_name"}
        return {"ok": True}

    def _m_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._m_reactions_add(args)

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        try:
            length = int(args["length"])
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        self._uploads[file_id] = {
            "id": file_id,
            "filename": args["filename"],
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "title": None,
            "content": None,
            "channel": None,
            "initial_comment": None,
            "thread_ts": None,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 2: the bytes, at the URL step 1 handed out (answered as text, not JSON)."""
        upload = self._uploads.get(args["file_id"])
        if upload is None:
            return {"ok": False, "error": "not_found", "upload_status": 404}
        if args["length"] != upload["length"]:
            error = f"length mismatch: declared {upload['length']}, sent {args['length']}"
            return {"ok": False, "error": error, "upload_status": 400}
        upload["content"] = args["content"]
        return {"ok": True}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [self._uploads.get(str(f.get("id"))) for f in files]
        if any(u is None or u["content"] is None for u in uploads):
            return {"ok": False, "error": "file_not_found"}
        channel = args.get("channel_id") or None
        shared = []
        for upload, item in zip(uploads, files, strict=True):
            assert upload is not None
            upload.update(
                title=item.get("title") or upload["filename"],
                channel=channel,
                initial_comment=args.get("initial_comment"),
                thread_ts=args.get("thread_ts"),
                completed=True,
            )
            name = upload["filename"]
            shared.append({"id": upload["id"], "title": upload["title"], "name": name})
        if channel:
            ts = self._next_ts()
            message = self._message({"text": args.get("initial_comment") or ""}, ts)
            message["files"] = shared
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self._messages[(channel, ts)] = {"channel": channel, **message}
        return {"ok": True, "files": shared}

    def _store_view(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        # What Slack answers: the view as sent, plus the fields Slack owns.
        stored = {
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08d}",
            "root_view_id": view_id,
            "app_id": APP_ID,
            "bot_id": self.bot_id,
        }
        self._views[view_id] = stored
        return stored

    def _view_invalid(self, view: Any) -> dict[str, Any] | None:
        if not isinstance(view, dict):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: view"]},
            }
        if not self.validate_blocks:
            return None
        problems = view_errors(view)
        if not problems:
            return None
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": problems},
        }

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: trigger_id"]},
            }
        if invalid := self._view_invalid(args.get("view")):
            return invalid
        return {"ok": True, "view": self._store_view(self._next_id("V"), args["view"])}

    _m_views_push = _m_views_open

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (
                    v["id"]
                    for v in self._views.values()
                    if v.get("external_id") == args["external_id"]
                ),
                None,
            )
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        if not view_id:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: view_id"]},
            }
        if invalid := self._view_invalid(args.get("view")):
            return invalid
        current = self._views.get(view_id)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(view_id, args["view"])}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["[ERROR] missing required field: user_id"]},
            }
        if invalid := self._view_invalid(args.get("view")):
            return invalid
        view_id = self._home.get(user_id)
        current = self._views.get(view_id) if view_id else None
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view_id = view_id or self._next_id("V")
        self._home[user_id] = view_id
        return {"ok": True, "view": self._store_view(view_id, args["view"])}
