"""Citations of the shipped data: every source is a public URL, never a file outside the repository.

The datasets' READMEs, their dataset.toml, the scenario files and the generator's facts and
docstrings cite public sources by URL (or a source id of nationcap/tools/japan_facts.toml, which
gives the URL); a section sign or the name of a note kept outside the repository would point the
reader to something they cannot open.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from casebuilder import REPO

#: what a citation of a file outside the repository looks like
OUTSIDE = ("§", "japan_facts.md", "program_rules", "reference notes", "shared/reference", "solver_performance.md")

SHIPPED = sorted(
    [
        *REPO.glob("inputs/*/README.md"),
        *REPO.glob("inputs/*/dataset.toml"),
        *REPO.glob("models/*.toml"),
        *REPO.glob("nationcap/tools/dataset_readmes/*.md"),
        REPO / "nationcap/tools/japan_facts.toml",
        *REPO.glob("nationcap/tools/*.py"),
    ]
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_no_citation_of_files_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    hits = [
        f"line {i}: {line.strip()[:100]}"
        for i, line in enumerate(text.splitlines(), 1)
        if any(word in line for word in OUTSIDE)
    ]
    assert not hits, "\n".join(hits)


def test_every_source_id_cited_by_the_generator_has_a_url():
    """A source id in brackets ([elcs-2023]) in the generator's modules or japan_facts.toml names
    an entry of japan_facts.toml [[sources]], and every entry has an http(s) URL."""
    facts = tomllib.loads((REPO / "nationcap/tools/japan_facts.toml").read_text(encoding="utf-8"))
    sources = {s["id"]: s for s in facts["sources"]}
    assert all(re.match(r"https?://\S+$", s["url"]) for s in sources.values())
    files = ["generate.py", "activity.py", "supply.py", "tiny.py", "files.py", "japan_facts.toml"]
    cited: set[str] = set()
    for name in files:
        text = (REPO / "nationcap/tools" / name).read_text(encoding="utf-8")
        # an id in running text: after a space or an opening bracket, not an index like x[i]
        cited |= set(re.findall(r"(?<=[ (])\[([a-z][a-z0-9]{2,}(?:-[a-z0-9]+)*)\](?=[ ),.;:\n])", text))
    assert {"gppd", "elcs-2023", "coe-conv", "tmg-intensity", "elec-primary"} <= cited
    assert cited <= set(sources), sorted(cited - set(sources))
