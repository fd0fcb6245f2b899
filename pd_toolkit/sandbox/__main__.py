"""`python -m pd_toolkit.sandbox [--port 8080] [--host 127.0.0.1]`: serve until interrupted."""

import argparse

from . import serve

parser = argparse.ArgumentParser(description="Run the local PagerDuty sandbox.")
parser.add_argument("--port", type=int, default=8080)
parser.add_argument("--host", default="127.0.0.1")
options = parser.parse_args()
serve(port=options.port, host=options.host)
