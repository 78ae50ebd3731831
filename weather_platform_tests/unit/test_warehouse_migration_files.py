"""Migration files are discovered in version order, and a misnamed or duplicated one stops everything."""

from pathlib import Path

import pytest

from weather_platform.warehouse.migrations import MigrationError, discover


def test_shipped_migrations_are_numbered_in_order() -> None:
    migrations = discover()
    versions = [m.version for m in migrations]
    assert versions == sorted(versions) and versions[0] == "0001"
    assert [int(v) for v in versions] == list(range(1, len(versions) + 1))
    assert len({m.checksum for m in migrations}) == len(migrations)


def test_checksum_follows_the_file_content(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("SELECT 1;\n")
    before = discover(tmp_path)[0].checksum
    (tmp_path / "0001_first.sql").write_text("SELECT 2;\n")
    assert discover(tmp_path)[0].checksum != before


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["0001_first.sql", "2_second.sql"], "2_second.sql: migration files are named"),
        (["0001_First.sql"], "0001_First.sql: migration files are named"),
        (["0001_first.sql", "0001_other.sql"], "0001_other.sql: version 0001 is also 0001_first.sql"),
    ],
)
def test_bad_file_names_are_errors(tmp_path: Path, names: list[str], message: str) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=message):
        discover(tmp_path)
