"""A deployment tool for the reliability test, run by the ``command`` backend.

``deploy STATE UNIT VERSION KEY``: takes a moment (so that a killed controller often dies while
it runs), then records ``UNIT VERSION KEY`` in ``STATE/deployments.log`` with one append — a
deployment happened exactly when its line is there. ``status STATE UNIT``: prints the last
version recorded for the unit (nothing if none).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path


def deploy(state: Path, unit: str, version: str, key: str) -> None:
    time.sleep(random.uniform(0.05, 0.4))
    line = f"{unit} {version} {key}\n".encode()
    fd = os.open(state / "deployments.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write on an O_APPEND descriptor: all or nothing
    finally:
        os.close(fd)


def status(state: Path, unit: str) -> None:
    log = state / "deployments.log"
    versions = (
        [
            parts[1]
            for parts in (line.split() for line in log.read_text().splitlines())
            if parts[0] == unit
        ]
        if log.exists()
        else []
    )
    if versions:
        print(versions[-1])


if __name__ == "__main__":
    command, state = sys.argv[1], Path(sys.argv[2])
    if command == "deploy":
        deploy(state, *sys.argv[3:6])
    else:
        status(state, sys.argv[3])
