"""The facts of the synthetic ``inputs/japan`` dataset, each with its source, read once from
``nationcap/tools/japan_facts.toml`` (packaged with nationcap)."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

#: the parsed japan_facts.toml
FACTS: dict[str, Any] = tomllib.loads(
    resources.files(__package__).joinpath("japan_facts.toml").read_text(encoding="utf-8")
)
