"""``nationcap explore`` on the command line: what it refuses before serving anything."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from nationcap.cli import EXIT_INPUT, cli

ROOT = Path(__file__).resolve().parents[2]


def test_a_taken_port_is_refused_before_loading():
    """A port something already listens on: exit 2 with the port named, no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = CliRunner().invoke(cli, ["explore", str(ROOT / "models" / "tiny.toml"), "--no-open", "--port", str(port)])
    assert res.exit_code == EXIT_INPUT, res.output
    assert f"cannot listen on 127.0.0.1:{port}" in res.output
    assert "give a free --port" in res.output
    assert "Traceback" not in res.output


def test_a_missing_scenario_is_refused(tmp_path):
    """A scenario file that does not exist: exit 2, the file named."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = CliRunner().invoke(cli, ["explore", str(tmp_path / "none.toml"), "--no-open", "--port", str(port)])
    assert res.exit_code == EXIT_INPUT
    assert "none.toml" in res.output and "file not found" in res.output
