"""Creates a virtual environment with pip, even where Python's ``ensurepip`` is missing.

Run as a plain script (``python3 harness/tools/bootstrap.py .venv``, the first step of ``make venv``)
before anything is installed, so it uses the standard library only; nothing imports it. Debian's
python3.11 without the python3.11-venv package cannot make a venv with pip; then the venv is made
without pip and pip's wheel is fetched from PyPI, whose wheels can run themselves
(``python pip.whl/pip install pip.whl``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

PYPI_PIP = "https://pypi.org/pypi/pip/json"


def _has_pip(python: Path) -> bool:
    return subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True).returncode == 0


def _install_pip_from_pypi(python: Path) -> None:
    with urllib.request.urlopen(PYPI_PIP, timeout=60) as response:
        release = json.load(response)
    wheel = next(u for u in release["urls"] if u["packagetype"] == "bdist_wheel")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as response:
            path.write_bytes(response.read())
        subprocess.run([str(python), f"{path}/pip", "install", "--quiet", str(path)], check=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: bootstrap.py VENV_DIR", file=sys.stderr)
        return 2
    target = Path(argv[0])
    python = target / "bin" / "python"
    if python.exists() and _has_pip(python):
        return 0
    try:
        venv.EnvBuilder(with_pip=True).create(target)
    except (subprocess.CalledProcessError, OSError):
        venv.EnvBuilder(with_pip=False, clear=True).create(target)
    if not _has_pip(python):
        _install_pip_from_pypi(python)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
