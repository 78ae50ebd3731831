#!/usr/bin/env bash
# Run once by the postgres image's entrypoint, on the first start with an empty data volume, as the superuser.
# Databases and roles of the local stack (weather_platform/stack/services.py, Postgres.setup):
#   - WEATHER_WRITER (POSTGRES_USER of the platform, default weather_writer) owns the warehouse WEATHER_DW_DB
#     (default weather_dw) and the Dagster instance database DAGSTER_POSTGRES_DB (default dagster);
#   - weather_reader, the BI role, can only connect to the warehouse and SELECT what the migrations grant it (the
#     documented gold tables and views): read-only, time-bounded sessions, no CREATE, no TEMP, no advisory locks.
# Passwords come from the environment only and reach psql through \getenv, never through a command line.
set -euo pipefail

: "${WEATHER_WRITER_PASSWORD:?WEATHER_WRITER_PASSWORD is not set (POSTGRES_PASSWORD in docker/.env)}"
: "${WEATHER_READER_PASSWORD:?WEATHER_READER_PASSWORD is not set (docker/.env)}"
export WEATHER_WRITER="${WEATHER_WRITER:-weather_writer}"
export WEATHER_DW_DB="${WEATHER_DW_DB:-weather_dw}"
export DAGSTER_POSTGRES_DB="${DAGSTER_POSTGRES_DB:-dagster}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" <<'SQL'
\getenv writer WEATHER_WRITER
\getenv writer_password WEATHER_WRITER_PASSWORD
\getenv reader_password WEATHER_READER_PASSWORD
\getenv dw_db WEATHER_DW_DB
\getenv dagster_db DAGSTER_POSTGRES_DB
\set reader weather_reader

CREATE ROLE :"writer" LOGIN PASSWORD :'writer_password';
CREATE ROLE :"reader" LOGIN PASSWORD :'reader_password';
ALTER ROLE :"reader" SET default_transaction_read_only = on;
ALTER ROLE :"reader" SET statement_timeout = '300s';
ALTER ROLE :"reader" SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE :"reader" SET lock_timeout = '10s';

CREATE DATABASE :"dw_db" OWNER :"writer";
CREATE DATABASE :"dagster_db" OWNER :"writer";
-- Only the owner (writer) and, for the warehouse, the reader may connect; nobody else gets CONNECT or TEMP.
REVOKE ALL ON DATABASE :"dw_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"dagster_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dw_db" TO :"reader";

\connect :"dw_db"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"writer";
GRANT USAGE ON SCHEMA public TO :"reader";
-- Advisory locks serialize the writer's loads and migrations: nobody else may take them.
SELECT format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.oid::regprocedure),
       format('GRANT EXECUTE ON FUNCTION %s TO %I', p.oid::regprocedure, :'writer')
FROM pg_proc p
WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname LIKE 'pg%advisory%' \gexec
SQL
