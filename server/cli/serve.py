"""``auralens serve``: the web app."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import __version__
from ..config import ServeDefaults, Settings
from .options import add_device_option


def run_serve(args) -> int:
    import uvicorn

    from auralens.models.runtime import keep_freed_memory

    from ..app import create_app

    keep_freed_memory()
    app = create_app(device=args.device, bundle=args.bundle, data_dir=args.data_dir,
                     max_upload_mb=args.max_upload_mb, max_seconds=args.max_seconds)
    print(f"auralens {__version__}: open http://{args.host}:{args.port}/ in a browser", file=sys.stderr)
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
    parser.set_defaults(func=run_serve)
