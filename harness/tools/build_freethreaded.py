"""Builds free-threaded CPython 3.13 (3.13t) from Debian's source package, and its virtual environment.

Run as a plain script (``python3 harness/tools/build_freethreaded.py --venv .venv-ft``, i.e. ``make
freethreaded``), standard library only, because it runs before anything is installed; nothing imports
it. Where the venv goes is the caller's to say: the Makefile passes the path the harness looks for
(``harness.interpreters.FREE_THREADED_VENV``; a test checks that the two agree).

No registry ships a free-threaded interpreter, but Debian's archive has the CPython source: a private
APT configuration (nothing under /etc is touched) adds a ``deb-src`` line for trixie, checked by the
archive keyring as APT checks every index; the upstream tarball inside is then verified against the
release manager's signature that Debian ships beside it (``gpgv`` with the key from
``debian/upstream/signing-key.asc``). The interpreter is built once into ``.freethreaded/3.13/`` and
the venv (``--venv``) gets the reactor-side dependencies (the ``freethreaded`` extra of
pyproject.toml) plus the project itself; Ray has no free-threaded wheels and stays on the normal
build. Idempotent: a finished step is not redone.

Exit status 2 with one line where a prerequisite (apt, gpgv, a C compiler, headers) or the source is
missing; 1 if the signature does not verify or the build fails.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The project (this script is harness/tools/build_freethreaded.py): its pyproject.toml, installed
into the venv."""
CACHE = ROOT / ".freethreaded"
STAMP_NAME = ".installed"
"""A file in the venv holding the release it was made with: a venv of another interpreter is remade."""
ARCHIVE = "http://deb.debian.org/debian"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
HEADERS = {"zlib.h": "zlib1g-dev", "openssl/ssl.h": "libssl-dev", "ffi.h": "libffi-dev"}
"""Headers without which pip (zlib, ssl) or ctypes (ffi) would be missing from the build."""


class Release:
    """Where one CPython release's source, build and installation live under .freethreaded/.

    Only 3.13 (trixie) is built: 3.14t would keep the specializing interpreter (PEP 779), but its
    source is in sid only, whose pool this project's package mirror does not carry.
    """

    def __init__(self, version: str, suite: str):
        self.version = version
        self.suite = suite
        self.source_package = f"python{version}"
        self.home = CACHE / version
        self.prefix = self.home / "python"
        self.interpreter = self.prefix / "bin" / f"python{version}t"


RELEASE = Release("3.13", "trixie")


class Refused(Exception):
    """A prerequisite is missing: exit 2 with the reason."""


def _say(message: str) -> None:
    print(f"freethreaded: {message}", flush=True)


def _run(command: list[str], cwd: Path | None = None, log: Path | None = None) -> None:
    """Runs a step; a long step's output goes to ``log`` (the compiler's warnings would drown the rest)."""
    if log is None:
        subprocess.run(command, cwd=cwd, check=True)
        return
    with log.open("ab") as sink:
        try:
            subprocess.run(command, cwd=cwd, check=True, stdout=sink, stderr=subprocess.STDOUT)
        except subprocess.CalledProcessError:
            print(f"freethreaded: {command[0]} failed; its output is in {log}", file=sys.stderr)
            raise


def check_prerequisites() -> None:
    for tool in ("apt-get", "gpgv", "tar", "make"):
        if shutil.which(tool) is None:
            raise Refused(f"`{tool}` not found; this build needs a Debian-like system with APT")
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        raise Refused("no C compiler; install one with: apt-get install build-essential")
    if not KEYRING.exists():
        raise Refused(f"{KEYRING} missing; install it with: apt-get install debian-archive-keyring")
    missing = [pkg for header, pkg in HEADERS.items() if not _header_exists(header)]
    if missing:
        raise Refused(f"missing build headers; install them with: apt-get install {' '.join(missing)}")


def _header_exists(header: str) -> bool:
    roots = [Path("/usr/include"), *Path("/usr/include").glob("*-linux-gnu")]
    return any((root / header).exists() for root in roots)


def _apt_options(apt_dir: Path) -> list[str]:
    """APT pointed at a private sources list, lists and cache: the system's configuration is untouched."""
    return [
        f"-o=Dir::Etc::SourceList={apt_dir / 'sources.list'}",
        "-o=Dir::Etc::SourceParts=/dev/null",
        f"-o=Dir::State::Lists={apt_dir / 'lists'}",
        f"-o=Dir::Cache={apt_dir / 'cache'}",
        f"-o=Dir::State::status={apt_dir / 'status'}",
        "-o=APT::Sandbox::User=root",
        "-qq",
    ]


def download_source(release: Release) -> Path:
    """Fetches the source package into .freethreaded/<version>/src; APT checks it against the signed index."""
    apt_dir, source_dir = release.home / "apt", release.home / "src"
    package, suite = release.source_package, release.suite
    if list(source_dir.glob(f"{package}_*.orig.tar.xz.asc")):
        return source_dir
    for sub in ("lists/partial", "cache/archives/partial"):
        (apt_dir / sub).mkdir(parents=True, exist_ok=True)
    source_dir.mkdir(parents=True, exist_ok=True)
    (apt_dir / "status").touch()
    (apt_dir / "sources.list").write_text(f"deb-src [signed-by={KEYRING}] {ARCHIVE} {suite} main\n")
    options = _apt_options(apt_dir)
    _say(f"fetching the {suite} source index")
    try:
        _run(["apt-get", *options, "update"])
        _say(f"fetching the {package} source package")
        _run(["apt-get", *options, "source", "--download-only", package], cwd=source_dir)
    except subprocess.CalledProcessError as error:
        step = " ".join(str(part) for part in error.cmd if not str(part).startswith("-"))
        raise Refused(f"could not fetch {package} from {ARCHIVE} ({suite}): `{step}` failed") from None
    return source_dir


def dearmor(armored: str) -> bytes:
    """OpenPGP ASCII armour to binary keyring (gpgv reads only binary keyrings; gpg may be absent)."""
    blocks = re.findall(
        r"-----BEGIN PGP PUBLIC KEY BLOCK-----\n(.*?)-----END PGP PUBLIC KEY BLOCK-----", armored, re.S
    )
    if not blocks:
        raise ValueError("no public key block")
    keyring = b""
    for block in blocks:
        lines = block.split("\n")
        body = lines[lines.index("") + 1 :]  # armour headers end at the first empty line
        keyring += base64.b64decode("".join(line for line in body if line and not line.startswith("=")))
    return keyring


def verify_upstream_signature(release: Release, source_dir: Path) -> Path:
    """gpgv over the upstream tarball with the signing key Debian ships; returns the tarball."""
    (tarball,) = source_dir.glob(f"{release.source_package}_*.orig.tar.xz")
    signature = tarball.with_name(tarball.name + ".asc")
    (debian_tar,) = source_dir.glob(f"{release.source_package}_*.debian.tar.xz")
    with tarfile.open(debian_tar) as archive:
        member = archive.extractfile("debian/upstream/signing-key.asc")
        if member is None:
            raise Refused(f"{debian_tar.name} carries no upstream signing key")
        armored = member.read().decode()
    keyring = source_dir / "upstream-signing-key.gpg"
    keyring.write_bytes(dearmor(armored))
    result = subprocess.run(
        ["gpgv", "--keyring", str(keyring), str(signature), str(tarball)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"freethreaded: signature check FAILED for {tarball.name}:\n{result.stderr}")
    signer = re.search(r'Good signature from "([^"]+)"', result.stderr)
    _say(f"{tarball.name}: good signature from {signer.group(1) if signer else 'the upstream key'}")
    return tarball


def _interpreter_works(release: Release) -> bool:
    if not release.interpreter.exists():
        return False
    probe = "import sys, ssl, zlib, ctypes; sys.exit(0 if not sys._is_gil_enabled() else 1)"
    return subprocess.run([str(release.interpreter), "-c", probe], capture_output=True).returncode == 0


def build_interpreter(release: Release, tarball: Path) -> None:
    """./configure --disable-gil; make; make install into .freethreaded/<version>/python."""
    build_dir = release.home / "build"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    _say(f"unpacking {tarball.name}")
    with tarfile.open(tarball) as archive:
        archive.extractall(build_dir, filter="data")
    (source,) = [p for p in build_dir.iterdir() if p.is_dir()]
    jobs = str(os.cpu_count() or 2)
    _say(f"configuring and building with --disable-gil, {jobs} jobs (about 5 minutes on 2 cores)")
    log = release.home / "build.log"
    log.unlink(missing_ok=True)
    configure = ["./configure", "--disable-gil", f"--prefix={release.prefix}", "--with-ensurepip=install"]
    _run(configure, source, log)
    _run(["make", f"-j{jobs}"], source, log)
    _run(["make", "install"], source, log)
    shutil.rmtree(build_dir, ignore_errors=True)
    if not _interpreter_works(release):
        raise SystemExit(
            f"freethreaded: {release.interpreter} was built but is not a working free-threaded build"
        )


def freethreaded_requirements() -> list[str]:
    """The ``freethreaded`` extra of pyproject.toml: one list, read here and by nothing else."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["optional-dependencies"]["freethreaded"]


def create_venv(release: Release, venv: Path) -> None:
    pyproject = ROOT / "pyproject.toml"
    stamp = venv / STAMP_NAME
    if (
        stamp.exists()
        and stamp.read_text().strip() == release.version
        and stamp.stat().st_mtime >= pyproject.stat().st_mtime
    ):
        return
    _say(f"creating {venv.name} on {release.version}t with the reactor-side dependencies")
    _run([str(release.interpreter), "-m", "venv", "--clear", str(venv)])
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([python, "-m", "pip", "install", "--quiet", "--only-binary=:all:", *freethreaded_requirements()])
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)])
    stamp.write_text(release.version + "\n")


def parse_args(argv: list[str]) -> Path:
    """The venv's path (relative paths from the project, as ``make`` runs in it)."""
    parser = argparse.ArgumentParser(prog="build_freethreaded.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", required=True, type=Path, help="where the free-threaded venv goes")
    venv = parser.parse_args(argv).venv
    return venv if venv.is_absolute() else ROOT / venv


def main(argv: list[str]) -> int:
    venv = parse_args(argv)
    release = RELEASE
    try:
        if not _interpreter_works(release):
            check_prerequisites()
            build_interpreter(release, verify_upstream_signature(release, download_source(release)))
        create_venv(release, venv)
    except Refused as refusal:
        print(f"freethreaded: {refusal}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"freethreaded: step failed: {' '.join(map(str, error.cmd))}", file=sys.stderr)
        return 1
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-VV"], capture_output=True, text=True, check=True
    ).stdout.strip()
    _say(f"ready: {venv / 'bin' / 'python'} ({version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
