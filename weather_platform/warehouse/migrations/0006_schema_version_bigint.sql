-- One schema contract (weather_platform/schema.py): schema_version is the whole number the observation contract
-- defines in every layer (bronze int64, silver bigint, gold bigint), no longer text in silver and gold.
-- Values loaded as text are whole numbers written by silver from bronze's int64; anything else would become NULL.

ALTER TABLE gold_weather_detailed
    ALTER COLUMN schema_version TYPE bigint
    USING CASE WHEN schema_version ~ '^-?[0-9]{1,18}$' THEN schema_version::bigint END;

COMMENT ON COLUMN gold_weather_detailed.schema_version IS 'Version of the observation contract the record was written with (number)';
