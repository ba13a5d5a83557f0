"""Bad input: one line on stderr, exit status 2, no traceback, nothing written."""

import contextlib
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli import main
from tests.harness.report_tables import section_table

BAD_RUNS = [
    (["run", "--suite", "nope"], "unknown suite 'nope'"),
    (["run", "--suite", "smoke", "--backends", "ray,nope"], "unknown backend 'nope'"),
    (["run", "--suite", "smoke", "--profile", "fast"], "unknown profile 'fast'"),
    (["run", "--suite", "smoke", "--repeats", "0"], "out of range"),
    (["run", "--suite", "smoke", "--repeats", "-3"], "out of range"),
    (["run", "--suite", "smoke", "--repeats", "many"], "not a whole number"),
    (["run", "--suite", "smoke", "--repeats", "99999999"], "out of range"),
    (["run", "--suite", "smoke", "--timeout", "0"], "out of range"),
    (["run", "--suite", "smoke", "--timeout", "soon"], "not a number"),
    (["run", "--suite", "smoke", "--timeout", "nan"], "out of range"),
    (["run", "--suite", "smoke", "--out", "/nonexistent-dir/x.csv"], "does not exist"),
    (["run", "--suite", "smoke", "--out", "/proc/version"], "cannot write"),
    (["run", "--suite", "smoke", "--out", "/proc"], "is a directory"),
    (["run", "--suite", "smoke", "--resume", "/nonexistent.csv"], "no such file"),
    (["run", "--suite", "micro", "--backends", "ray"], "runs a workload of suite"),
    (["run", "--suite", "gym", "--workload", "nope"], "unknown workload 'nope'"),
    (["run", "--suite", "gym", "--workload", "gym,"], "--workload: empty name"),
    (["run", "--suite", "gym", "--workload", "micro"], "not a workload of suite 'gym'"),
    (["run", "--suite", "gym", "-k", "nothing-is-called-so"], "selects no cell of suite 'gym'"),
    (["run", "--suite", "gym", "-k", "(reactor"], "-k '(reactor': it ends too early"),
    (["run", "--suite", "gym", "-k", "reactor ray"], "unexpected 'ray'"),
    (["list", "--workload", "nope"], "unknown workload 'nope'"),
    (["list", "--suite", "gym", "-k", "not gym"], "selects no cell"),
    (["list", "--profile", "smoke"], "apply to the cells of a --suite or a selection"),
    (["run"], "required"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["plot", "/nonexistent.csv"], "no such file"),
    (["report", "/nonexistent.csv"], "no such file"),
    (["plot"], "no CSV given and no run CSV in results/"),
    (["report"], "no CSV given and no run CSV in results/"),
    (["check", "/nonexistent.csv"], "no such file"),
    (["check", "x.csv", "--tolerance", "-1"], "out of range"),
    (["run", "--suite", "smoke", "--ray-address", "nonsense"], "expected HOST:PORT"),
    (["run", "--suite", "smoke", "--ray-address", "127.0.0.1:http"], "is not a number"),
    (["run", "--suite", "smoke", "--ray-address", "127.0.0.1:70000"], "out of range"),
    (["run", "--suite", "smoke", "--ray-address", "127.0.0.1:1"], "no Ray cluster answers"),
]


@pytest.mark.parametrize("argv, message", BAD_RUNS)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output(tmp_path, capsys):
    # /proc/sys files refuse new files even to root.
    assert (
        main(["run", "--suite", "smoke", "--backends", "sequential", "--out", "/proc/sys/harness.csv"]) == 2
    )
    assert "cannot write" in capsys.readouterr().err


def test_existing_output_is_never_overwritten(tmp_path: Path, capsys):
    existing = tmp_path / "old.csv"
    existing.write_text("precious\n")
    assert main(["run", "--suite", "smoke", "--out", str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert existing.read_text() == "precious\n"


def test_corrupt_resume_file(tmp_path: Path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,results\nfile\n")
    assert main(["run", "--suite", "smoke", "--resume", str(bad)]) == 2
    assert "not a results CSV" in capsys.readouterr().err
    assert bad.read_text() == "not,a,results\nfile\n"


def test_plot_of_corrupt_csv(tmp_path: Path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02")
    assert main(["plot", str(bad), "--out", str(tmp_path / "figs")]) == 2
    assert not (tmp_path / "figs").exists()


def test_help_on_every_command(capsys):
    for argv in (["--help"], ["run", "--help"], ["list", "--help"], ["plot", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
    assert "--resume" in capsys.readouterr().out


COMMANDS = ["run", "list", "plot", "report", "check"]
FUZZ_WORDS = [
    *COMMANDS,
    # their options (none names a real suite, so no cell ever runs)
    "--suite",
    "--repeats",
    "--timeout",
    "--backends",
    "--profile",
    "--out",
    "--resume",
    "--threads",
    "--ray-address",
    "--quiet",
    "--baseline",
    "--update-baseline",
    "--allow-missing",
    "--tolerance",
    "-h",
    # values: bad numbers and names, paths that are missing, a folder, not a CSV, empty
    "-1",
    "x",
    "0",
    ",",
    "",
    "nan",
    "sequential",
    ".",
    "/proc/version",
    "/dev/null",
]


WORDS = st.sampled_from(FUZZ_WORDS)


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        st.lists(WORDS, max_size=6),  # anything, a command or not
        st.builds(
            lambda command, rest: [command, *rest], st.sampled_from(COMMANDS), st.lists(WORDS, max_size=5)
        ),
    )
)
def test_fuzzed_arguments_never_traceback(argv):
    """Any mix of commands, options and values: exit 0, 1 or 2, and a usage error is one line.

    Runs in an empty folder, so that ``plot`` and ``report`` find no default input and write nothing.
    """
    if "--help" in argv:
        return
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as empty, contextlib.chdir(empty):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as stop:  # only -h may exit this way
                code = stop.code
        assert os.listdir(empty) == []
    assert code in (0, 1, 2)
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1, err.getvalue()


# Bad files and paths that used to end in a traceback (PermissionError, IsADirectoryError,
# UnicodeError, ValueError, ZeroDivisionError): each is one line and exit status 2 now.


def _results(tmp_path: Path, **fields) -> str:
    from tests.harness.sample_rows import repeats, write_results

    return str(write_results(tmp_path / "run.csv", repeats(2, **fields)))


def _patched_csv(tmp_path: Path, column: str, value: str) -> str:
    """A valid results CSV whose first row has ``value`` in ``column`` (as a hand-edit would leave it)."""
    path = Path(_results(tmp_path))
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index(column)] = value
    path.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    return str(path)


def _baseline_with_empty_ok_ratio(tmp_path: Path) -> str:
    path = tmp_path / "ci.csv"
    path.write_text("case,ratio,low,high,tolerance,status\ncollectives[n_actors=16] reactor/ray,,,,0.25,ok\n")
    return str(path)


BAD_FILES = [
    (lambda t: ["plot", _results(t), "--out", "/sys/harness-figures"], "cannot create --out"),
    (lambda t: ["check", _results(t), "--update-baseline", "--baseline", str(t)], "is a directory"),
    (lambda t: ["check", _results(t), "--update-baseline", "--baseline", "/sys/ci.csv"], "cannot write"),
    (
        lambda t: ["run", "--suite", "smoke", "--ray-address", "a" * 70 + ".example:6379"],
        "is not a host name label",
    ),
    (lambda t: ["run", "--resume", _patched_csv(t, "repeat", "first")], "repeat 'first' is not a whole"),
    (lambda t: ["report", _patched_csv(t, "value", "inf")], "value 'inf' of an ok row is not finite"),
    (lambda t: ["plot", _patched_csv(t, "value", "nan")], "value 'nan' of an ok row is not finite"),
    (lambda t: ["check", _results(t), "--baseline", _baseline_with_empty_ok_ratio(t)], "positive ratio"),
]


@pytest.mark.parametrize("build, message", BAD_FILES, ids=[m for _, m in BAD_FILES])
def test_bad_files_and_paths_are_one_line_and_exit_2(build, message, tmp_path, capsys, monkeypatch):
    argv = build(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_report_of_a_zero_median_leaves_the_ratio_blank(tmp_path: Path, capsys):
    from tests.harness.sample_rows import repeats, write_results

    rows = [{**row, "value": 0.0} if row["backend"] == "ray" else row for row in repeats(2)]
    out = tmp_path / "R.md"
    assert main(["report", str(write_results(tmp_path / "zero.csv", rows)), "--out", str(out)]) == 0
    _, _, rows = section_table(out.read_text(), "### Broadcast & gather vs object size")
    assert (rows[("1024", "ray")]["median"], rows[("1024", "ray")]["range (min-max)"]) == ("0", "[0, 0]")
    assert rows[("1024", "reactor")]["/ ray"] == ""  # no ratio to a zero median
