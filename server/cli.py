"""The `auralens` command line."""
