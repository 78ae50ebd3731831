"""Check results per UTC day, also in a range run.

A backfill materializes a range of days in one run (`BackfillPolicy.single_run()`), and Dagster 1.13 gives an
`AssetCheckResult` yielded there no partition: the UI would show one result for the whole range. So each day's
result is yielded as an `AssetCheckEvaluation` naming its day (the event Dagster itself records for a partitioned
check), after one empty output per selected check (the step's required check outputs). Dagster still honours
`blocking`: a failed blocking check of any day fails the step after every day was processed and checked, so the
range's downstream waits while each day's results are visible.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import dagster as dg


class DayChecks:
    """The selected checks of one step, reported per day."""

    def __init__(self, context: dg.AssetExecutionContext) -> None:
        self._context = context
        self._selected = set(context.selected_asset_check_keys)

    def outputs(self) -> Iterator[dg.Output[None]]:
        """The check outputs the step must produce (their results are the evaluations that follow)."""
        for key in sorted(self._selected, key=lambda k: (k.asset_key.to_user_string(), k.name)):
            yield dg.Output(None, output_name=self._context.assets_def.get_output_name_for_asset_check_key(key))

    def result(
        self,
        asset: dg.AssetKey,
        name: str,
        day: date,
        passed: bool,
        metadata: Mapping[str, Any],
        description: str | None = None,
        severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    ) -> Iterator[dg.AssetCheckEvaluation]:
        """The day's evaluation of check `name` of `asset` (nothing when the check is not selected in this run)."""
        key = dg.AssetCheckKey(asset, name)
        if key not in self._selected:
            return
        spec = self._context.assets_def.get_spec_for_check_key(key)
        yield dg.AssetCheckEvaluation(
            asset_key=asset,
            check_name=name,
            passed=passed,
            metadata=dict(metadata),
            severity=severity,
            description=description,
            blocking=spec.blocking,
            partition=day.isoformat(),
        )


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The UTC days of this run: one for a single partition, each day of the range for a range run."""
    return [date.fromisoformat(key) for key in context.partition_keys]
