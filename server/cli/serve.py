"""``auralens serve``: the web app."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import __version__
from ..config import ServeDefaults, Settings
from .options import add_device_option


def accounts_wanted(args) -> bool:
    """``--accounts``: on beyond loopback unless turned off, on loopback only when asked."""
    from ..security import is_loopback

    return args.accounts == "on" or (args.accounts == "auto" and not is_loopback(args.host))


def run_serve(args) -> int:
    import uvicorn

    from auralens.models.runtime import keep_freed_memory

    from ..app import create_app
    from ..config import default_data_dir
    from ..security import hosts_for, is_loopback
    from ..storage import Storage

    accounts = accounts_wanted(args)
    data_dir = args.data_dir or default_data_dir()
    if accounts:
        storage = Storage(data_dir)
        n_users = len(storage.users())
        storage.close()
        if not n_users:
            instead = " (or serve on 127.0.0.1)" if args.accounts == "auto" else ""
            print(f"auralens: error: serving on {args.host} needs accounts, and {data_dir} has none; make one "
                  f"with `auralens users add NAME --data-dir {data_dir}`{instead}", file=sys.stderr)
            return 2
    elif not is_loopback(args.host):  # --accounts off
        print(f"auralens: warning: no accounts on {args.host}: whoever reaches this port can see, change and "
              f"delete everything", file=sys.stderr)
    keep_freed_memory()
    hosts = hosts_for(args.host, Settings.allowed_hosts, tuple(args.allowed_host))
    app = create_app(device=args.device, bundle=args.bundle, data_dir=data_dir,
                     max_upload_mb=args.max_upload_mb, max_seconds=args.max_seconds, allowed_hosts=hosts,
                     accounts=accounts)
    print(f"auralens {__version__}: open http://{args.host}:{args.port}/ in a browser "
          f"({'sign-in required' if accounts else 'no sign-in'}; answers to {', '.join(hosts)})", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def add_commands(sub) -> None:
    parser = sub.add_parser("serve", help="run the web app")
    parser.add_argument("--bundle", type=Path, default=None, help="bundle folder (default: the one shipped)")
    parser.add_argument("--host", default=ServeDefaults.host,
                        help=f"address to bind (default {ServeDefaults.host}: this machine only)")
    parser.add_argument("--port", type=int, default=ServeDefaults.port)
    add_device_option(parser, "models run")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where uploads and analyses are kept (default ~/.local/share/auralens)")
    parser.add_argument("--max-upload-mb", type=float, default=Settings.max_upload_mb,
                        help=f"largest accepted upload (default {Settings.max_upload_mb:g})")
    parser.add_argument("--max-seconds", type=float, default=Settings.max_seconds,
                        help=f"longest accepted clip (default {Settings.max_seconds:g})")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help=f"a host name the server answers to, besides {', '.join(Settings.allowed_hosts)} "
                             f"and the --host address (repeat for more; '*' for any, behind a proxy that checks)")
    parser.add_argument("--accounts", choices=["auto", "on", "off"], default="auto",
                        help="sign-in with accounts made by `auralens users add` (auto: required beyond this "
                             "machine, none on loopback; off beyond loopback lets anyone who reaches the port in)")
    parser.set_defaults(func=run_serve)
