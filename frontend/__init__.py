"""Static files of the auralens web page (HTML, CSS, ES modules), served by the app."""
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent
