"""The project's dagster.yaml gives an instance whose runs and events live in the stack's PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg

from weather_platform.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@dg.asset
def answer() -> int:
    return 42


def test_materialization_is_stored_in_postgres(settings: Settings, tmp_path: Path) -> None:
    shutil.copy(REPO / "dagster.instance.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        result = dg.materialize([answer], instance=instance)
        assert result.success
        assert result.output_for_node("answer") == 42
        run_id = result.run_id
    with psycopg.connect(**settings.postgres_connect_kwargs(settings.dagster_postgres_db)) as conn:
        status = conn.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,)).fetchone()
        events = conn.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (run_id,),
        ).fetchone()
    assert status == ("SUCCESS",)
    assert events == (1,)
