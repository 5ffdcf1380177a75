"""Wait until a TCP address accepts connections: `python -m apps.core.waitfor HOST:PORT`.

The standalone Procfile starts web only once the paper exchange listens, so that the
platform answers /healthz only when everything `make run` promises is up.
"""

import argparse
import socket
import sys
import time


def wait_for(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="HOST:PORT")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    host, _, port = args.address.rpartition(":")
    if wait_for(host or "127.0.0.1", int(port), args.timeout):
        return 0
    sys.stderr.write(f"{args.address} did not accept connections within {args.timeout:g}s\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
