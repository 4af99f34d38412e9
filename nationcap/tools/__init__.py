"""Tools the CLI offers beside the model: the dataset generator and the benchmark (top layer:
only :mod:`nationcap.cli` imports them)."""
