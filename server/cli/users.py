"""``auralens users``: the accounts of a shared server (``add``, ``list``, ``remove``).

A password is asked twice at a terminal, or read as the first line of standard input when that
is not a terminal (``echo "$PASSWORD" | auralens users add NAME``)."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

from .options import group


def _storage(args):
    from ..config import default_data_dir
    from ..storage import Storage

    return Storage(args.data_dir or default_data_dir())


def read_password() -> str:
    """The new password: typed twice at a terminal, else the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("The same password again: ") != first:
        raise ValueError("The two passwords differ; nothing was changed.")
    return first


def run_add(args) -> int:
    from ..accounts import add_user, user_name

    name = user_name(args.name)  # a bad name is said before the password is asked
    storage = _storage(args)
    try:
        user = add_user(storage, name, read_password())
    finally:
        storage.close()
    print(f"user {user.name} added", file=sys.stderr)
    return 0


def run_list(args) -> int:
    storage = _storage(args)
    try:
        for user in storage.users():
            print(f"{user['name']}\t{user['created']}")
    finally:
        storage.close()
    return 0


def run_remove(args) -> int:
    from ..accounts import find_user

    storage = _storage(args)
    try:
        user = find_user(storage, args.name)
        storage.remove_user(user.id)
    finally:
        storage.close()
    print(f"user {user.name} removed; their sessions are ended (what they made stays in the data directory)",
          file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    users = group(sub, "users", "accounts of a server shared beyond this machine")
    for name, func, help in (("add", run_add, "make an account (the password is asked, or read from stdin)"),
                             ("list", run_list, "the accounts, with when each was made"),
                             ("remove", run_remove, "delete an account and end its sessions")):
        parser = users.add_parser(name, help=help)
        if name != "list":
            parser.add_argument("name", help="user name: 1 to 40 letters, digits or _ . @ -")
        parser.add_argument("--data-dir", type=Path, default=None,
                            help="the server's data directory (default ~/.local/share/auralens)")
        parser.set_defaults(func=func)
