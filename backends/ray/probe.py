"""``python -m backends.ray.probe HOST:PORT``: asks a Ray GCS for its cluster id, in a process of its own.

Run by ``backends.ray.cluster`` with a deadline, so that a listener that is not Ray (which Ray's
client would wait on for 40 s) costs seconds, and Ray's client threads never live in the harness's
own process. Prints one line: ``ray`` when a GCS answered (an authentication refusal is an answer:
only a GCS asks for Ray's token), else ``not ray: <reason>``.
"""

from __future__ import annotations

import sys


def probe(address: str) -> str:
    from ray._raylet import GcsClient

    try:
        GcsClient(address=address)
    except Exception as error:
        if type(error).__name__ == "AuthenticationError":
            return "ray"
        text = str(error).strip().splitlines()
        return f"not ray: {text[0][:200] if text else type(error).__name__}"
    return "ray"


if __name__ == "__main__":
    print(probe(sys.argv[1]), flush=True)
