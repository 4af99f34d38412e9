"""Reports of results (layer 10, beside batch/): text summaries, comparisons of runs, figures.

- :mod:`.summary`  the plain-text summaries of ``nationcap validate`` and ``nationcap run``
- :mod:`.compare`  side-by-side comparison of runs (``nationcap compare``)
- :mod:`.checks`   what ``nationcap validate`` checks besides the inputs: feasibility, notes
- :mod:`.plots`    figures of single runs and batches (``nationcap plot``) and ``compare.png``
- :mod:`.labels`   axis and parameter labels of figures
- :mod:`.i18n`     Japanese labels (``--lang ja``) and the packaged Japanese font
- :mod:`.workbook` the Excel workbook (``nationcap export --format xlsx``)
- :mod:`.html`     the self-contained HTML report (``nationcap report``)
- :mod:`.paired`   a paired Monte Carlo's gains per draw and market, their summary and figure
"""
