"""`report`: our medians with intervals beside the paper's numbers, ratios to ray, machine and versions."""

from pathlib import Path

from harness.cli import main
from harness.results import ResultWriter
from tests.harness.figures.test_plot import _rows
from tests.harness.report_tables import backends_in_order, section_table
from tests.harness.sample_rows import EVERY_COLUMN


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "run.csv"
    writer = ResultWriter(path, EVERY_COLUMN)
    writer.write(_rows())
    writer.close()
    return path


def test_report_puts_measured_ratios_and_paper_side_by_side(tmp_path: Path, capsys):
    out = tmp_path / "REPORT.md"
    assert main(["report", str(_csv(tmp_path)), "--out", str(out)]) == 0
    text = out.read_text()
    assert "## Machine and versions" in text and "| ray_version |" in text
    _, header, rows = section_table(text, "### Broadcast & gather vs object size")
    assert header == ["object_bytes", "backend", "median", "range (min-max)", "/ ray", "paper"]
    assert rows[("10485760", "reactor")]["/ ray"] == "0.05"  # the fixture's reactor is 20x faster
    assert rows[("10485760", "ray")]["/ ray"] == "1"
    assert rows[("10485760", "ray")]["paper"] == "24.11" and rows[("10485760", "reactor")]["paper"] == "7.144"
    assert rows[("10485760", "ray")]["median"] == "232"  # 20 x (1 + 10.49) x 1.01, median of 3
    assert rows[("10485760", "ray")]["range (min-max)"].startswith("[")
    order = backends_in_order(rows, "10485760")
    medians = [float(rows[("10485760", b)]["median"].replace(",", "")) for b in order]
    assert len(order) >= 3 and medians == sorted(medians)  # a time: the fastest (smallest) first
    assert "### Gym sampling" not in text  # no gym cells in the input: no empty section
    # beside the paper's lf column: our reactor is not LF, and by how much LF's Python target differs
    preamble = text.split("## Machine and versions")[0]
    assert "it is not LF" in preamble and "0.29 ms against our `reactor`'s 0.031 ms" in preamble


def test_report_of_a_corrupt_csv_writes_nothing(tmp_path: Path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("run_id,value\nx,1\n")
    out = tmp_path / "REPORT.md"
    assert main(["report", str(bad), "--out", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not out.exists()


def test_report_into_a_missing_folder_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["report", str(_csv(tmp_path)), "--out", str(tmp_path / "nope" / "R.md")]) == 2
    assert "nope does not exist" in capsys.readouterr().err


def test_report_separates_the_model_from_placement(tmp_path: Path):
    """The 2x2: reactor and pykka on threads, reactor-fed and ray in processes."""
    from tests.harness.sample_rows import row, write_results

    times = {"reactor": 1.0, "pykka": 10.0, "reactor-fed": 5.0, "ray": 50.0}
    rows = [row(backend=b, repeat=r, value=t) for b, t in times.items() for r in range(2)]
    out = tmp_path / "R.md"
    assert main(["report", str(write_results(tmp_path / "run.csv", rows)), "--out", str(out)]) == 0
    section = out.read_text().split("## The model at fixed placement, placement at fixed model")[1]
    header, _, line = [x for x in section.splitlines() if x.startswith("|")][:3]
    cells = dict(zip([c.strip() for c in header.strip("|").split("|")],
                     [c.strip() for c in line.strip("|").split("|")], strict=True))  # fmt: skip
    assert cells["model, threads: reactor / pykka"] == "0.1"
    assert cells["model, processes: reactor-fed / ray"] == "0.1"
    assert cells["placement, actors: pykka / ray"] == "0.2"
    assert cells["placement, reactors: reactor / reactor-fed"] == "0.2"
    assert cells["reactor-fed (processes)"] == "5"


def _table(text: str, title: str) -> tuple[str, dict[str, str]]:
    """A section's text up to its table, and its one data row as column -> cell."""
    section = text.split(title)[1].split("\n#")[0]
    header, _, line = [x for x in section.splitlines() if x.startswith("|")][:3]
    cells = dict(zip([c.strip() for c in header.strip("|").split("|")],
                     [c.strip() for c in line.strip("|").split("|")], strict=True))  # fmt: skip
    return section.split("\n|")[0], cells


def test_report_marks_cells_that_did_unequal_work(tmp_path: Path):
    """The ratio of a reactor that did half the work is no ratio: the row and reactor's ratios are
    marked and the note says why; the ratios of ray and pykka, which did the same work, are not."""
    from harness.report import UNEQUAL_MARK
    from tests.harness.sample_rows import row, write_results

    times = {"reactor": 1.0, "pykka": 10.0, "reactor-fed": 5.0, "ray": 50.0}
    rows = [row(backend=b, repeat=r, value=t, work=50 if b == "reactor" else 100)
            for b, t in times.items() for r in range(2)]  # fmt: skip
    out = tmp_path / "R.md"
    assert main(["report", str(write_results(tmp_path / "run.csv", rows)), "--out", str(out)]) == 0
    text = out.read_text()
    why = (
        "unequal work at collectives[n_actors=16,object_bytes=1024,variant=copy]: pykka=['100'], "
        "ray=['100'], reactor=['50'], reactor-fed=['100']"
    )
    note, _, rows = section_table(text, "### Broadcast & gather vs object size")
    assert f"{UNEQUAL_MARK} At marked rows backends did unequal work" in note and why in note
    assert rows[("1024", "reactor")]["object_bytes"] == f"1024 {UNEQUAL_MARK}"  # the point's first row
    assert (
        rows[("1024", "reactor")]["/ ray"] == f"0.02 {UNEQUAL_MARK}"
        and rows[("1024", "pykka")]["/ ray"] == "0.2"
    )
    note, cells = _table(text, "## The model at fixed placement, placement at fixed model")
    assert why in note
    assert cells["model, threads: reactor / pykka"] == f"0.1 {UNEQUAL_MARK}"
    assert cells["placement, actors: pykka / ray"] == "0.2"


def test_report_of_equal_work_marks_nothing(tmp_path: Path):
    from harness.report import UNEQUAL_MARK
    from tests.harness.sample_rows import repeats, write_results

    out = tmp_path / "R.md"
    rows = repeats(3, work=100, result_digest="d")
    assert main(["report", str(write_results(tmp_path / "run.csv", rows)), "--out", str(out)]) == 0
    assert UNEQUAL_MARK not in out.read_text()


def test_report_escapes_what_a_note_takes_from_the_csv(tmp_path: Path):
    from tests.harness.sample_rows import repeats, write_results

    rows = [{**r, "result_digest": "<i>x</i>" if r["backend"] == "reactor" else "d"} for r in repeats(2)]
    out = tmp_path / "R.md"
    assert main(["report", str(write_results(tmp_path / "run.csv", rows)), "--out", str(out)]) == 0
    text = out.read_text()
    assert "different results at collectives[" in text and "&lt;i&gt;x&lt;/i&gt;" in text
    assert "<i>" not in text
