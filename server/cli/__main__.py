"""``python -m auralens.server.cli`` (as torchrun launches training) runs the command line."""
import sys

from . import main

sys.exit(main())
