-- The BI role reads the gold tables, the views and the execution log, and nothing else. Explicit grants, so it
-- does not depend on default privileges having been set up for this schema; schema_migrations is bookkeeping
-- and is withdrawn even where default privileges granted it. The role itself is created with the database
-- (`weather-platform stack up`, or the DBA on a managed server): this fails clearly if it does not exist.

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO weather_reader', current_schema());
END
$$;

GRANT SELECT ON
    gold_weather_detailed,
    gold_weather_daily_aggregates,
    gold_weather_hourly_aggregates,
    pipeline_execution_log,
    v_weather_latest,
    v_weather_daily_trend
TO weather_reader;

REVOKE ALL ON schema_migrations FROM weather_reader;
