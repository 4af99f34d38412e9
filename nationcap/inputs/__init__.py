"""The input contract: dataset tables, their checks, geography and file fingerprints.

Layer 3: imports :mod:`nationcap.errors` and :mod:`nationcap.config` only.
"""

from .contract import TABLES
from .fingerprint import dataset_fingerprint, input_fingerprints
from .tables import Dataset, load_dataset

__all__ = ["TABLES", "Dataset", "dataset_fingerprint", "input_fingerprints", "load_dataset"]
