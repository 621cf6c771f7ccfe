"""Container health check: exit 0 when URL answers 200, 1 otherwise (with the reason on stderr).

Usage: python healthcheck.py [URL]; the default is the API's /health on SALESCAST_PORT (8000). Standard library
only: it runs every 30 s and must not pay the application's import time.
"""

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{os.environ.get('SALESCAST_PORT', '8000')}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
