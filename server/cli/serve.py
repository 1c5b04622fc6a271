"""``auralens serve``: the web app."""
from __future__ import annotations

import resource
import sys
from pathlib import Path

from .. import __version__
from ..config import ServeDefaults, Settings, default_data_dir
from .options import add_device_option

# the limits a person may set from the command line: option -> the Settings field it sets
LIMIT_OPTIONS = ("max_upload_mb", "max_seconds", "render_window_s", "export_ttl_hours", "client_timeout_s",
                 "max_connections_per_client", "max_collection_mb", "max_collection_files")


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (at most the hard
    limit), so that idle sockets cannot take every descriptor; returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def accounts_wanted(args) -> bool:
    """``--accounts``: on beyond loopback unless turned off, on loopback only when asked."""
    from ..security import is_loopback

    return args.accounts == "on" or (args.accounts == "auto" and not is_loopback(args.host))


def run_serve(args) -> int:
    settings = Settings(data_dir=args.data_dir or default_data_dir(),
                        **{name: getattr(args, name) for name in LIMIT_OPTIONS})  # nonsense: one line, exit 2
    import uvicorn

    from ..app import create_app
    from ..connections import guarded_protocol
    from ..log_limits import limit_repeats
    from ..security import hosts_for, is_loopback
    from ..storage import Storage

    accounts = accounts_wanted(args)
    data_dir = settings.data_dir
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
    settings.allowed_hosts = hosts_for(args.host, Settings.allowed_hosts, tuple(args.allowed_host))
    settings.accounts = accounts
    open_files = raise_open_files_limit(settings.max_connections + 1024)
    connections = max(16, min(settings.max_connections, open_files - 256))  # descriptors for files and the rest
    app = create_app(device=args.device, bundle=args.bundle, settings=settings)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            http=guarded_protocol(settings), limit_concurrency=connections,
                            timeout_keep_alive=5, timeout_graceful_shutdown=settings.shutdown_grace_s)
    limit_repeats()
    print(f"auralens {__version__}: open http://{args.host}:{args.port}/ in a browser "
          f"({'sign-in required' if accounts else 'no sign-in'}; answers to {', '.join(settings.allowed_hosts)})",
          file=sys.stderr)
    uvicorn.Server(config).run()
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
    parser.add_argument("--max-collection-mb", type=float, default=Settings.max_collection_mb,
                        help=f"largest collection sent at once, its files or its ZIP unpacked "
                             f"(default {Settings.max_collection_mb:g})")
    parser.add_argument("--max-collection-files", type=int, default=Settings.max_collection_files,
                        help=f"most files in a collection sent at once (default {Settings.max_collection_files})")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help=f"a host name the server answers to, besides {', '.join(Settings.allowed_hosts)} "
                             f"and the --host address (repeat for more; '*' for any, behind a proxy that checks)")
    parser.add_argument("--accounts", choices=["auto", "on", "off"], default="auto",
                        help="sign-in with accounts made by `auralens users add` (auto: required beyond this "
                             "machine, none on loopback; off beyond loopback lets anyone who reaches the port in)")
    parser.add_argument("--render-window-s", type=float, default=Settings.render_window_s,
                        help=f"longest stretch of a clip rendered as sound at once (default {Settings.render_window_s:g})")
    parser.add_argument("--export-ttl-hours", type=float, default=Settings.export_ttl_hours,
                        help=f"hours an export is kept (default {Settings.export_ttl_hours:g})")
    parser.add_argument("--client-timeout-s", type=float, default=Settings.client_timeout_s,
                        help="seconds a client has to send a request's headers, and before its body must keep "
                             f"a fair pace (default {Settings.client_timeout_s:g})")
    parser.add_argument("--max-connections-per-client", type=int, default=Settings.max_connections_per_client,
                        help=f"open connections one address may hold (default {Settings.max_connections_per_client})")
    parser.set_defaults(func=run_serve)
