"""The README's seed program as an importable module (federate processes import its classes by name)."""

from __future__ import annotations

from tests.backends.reactor.test_readme_example import README, readme_program

exec(compile(readme_program(), str(README), "exec"))
