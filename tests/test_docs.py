"""The documents stay true to the code: every CLI option documented once, the README short, links live.

harness/README.md documents the options of each command as table rows under a ``### <command>``
heading of its "Options" section (the first cell names the option in backquotes). The parser is the
truth: an option it has and the document lacks, or one the document names and it lacks, fails.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from harness.cli import build_parser
from tests.conftest import ROOT

README = ROOT / "README.md"
HARNESS_README = ROOT / "harness" / "README.md"
README_LIMIT = 10 * 1024
"""Bytes: the README is the front page (what the project asks, how to start); the rest lives next to
what it describes."""
HELP = {"-h", "--help"}
"""On every command; documented once for all of them."""


def parser_options() -> dict[str, list[str]]:
    """command -> its option strings, from the parser the CLI builds (plugins' options included)."""
    (subparsers,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        command: [o for action in parser._actions for o in action.option_strings if o not in HELP]
        for command, parser in subparsers.choices.items()
    }


def documented_options(text: str) -> dict[str, list[str]]:
    """command -> the options its section's table rows name, in order, repeats kept."""
    match = re.search(r"^## Options\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, "harness/README.md has no '## Options' section"
    sections = re.split(r"^### (\S+)\n", match.group(1), flags=re.M)
    found: dict[str, list[str]] = {}
    for command, body in zip(sections[1::2], sections[2::2], strict=True):
        firsts = re.findall(r"^\| `([^`]*)` \|", body, flags=re.M)
        found[command] = [cell.split()[0] for cell in firsts if cell.startswith("-")]
    return found


def option_problems(text: str, options: dict[str, list[str]]) -> list[str]:
    """One line per option documented twice, missing from the document, or absent from the parser."""
    documented = documented_options(text)
    problems = [f"command {c!r} has no '### {c}' section" for c in options if c not in documented]
    problems += [f"section '### {c}' names no command of the parser" for c in documented if c not in options]
    for command, names in documented.items():
        real = set(options.get(command, ()))
        problems += [
            f"{command} {n}: documented {names.count(n)} times"
            for n in sorted(set(names))
            if names.count(n) > 1
        ]
        problems += [f"{command} {n}: documented but not in the parser" for n in sorted(set(names) - real)]
        problems += [f"{command} {n}: in the parser but not documented" for n in sorted(real - set(names))]
    return problems


def test_every_option_of_every_command_is_documented_once():
    options = parser_options()
    assert options["run"], "the parser walk found no options: the test would pass on nothing"
    assert option_problems(HARNESS_README.read_text(), options) == []


def test_a_missing_and_an_extra_option_are_both_caught():
    text = HARNESS_README.read_text()
    options = parser_options()
    row = next(line for line in text.splitlines() if line.startswith("| `--timeout"))
    missing = text.replace(row + "\n", "")
    assert option_problems(missing, options) == ["run --timeout: in the parser but not documented"]
    extra = text.replace(row, row + "\n| `--bogus N` | no such option |")
    assert option_problems(extra, options) == ["run --bogus: documented but not in the parser"]
    twice = text.replace(row, row + "\n" + row)
    assert option_problems(twice, options) == ["run --timeout: documented 2 times"]


def test_the_readme_is_at_most_10_kb():
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail next to what it describes"


def readmes() -> list[Path]:
    skip = {".git", ".venv", ".venv-ft", ".freethreaded", "build", "dist"}
    return sorted(
        p
        for p in ROOT.rglob("README.md")
        if not skip & set(p.relative_to(ROOT).parts) and "egg-info" not in str(p)
    )


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation but - and _ dropped, spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


def broken_links(path: Path) -> list[str]:
    """Relative links (and images) of a Markdown file whose file, or heading anchor, does not exist."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor")
    return broken


def test_the_readmes_are_found():
    names = {str(p.relative_to(ROOT)) for p in readmes()}
    assert {"README.md", "harness/README.md", "backends/README.md", "backends/reactor/README.md"} <= names


@pytest.mark.parametrize("path", readmes(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_what_exists(path: Path):
    assert broken_links(path) == []


def test_a_broken_link_is_caught(tmp_path: Path):
    (tmp_path / "there.md").write_text("# A heading (`x`)\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](there.md#a-heading-x) [gone](nowhere.md) [bad](there.md#nope) [web](https://x.org/y)\n"
    )
    assert broken_links(page) == ["nowhere.md: no such file", "there.md#nope: no heading with that anchor"]


def report_commands() -> list[tuple[list[str], str]]:
    """(input CSVs, output) of each line of the Makefile's ``reports`` target: the one list of the
    committed reports."""
    recipe = re.search(r"^reports:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), flags=re.M)
    assert recipe, "the Makefile has no reports target"
    commands = []
    for line in recipe.group(1).splitlines():
        words = line.split()
        at = words.index("report")
        commands.append((words[at + 1 : words.index("--out")], words[words.index("--out") + 1]))
    return commands


@pytest.mark.slow
def test_the_committed_reports_are_what_report_writes_from_the_committed_csvs(tmp_path: Path):
    """The documents cite these reports' tables: a report left stale by a change to the report code
    (or a hand edit) fails here; `make reports` rewrites them."""
    from harness.cli import main

    commands = report_commands()
    assert "results/REPORT.md" in [out for _, out in commands]
    for index, (inputs, out) in enumerate(commands):
        written = tmp_path / f"{index}.md"
        assert main(["report", *(str(ROOT / p) for p in inputs), "--out", str(written)]) == 0
        assert written.read_text() == (ROOT / out).read_text(), f"{out} is stale: run make reports"
