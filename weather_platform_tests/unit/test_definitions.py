"""The code location loads: what `dagster definitions validate` checks, as a test."""

from __future__ import annotations

import dagster as dg

from weather_platform.definitions import defs


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)
