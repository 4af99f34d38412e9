"""Mistakes that are refused before anything is solved or written.

- a swept value read as text where the key takes a number (``--values 0.1,abc``: a bare word is
  TOML text) is a typo, not a sweep point: exit 2, no batch folder;
- ``--scheduler`` with no scheduler at the address: exit 2, no batch folder (the client connects
  before the folder is made);
- a mount point given as ``--out`` of a command that replaces its folder as a whole: exit 4;
- blank rows that a spreadsheet leaves at the end of a CSV file are dropped; an empty row between
  data rows is one problem, not one per cell.
"""

from __future__ import annotations

import os

import pytest
from casebuilder import batch_case
from click.testing import CliRunner

from nationcap.cli import EXIT_INPUT, EXIT_OUTPUT, cli
from nationcap.errors import InputError
from nationcap.pipeline import load


@pytest.fixture
def case(tmp_path):
    return batch_case(tmp_path / "case")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_swept_value_read_as_text_is_refused(case, tmp_path, monkeypatch):
    import nationcap.batch.store as store

    monkeypatch.setattr(store, "execute", lambda *a, **k: pytest.fail("solved before refusing"))
    out = tmp_path / "sw"
    res = invoke("sweep", case, "--param", "discount_rate", "--values", "0.02,abc", "--out", out)
    assert res.exit_code == EXIT_INPUT, res.output
    assert "--param discount_rate, value 'abc': a number is expected" in res.output
    assert "quote text" in res.output and "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.solver
def test_text_a_key_takes_is_swept(case, tmp_path):
    out = tmp_path / "sw"
    res = invoke("sweep", case, "--param", "solver.engine", "--values", "fast,pyomo", "--out", out, "--workers", "1")
    assert res.exit_code == 0, res.output


def test_no_scheduler_is_2_and_writes_nothing(case, tmp_path, monkeypatch):
    import dask.distributed

    def refused(address, timeout=30):
        raise OSError(f"Timed out trying to connect to {address}")

    monkeypatch.setattr(dask.distributed, "Client", refused)
    out = tmp_path / "sw"
    res = invoke(
        "sweep",
        case,
        "--param",
        "discount_rate",
        "--values",
        "0.02,0.03",
        "--out",
        out,
        "--scheduler",
        "tcp://127.0.0.1:1",
    )
    assert res.exit_code == EXIT_INPUT, res.output
    assert "cannot connect to the Dask scheduler" in res.output and "nothing was written" in res.output
    assert not out.exists()


def test_a_mount_point_as_the_folder_to_replace_is_4(case, tmp_path, monkeypatch):
    mount = tmp_path / "mnt"
    mount.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: os.fspath(p) == os.fspath(mount) or real(p))
    res = invoke("run", case, "--out", mount)
    assert res.exit_code == EXIT_OUTPUT, res.output
    assert "is a mount point" in res.output and f"--out {mount / 'results'}" in res.output


def test_blank_rows_a_spreadsheet_leaves_are_dropped(case):
    data = case.parent / "data"
    with open(data / "bau.csv", "a") as fh:
        fh.write(",,\n,,\n\n")
    with open(data / "mac.csv", "a") as fh:
        fh.write(" , , , \n")
    scn, ds = load(case)
    assert not (ds.bau["entity_id"] == "").any() and not (ds.mac["entity_id"] == "").any()


def test_an_empty_row_between_data_rows_is_one_problem(case):
    bau = case.parent / "data" / "bau.csv"
    lines = bau.read_text().splitlines()
    bau.write_text("\n".join([*lines[:3], ",,", *lines[3:]]) + "\n")
    with pytest.raises(InputError) as err:
        load(case)
    assert [p.message for p in err.value.problems] == ["the row is empty; delete it"]
    assert err.value.problems[0].where == "row 4"
