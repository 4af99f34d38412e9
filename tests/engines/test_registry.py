"""The engine registry and the scenario schema name the same engines; every engine follows the protocol."""

from __future__ import annotations

from nationcap.config import ENGINE_NAMES
from nationcap.engines import Engine, engine_names, get_engine


def test_registry_and_schema_name_the_same_engines():
    assert set(engine_names()) == set(ENGINE_NAMES)


def test_every_engine_follows_the_protocol():
    for name in engine_names():
        engine = get_engine(name, log_file=None)
        assert isinstance(engine, Engine)
        assert engine.name == name
