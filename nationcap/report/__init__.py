"""Reports of results (layer 8, beside batch/): text summaries, comparisons of runs, plots."""
