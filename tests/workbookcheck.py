"""Reading a results workbook back and checking it against the results (shared by the tests of
``nationcap export --format xlsx`` at small and full scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from openpyxl import load_workbook

from nationcap.report.workbook import sheet_of
from nationcap.results.io import batch_dim, column_name


def check_values(path: Path, runs: list[xr.Dataset], labels: list[str] | None = None) -> int:
    """Every numeric results variable that the workbook holds equals, value for value and to the
    last bit, the variable of its run (read with pandas, header row 2); each run's variables are
    all there except the per-entity yearly ones (and, compared, every per-entity one). Returns
    the number of values compared."""
    sheets = pd.read_excel(path, sheet_name=None, header=1)
    compared = 0
    for k, r in enumerate(runs):
        batch = batch_dim(r)
        for name, da in r.data_vars.items():
            if da.dtype.kind not in "fiu":
                continue
            sheet = sheet_of(str(name), da, batch)
            if sheet is None or sheet.startswith("entities") and labels:
                assert sheet is None or labels, name
                continue
            assert sheet in sheets, (name, sheet, list(sheets))
            df = sheets[sheet]
            col = column_name(str(name), da.attrs) + (f" [{labels[k]}]" if labels else "")
            assert col in df.columns, (name, col, list(df.columns))
            dims = [str(d) for d in da.dims]
            expect = da.to_series() if dims else pd.Series([da.values.item()])
            if dims:
                got = df.set_index(dims)[col]
                got = got[~got.index.duplicated()].reindex(expect.index)
            else:
                got = df[col].iloc[:1]
            np.testing.assert_array_equal(
                got.to_numpy(dtype=float), expect.to_numpy(dtype=float), err_msg=f"{name} in sheet {sheet}"
            )
            compared += expect.size
    return compared


def check_layout(path: Path) -> None:
    """Numbers are numbers, two bold frozen header rows, columns wide enough for their header's
    column name (openpyxl)."""
    wb = load_workbook(path, read_only=False)
    assert wb.sheetnames[0] == "README"
    for ws in wb.worksheets:
        assert ws.freeze_panes in ("A3", "B3"), ws.title
        assert all(c.font.bold for c in ws[1] if c.value is not None), ws.title
        for cell in ws[2]:
            if cell.value is None:
                continue
            width = ws.column_dimensions[cell.column_letter].width
            assert width >= min(len(str(cell.value)), 58), (ws.title, cell.value, width)
        for row in ws.iter_rows(min_row=3, max_row=min(ws.max_row, 50)):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not _number_as_text(cell.value) or ws.title in ("README",), (ws.title, cell.coordinate)
    wb.close()


def _number_as_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
