"""Gold warehouse in PostgreSQL (docs/DESIGN.md §4.4): migrations, per-day transactional loads, execution log,
check queries.

Plain psycopg 3, no Dagster: the gold assets and checks call these functions and only wire and report.
"""
