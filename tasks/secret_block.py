"""``python -m tasks.secret_block [NAME]``: store the hub's HMAC secret in a Prefect Secret block.

The secret is read from standard input (asked for without echo on a terminal; otherwise the first
line, e.g. piped from a password manager), never from the command line, and saved on the Prefect
server ``PREFECT_API_URL`` points at, under NAME (default ``rcflow-hub-secret``, the name
``prefect.yaml`` uses), replacing a previous value. Nothing is printed but the block's name.
"""

from __future__ import annotations

import getpass
import sys

from tasks.settings import SECRET_BLOCK


def save_secret(value: str, name: str = SECRET_BLOCK) -> None:
    """Create or replace the Secret block ``name`` holding ``value``."""
    from prefect.blocks.system import Secret

    Secret(value=value).save(name, overwrite=True, _sync=True)


def read_secret() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("eFACT HMAC secret (not echoed): ")
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str]) -> int:
    from rcflow import prefect_env

    prefect_env.apply()
    name = argv[0] if argv else SECRET_BLOCK
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        print(
            "rcflow: PREFECT_API_URL is not set, so the secret would go to a throw-away server;"
            " export PREFECT_API_URL=http://127.0.0.1:4200/api (your server's address) first",
            file=sys.stderr,
        )
        return 2
    value = read_secret()
    if not value.strip():
        print("rcflow: no secret given on standard input; nothing saved", file=sys.stderr)
        return 2
    save_secret(value, name)
    print(f"Prefect Secret block {name!r} saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
