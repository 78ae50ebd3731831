-- The BI role reads the documented gold tables and views and nothing else (least privilege).
--
-- Until now the role also read pipeline_execution_log, whose error messages may name hosts and paths, and, by
-- default privileges, every table the writer would ever create. From here on every grant is explicit: the
-- default privileges are withdrawn, every table grant is revoked, and the documented objects are granted again.
-- The run history stays readable through v_pipeline_runs, without the error messages.

DO $$
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM weather_reader', current_schema());
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM weather_reader', current_schema());
END
$$;

-- One row per asset materialization of the platform, as pipeline_execution_log has it, minus error_message.
CREATE VIEW v_pipeline_runs AS
SELECT run_id, asset_key, partition_key, status, started_at, finished_at, duration_seconds, rows_in, rows_out
FROM pipeline_execution_log;

GRANT SELECT ON
    gold_weather_detailed,
    gold_weather_daily_aggregates,
    gold_weather_hourly_aggregates,
    v_weather_latest,
    v_weather_daily_trend,
    v_pipeline_runs
TO weather_reader;
