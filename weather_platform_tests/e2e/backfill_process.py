"""One history backfill in a process of its own, on an isolated pipeline's resources, for tests that kill it midway.

    python -m weather_platform_tests.e2e.backfill_process '{"settings": {...}, "group": …, "schema": …,
                                                            "start": …, "end": …, "cities": [...]}'

`settings` holds only non-secret fields (topics, buckets, endpoints): secrets come from the environment, never from
a command line. Exit status 0 when the range run succeeded.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import dagster as dg
from rich.console import Console

from weather_platform.history import run_backfill
from weather_platform.settings import load_settings
from weather_platform_tests.lanes import Lane


def main() -> int:
    spec = json.loads(sys.argv[1])
    lane = Lane(load_settings().model_copy(update=spec["settings"]), spec["group"], spec["schema"])
    resources = lane.resources()
    span = (date.fromisoformat(spec["start"]), date.fromisoformat(spec["end"]))
    with dg.DagsterInstance.ephemeral() as instance:
        report, result = run_backfill(instance, resources, span, spec["cities"], Console(stderr=True))
    return 0 if report.published and result is not None and result.success else 1


if __name__ == "__main__":
    sys.exit(main())
