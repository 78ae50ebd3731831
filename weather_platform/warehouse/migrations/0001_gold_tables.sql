-- Gold tables of DESIGN.md §4.4 and the pipeline execution log.
--
-- gold_weather_detailed is range-partitioned by month on `date`, the UTC date of `timestamp` (a CHECK keeps the
-- two consistent): a day's replace touches one partition, and retention drops whole months instead of deleting
-- rows. The loader creates the month's partition on demand; there is no default partition, so a row can never
-- land outside a named month. PostgreSQL requires a unique key of a partitioned table to include the partition
-- column, so the key is (date, city, country, timestamp): as date is a function of timestamp, it is exactly as
-- strict as (city, country, timestamp). Every key leads with the date so the day's DELETE is an index range scan.
-- country may be NULL (the contract only requires city): NULLS NOT DISTINCT still allows one row per key.
-- silver's raw_json is not kept here: bronze holds it, and bronze_object/kafka_* lead back to it.

CREATE TABLE gold_weather_detailed (
    schema_version      text,
    source              text,
    city                text             NOT NULL,
    country             text,
    city_id             bigint,
    latitude            double precision,
    longitude           double precision,
    "timestamp"         timestamptz      NOT NULL,
    ingested_at         timestamptz,
    temperature         double precision NOT NULL,
    feels_like          double precision,
    temp_min            double precision,
    temp_max            double precision,
    pressure            double precision,
    sea_level           double precision,
    grnd_level          double precision,
    humidity            double precision,
    visibility          double precision,
    wind_speed          double precision,
    wind_deg            double precision,
    wind_gust           double precision,
    clouds              double precision,
    rain_1h             double precision,
    snow_1h             double precision,
    weather_main        text,
    weather_description text,
    weather_icon        text,
    sunrise             timestamptz,
    sunset              timestamptz,
    timezone_offset     integer,
    kafka_topic         text,
    kafka_partition     integer,
    kafka_offset        bigint,
    kafka_timestamp     timestamptz,
    kafka_key           text,
    bronze_object       text,
    year                integer          NOT NULL,
    month               integer          NOT NULL,
    day                 integer          NOT NULL,
    hour                integer          NOT NULL,
    day_of_week         integer          NOT NULL,
    heat_index          double precision,
    dew_point           double precision,
    wind_chill          double precision,
    quality_score       integer          NOT NULL,
    date                date             NOT NULL,
    dagster_run_id      text             NOT NULL,
    loaded_at           timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT gold_weather_detailed_key UNIQUE NULLS NOT DISTINCT (date, city, country, "timestamp"),
    CONSTRAINT gold_weather_detailed_date_check CHECK (date = ("timestamp" AT TIME ZONE 'UTC')::date)
) PARTITION BY RANGE (date);

CREATE TABLE gold_weather_daily_aggregates (
    city                text             NOT NULL,
    country             text,
    date                date             NOT NULL,
    avg_temperature     double precision,
    min_temperature     double precision,
    max_temperature     double precision,
    avg_humidity        double precision,
    min_humidity        double precision,
    max_humidity        double precision,
    avg_pressure        double precision,
    avg_wind_speed      double precision,
    max_wind_speed      double precision,
    total_rain_mm       double precision,
    total_snow_mm       double precision,
    avg_heat_index      double precision,
    avg_quality_score   double precision,
    observation_count   bigint           NOT NULL,
    dominant_weather    text,
    dagster_run_id      text             NOT NULL,
    loaded_at           timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT gold_weather_daily_aggregates_key UNIQUE NULLS NOT DISTINCT (date, city, country)
);

CREATE TABLE gold_weather_hourly_aggregates (
    city                text             NOT NULL,
    country             text,
    date                date             NOT NULL,
    hour                integer          NOT NULL CHECK (hour BETWEEN 0 AND 23),
    avg_temperature     double precision,
    min_temperature     double precision,
    max_temperature     double precision,
    avg_humidity        double precision,
    min_humidity        double precision,
    max_humidity        double precision,
    avg_pressure        double precision,
    avg_wind_speed      double precision,
    max_wind_speed      double precision,
    total_rain_mm       double precision,
    total_snow_mm       double precision,
    avg_heat_index      double precision,
    avg_quality_score   double precision,
    observation_count   bigint           NOT NULL,
    dominant_weather    text,
    dagster_run_id      text             NOT NULL,
    loaded_at           timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT gold_weather_hourly_aggregates_key UNIQUE NULLS NOT DISTINCT (date, city, country, hour)
);

-- One row per asset materialization: inserted as `started`, then updated to `success` or `failed`.
CREATE TABLE pipeline_execution_log (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           text        NOT NULL,
    asset_key        text        NOT NULL,
    partition_key    text,
    status           text        NOT NULL CHECK (status IN ('started', 'success', 'failed')),
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    duration_seconds double precision,
    rows_in          bigint,
    rows_out         bigint,
    error_message    text
);
CREATE INDEX pipeline_execution_log_asset_partition ON pipeline_execution_log (asset_key, partition_key);
CREATE INDEX pipeline_execution_log_started_at ON pipeline_execution_log (started_at);
