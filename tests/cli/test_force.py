"""``--force`` replaces only what nationcap wrote, for every command that has it.

A folder holding a user's own file (``thesis.docx``), or a copy of the shipped ``inputs/`` folder,
is refused with exit code 4 and "holds files nationcap did not write", with and without
``--force``, and nothing in it changes. A folder of nationcap's results is replaced with
``--force``; a dataset that ``nationcap generate`` wrote is replaced only by ``generate``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.atomic import BATCH, COMPARISON, DATASET, RESULTS, check_replaceable, written_by
from nationcap.cli import EXIT_OUTPUT, cli
from nationcap.errors import OutputError, OutputExistsError

REPO = Path(__file__).resolve().parents[2]
NOT_OURS = "holds files nationcap did not write"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def case(tmp_path):
    return batch_case(tmp_path / "case")


@pytest.fixture
def users_folder(tmp_path):
    """A folder with a user's own file in it."""
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"PK\x03\x04 three years of work")
    return folder


@pytest.fixture
def inputs_copy(tmp_path):
    """A copy of the shipped inputs/ folder (README.md and two generated datasets)."""
    dest = tmp_path / "inputs"
    shutil.copytree(REPO / "inputs" / "tiny", dest / "tiny")
    shutil.copy2(REPO / "inputs" / "README.md", dest / "README.md")
    return dest


def assert_refused(res, folder: Path, before: dict[str, bytes], text: str = NOT_OURS) -> None:
    assert res.exit_code == EXIT_OUTPUT, res.output
    assert "Traceback" not in res.output
    assert text in res.output and str(folder) in res.output
    assert snapshot(folder) == before  # not one file changed


def test_what_nationcap_wrote_is_recognised(tmp_path, users_folder):
    assert written_by(users_folder) is None
    assert written_by(REPO / "inputs" / "tiny") == DATASET  # its dataset.toml names nationcap generate
    assert written_by(REPO / "inputs") is None
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text('{"nationcap_version": "1"}\n')
    assert written_by(run) == RESULTS
    (run / "run.json").write_text('{"something": "else"}\n')  # another tool's run.json
    assert written_by(run) is None
    (run / "batch.json").write_text('{"spec_hash": "abc"}\n')
    assert written_by(run) == BATCH
    cmp_ = tmp_path / "cmp"
    cmp_.mkdir()
    (cmp_ / "compare_summary.csv").write_text("run\n")
    assert written_by(cmp_) == COMPARISON


def test_check_replaceable_by_kind(tmp_path, users_folder):
    check_replaceable(tmp_path / "missing", force=False)
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty", force=False)
    for force in (False, True):
        with pytest.raises(OutputError, match=NOT_OURS):
            check_replaceable(users_folder, force=force)
    with pytest.raises(OutputError, match="generated dataset of nationcap, which this command does not replace"):
        check_replaceable(REPO / "inputs" / "tiny", force=True)
    with pytest.raises(OutputExistsError, match="pass --force"):
        check_replaceable(REPO / "inputs" / "tiny", force=False, kinds=(DATASET,))
    check_replaceable(REPO / "inputs" / "tiny", force=True, kinds=(DATASET,))


@pytest.mark.solver
def test_run_refuses_a_users_folder_and_the_inputs_even_with_force(case, users_folder, inputs_copy):
    for folder in (users_folder, inputs_copy, inputs_copy / "tiny"):
        before = snapshot(folder)
        for force in ([], ["--force"]):
            res = invoke("run", case, "--out", folder, "--engine", "fast", *force)
            text = NOT_OURS if folder.name != "tiny" else "generated dataset of nationcap"
            assert_refused(res, folder, before, text)
            assert "choose a new or empty folder" in res.output


@pytest.mark.solver
def test_run_replaces_its_own_results_with_force(case, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", case, "--out", out, "--engine", "fast").exit_code == 0
    res = invoke("run", case, "--out", out, "--engine", "fast")
    assert res.exit_code == EXIT_OUTPUT and "already holds results of nationcap" in res.output
    res = invoke("run", case, "--out", out, "--engine", "fast", "--force", "--set", "discount_rate=0.05")
    assert res.exit_code == 0, res.output
    assert '"discount_rate": 0.05' in (out / "run.json").read_text()


@pytest.mark.solver
def test_sweep_and_montecarlo_refuse_a_users_folder(tmp_path, users_folder):
    path = batch_case(tmp_path / "case", extra="[montecarlo]\ndraws = 2\n[montecarlo.bau_growth]\nsd = 0.01\n")
    before = snapshot(users_folder)
    sweep = ["sweep", path, "--param", "discount_rate", "--values", "0.02,0.03", "--workers", "1"]
    for args in (sweep, ["montecarlo", path, "--workers", "1"]):
        res = invoke(*args, "--out", users_folder, "--force", "--set", 'solver.engine="fast"')
        assert_refused(res, users_folder, before)


@pytest.mark.solver
def test_compare_refuses_a_users_folder_and_replaces_its_own(case, tmp_path, users_folder):
    a, b = tmp_path / "a", tmp_path / "b"
    assert invoke("run", case, "--out", a, "--engine", "fast").exit_code == 0
    assert invoke("run", case, "--out", b, "--engine", "fast", "--set", "discount_rate=0.05").exit_code == 0
    before = snapshot(users_folder)
    assert_refused(invoke("compare", a, b, "--out", users_folder, "--force"), users_folder, before)
    out = tmp_path / "cmp"
    assert invoke("compare", a, b, "--out", out).exit_code == 0
    assert invoke("compare", a, b, "--out", out).exit_code == EXIT_OUTPUT
    assert invoke("compare", a, b, "--out", out, "--force").exit_code == 0


def test_generate_replaces_only_a_generated_dataset(tmp_path, users_folder, inputs_copy):
    before = snapshot(users_folder)
    assert_refused(invoke("generate", "--kind", "tiny", "--out", users_folder, "--force"), users_folder, before)
    before = snapshot(inputs_copy)
    assert_refused(invoke("generate", "--kind", "tiny", "--out", inputs_copy, "--force"), inputs_copy, before)
    # a dataset nationcap generated: replaced with --force, and its hand-written README is kept
    res = invoke("generate", "--kind", "tiny", "--out", inputs_copy / "tiny", "--force")
    assert res.exit_code == 0, res.output
    assert snapshot(inputs_copy) == before
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text('{"nationcap_version": "1"}\n')
    res = invoke("generate", "--kind", "tiny", "--out", run, "--force")
    assert res.exit_code == EXIT_OUTPUT and "results of nationcap, which this command does not replace" in res.output


@pytest.mark.solver
def test_export_replaces_only_an_iamc_table(case, tmp_path, users_folder):
    out = tmp_path / "out"
    assert invoke("run", case, "--out", out, "--engine", "fast").exit_code == 0
    doc = users_folder / "thesis.docx"
    before = doc.read_bytes()
    res = invoke("export", out, "--out", doc, "--force")
    assert res.exit_code == EXIT_OUTPUT and "is a file nationcap did not write" in res.output
    assert doc.read_bytes() == before
    csv = tmp_path / "iamc.csv"
    assert invoke("export", out, "--out", csv).exit_code == 0
    assert invoke("export", out, "--out", csv).exit_code == EXIT_OUTPUT
    assert invoke("export", out, "--out", csv, "--force").exit_code == 0
