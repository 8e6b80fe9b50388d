"""Where a `file:` credential may be read from, and how: the one place a config reference touches the disk.

A seller file's references decide which files the workers read and then send to a platform as
credentials: `file:/etc/shadow`, `file:../../../../etc/passwd` or a link out of the folder would ship that
file to whatever host `base_url` names. So a reference resolves only inside the secrets directory
($ORDERHUB_SECRETS_DIR; unset: the seller file's own folder, the config directory), judged after every
link is followed. The file must be a regular file that no other user can write (whoever can write it can
swap a credential); one that every user can read is used, with a warning. The only file outside that
directory a reference may name is the shipped sandbox/demo-secrets.toml: it holds public demo values that
only open the loopback emulators, so the demo and the sandbox tests run from any config folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from orderhub.runtime.settings import secrets_dir

DEMO_SECRETS = Path(__file__).resolve().parents[1] / "sandbox" / "demo-secrets.toml"
MAX_BYTES = 1 << 20  # a secrets file is a few lines; anything bigger is not one (or is /dev/zero)


class UnresolvedReference(ValueError):
    """A well-formed reference whose secret is not there on this machine (a variable not set, a file
    missing or unreadable, a key absent): a problem for a config that will connect, not for one that
    is only checked or replayed (`orderhub routing whatif`)."""


def secrets_root(base_dir: Path) -> Path:
    """The real path of the folder `file:` references of a seller file in `base_dir` may read from."""
    return (secrets_dir() or base_dir).resolve()


def locate(path_text: str, base_dir: Path) -> Path:
    """The real path a reference names (relative paths: relative to `base_dir`), or ValueError when it lies
    outside the secrets directory. A missing file outside is refused as outside: no probing beyond it."""
    if not path_text:
        raise ValueError("file: reference names no file")
    path = Path(path_text)
    if not path.is_absolute():
        path = base_dir / path
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a link loop
        raise ValueError(f"secrets file {path_text} cannot be resolved (a link loop?)") from None
    root = secrets_root(base_dir)
    if real == DEMO_SECRETS or real.is_relative_to(root):
        return real
    raise ValueError(f"secrets file {path_text} is outside the secrets directory {root} once links are resolved "
                     "(the directory is $ORDERHUB_SECRETS_DIR, by default the seller file's folder)")


def _opened(real: Path) -> int:
    # O_NOFOLLOW: the path was resolved just now, so a link here means it was swapped since; O_NONBLOCK:
    # opening a FIFO must not wait for a writer (it is then refused as not a regular file).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        return os.open(real, flags)
    except FileNotFoundError:
        raise UnresolvedReference(f"secrets file {real} not found") from None
    except OSError as exc:
        raise UnresolvedReference(f"secrets file {real} cannot be read ({exc.strerror})") from None


def read_secret_file(real: Path) -> tuple[str, str | None]:
    """The text of a located secrets file and a warning for it (or None); ValueError when it must not be
    used. Mode and content are read from the one open file, so the file checked is the file read."""
    with os.fdopen(_opened(real), "rb") as handle:
        info = os.fstat(handle.fileno())
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"secrets file {real} is not a regular file")
        if mode & 0o022:
            who = " and ".join(w for bit, w in ((0o020, "its group"), (0o002, "every user")) if mode & bit)
            raise ValueError(f"secrets file {real} is writable by {who} (mode {mode:04o}): chmod go-w it")
        if info.st_size > MAX_BYTES:
            raise ValueError(f"secrets file {real} is larger than {MAX_BYTES} bytes")
        data = handle.read(MAX_BYTES + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"secrets file {real} is not UTF-8 text (byte {exc.start})") from None
    if mode & 0o004 and real != DEMO_SECRETS:
        return text, f"secrets file {real} is readable by every user (mode {mode:04o}): chmod o-r it"
    return text, None
