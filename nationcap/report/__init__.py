"""Reports of results (layer 10, beside batch/): text summaries, comparisons of runs, figures.

- :mod:`.summary`  the plain-text summaries of ``nationcap validate`` and ``nationcap run``
- :mod:`.compare`  side-by-side comparison of runs (``nationcap compare``)
- :mod:`.plots`    figures of single runs and batches (``nationcap plot``)
"""
