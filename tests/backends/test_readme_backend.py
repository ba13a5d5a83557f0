"""backends/README.md's "Writing a backend" example, as printed there, passes the conformance kit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_environment

pytestmark = pytest.mark.slow


def test_the_readme_backend_passes_the_conformance_kit(tmp_path: Path):
    readme = (ROOT / "backends" / "README.md").read_text()
    (source,) = re.findall(r"```python\n# mypool/backend.py\n(.*?)```", readme, flags=re.S)
    package = tmp_path / "mypool"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "backend.py").write_text(source)
    kit = ["-m", "pytest", "-p", "harness.conformance", "--backend", "mypool.backend:PoolBackend"]
    result = subprocess.run(
        [sys.executable, *kit, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=cli_environment("", None, [tmp_path]), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert "failed" not in result.stdout.splitlines()[-1]
