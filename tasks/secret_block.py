"""``python -m tasks.secret_block [--face] [NAME]``: store a hub's secret in a Prefect Secret block.

Without ``--face``: eFACT's HMAC secret, in NAME (default ``rcflow-hub-secret``); with ``--face``:
the password of the FACe certificate (``RCFLOW_FACE_CERT``), in NAME (default
``rcflow-face-cert-password``): the names ``prefect.yaml`` uses. The value is read from standard
input (asked for without echo on a terminal; otherwise the first line, e.g. piped from a password
manager), never from the command line, and saved on the Prefect server ``PREFECT_API_URL`` points
at, replacing a previous value. Nothing is printed but the block's name.
"""

from __future__ import annotations

import getpass
import sys

from tasks.settings import FACE_PASSWORD_BLOCK, SECRET_BLOCK

PROMPTS = {False: "eFACT HMAC secret (not echoed): ", True: "FACe certificate password (not echoed): "}


def save_secret(value: str, name: str = SECRET_BLOCK) -> None:
    """Create or replace the Secret block ``name`` holding ``value``."""
    from prefect.blocks.system import Secret

    Secret(value=value).save(name, overwrite=True, _sync=True)


def read_secret(face: bool = False) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(PROMPTS[face])
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str]) -> int:
    from rcflow import prefect_env

    prefect_env.apply()
    face = "--face" in argv
    names = [a for a in argv if a != "--face"]
    name = names[0] if names else (FACE_PASSWORD_BLOCK if face else SECRET_BLOCK)
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        print(
            "rcflow: PREFECT_API_URL is not set, so the secret would go to a throw-away server;"
            " export PREFECT_API_URL=http://127.0.0.1:4200/api (your server's address) first",
            file=sys.stderr,
        )
        return 2
    value = read_secret(face)
    if not value.strip():
        print("rcflow: no secret given on standard input; nothing saved", file=sys.stderr)
        return 2
    save_secret(value, name)
    print(f"Prefect Secret block {name!r} saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
