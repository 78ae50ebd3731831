"""One table of `make bench`: every benchmark that has an issue-16 target records its row here, beside the limit it
measured in the same run, and `make bench` prints them together at the end.

    BENCH_RESULTS=/tmp/results.jsonl python -m weather_platform_tests.benchmarks.bench_streaming   # records rows
    python -m weather_platform_tests.benchmarks.summary /tmp/results.jsonl                           # the table

A benchmark run without BENCH_RESULTS records nothing (its own output is unchanged).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS_ENV = "BENCH_RESULTS"


@dataclass(frozen=True)
class Row:
    """One figure against its target: `higher_is_better` says which side of `target` meets it."""

    stage: str
    project: str
    limit: str
    figure: float
    target: float
    higher_is_better: bool
    unit: str = "x limit"

    @property
    def met(self) -> bool:
        return self.figure >= self.target if self.higher_is_better else self.figure < self.target


def record(row: Row) -> None:
    """Append `row` to the file BENCH_RESULTS names, if any."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as results:
            results.write(json.dumps(asdict(row)) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else os.environ.get(RESULTS_ENV, ""))
    rows = [Row(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    table = Table(title="make bench: issue 16's targets, each limit measured in the same run")
    for column in ("stage", "project", "limit / peer", "figure", "target", "met"):
        table.add_column(column, justify="left" if column in ("stage", "project", "limit / peer") else "right")
    for row in rows:
        sign = ">=" if row.higher_is_better else "<"
        table.add_row(row.stage, row.project, row.limit, f"{row.figure:.2f} {row.unit}", f"{sign} {row.target:g}",
                      "yes" if row.met else "[red]no[/red]")  # fmt: skip
    Console(width=180).print(table)
    print(f"{sum(r.met for r in rows)} of {len(rows)} targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
