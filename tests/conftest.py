"""Shared test settings.

The helpers in this folder (``casebuilder``, ``handcases``) are importable from every test
folder through ``pythonpath = ["tests"]`` in pyproject.toml.

Hypothesis runs derandomized everywhere (reproducible CI: the same examples on every run, no
example database); property tests may tighten the other settings with their own ``@settings``.
"""

import pytest
from hypothesis import HealthCheck, settings

# the helpers assert too (handcases checks every solved case): show their values on failure
pytest.register_assert_rewrite("handcases")

settings.register_profile(
    "nationcap",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("nationcap")


@pytest.fixture()
def dask_cluster():
    """Start a real local Dask cluster: ``dask_cluster(threads_per_worker=1)`` gives the scheduler
    address of one worker process bound to 127.0.0.1; every cluster started is closed when the
    test ends (skipped without ``distributed``)."""
    distributed = pytest.importorskip("distributed")
    clusters = []

    def start(threads_per_worker: int = 1) -> str:
        cluster = distributed.LocalCluster(
            n_workers=1,
            processes=True,
            threads_per_worker=threads_per_worker,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        )
        clusters.append(cluster)
        return cluster.scheduler_address

    try:
        yield start
    finally:
        for cluster in clusters:
            cluster.close()
