"""A private Dovecot IMAP server for the tests: its own config in a temp dir, a free port.

Nothing of the machine's own mail setup is read or changed: the config is written from
scratch (no ``/etc/dovecot`` include), the users come from a passwd-file in the temp dir,
mail is kept in Maildirs there, and the server runs in the foreground (``dovecot -F``) as a
child of the test session, stopped at its end. Mail is delivered the way a mail server's
delivery agent would leave it: IMAP APPEND of real RFC 5322 bytes, with the arrival time given
(so a test's moved clock and the server's idea of arrival agree).

Dovecot refuses to keep mail as root (uid 0): run as root (CI), the mailboxes belong to the
``dovecot`` user the Debian package creates; run as anyone else, to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = slabot-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
{users}
mail_location = maildir:{root}/mail/%u
first_valid_uid = {uid}
last_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def available() -> bool:
    return Path(DOVECOT).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """``with Dovecot(tmp, {"support": "secret"}) as server: server.deliver("support", raw)``."""

    def __init__(self, root: Path, users: dict[str, str]):
        self.root = root
        self.users = users
        self.port = free_port()
        self.host = "127.0.0.1"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        root = self.root
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            users = "default_internal_user = dovecot\ndefault_login_user = dovenull"
        else:
            owner = pwd.getpwuid(os.getuid())
            name = owner.pw_name
            users = f"default_internal_user = {name}\ndefault_login_user = {name}"
        for sub in ("run", "state", "mail", "home"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("mail", "home"):
            os.chown(root / sub, owner.pw_uid, owner.pw_gid)
        root.chmod(0o755)  # dovecot's own users read the passwd-file and the mail under it
        (root / "passwd").write_text(
            "".join(f"{name}:{{PLAIN}}{password}\n" for name, password in self.users.items())
        )
        config = root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=root, port=self.port, uid=owner.pw_uid, gid=owner.pw_gid, users=users
            )
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self.log()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def deliver(self, user: str, raw: bytes, arrived: datetime, folder: str = "INBOX") -> None:
        """A message arriving in ``user``'s ``folder`` at ``arrived``."""
        with self.client(user) as client:
            client.append(folder, raw, msg_time=arrived)

    def clear(self, user: str, folder: str = "INBOX") -> None:
        """Every message of ``folder`` gone: each test starts with an empty mailbox."""
        with self.client(user) as client:
            client.select_folder(folder)
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()

    def keywords(self, user: str, folder: str = "INBOX") -> dict[int, set[str]]:
        """Each message's flags, by UID."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            flags = client.get_flags(client.search(["ALL"]))
        return {uid: {f.decode() for f in found} for uid, found in flags.items()}
