-- Gold that reads well in a BI tool, and the numbers analysts can trust (docs/DESIGN.md §4.4, §4.5).
--
-- * feels_like_c (MetPy's apparent temperature) beside the source's own feels_like; the aggregates gain its mean
--   and hours_observed/coverage_share, so a precipitation total over a day with gaps says how many hours it covers.
--   Rows loaded before this migration have NULL there until their day is materialized again; their heat_index,
--   wind_chill and precipitation totals are also those of the old definitions until then.
-- * Analyst views with the analyst columns only, rounded to the instruments' precision (0.1 °C, 1 %, 0.1 hPa,
--   0.1 m/s, 0.1 mm); the lineage columns stay in gold_weather_detailed.
-- * A comment on every gold table, view and column, with the unit in brackets: BI tools show them.

ALTER TABLE gold_weather_detailed ADD COLUMN feels_like_c double precision;
ALTER TABLE gold_weather_daily_aggregates
    ADD COLUMN avg_feels_like_c double precision,
    ADD COLUMN hours_observed integer CHECK (hours_observed BETWEEN 0 AND 24),
    ADD COLUMN coverage_share double precision CHECK (coverage_share BETWEEN 0 AND 1);
ALTER TABLE gold_weather_hourly_aggregates
    ADD COLUMN avg_feels_like_c double precision,
    ADD COLUMN hours_observed integer CHECK (hours_observed BETWEEN 0 AND 1),
    ADD COLUMN coverage_share double precision CHECK (coverage_share BETWEEN 0 AND 1);

DROP VIEW v_weather_latest;
DROP VIEW v_weather_daily_trend;

-- The newest observation of each (city, country), analyst columns only.
CREATE VIEW v_weather_latest AS
SELECT
    city,
    country,
    round(latitude::numeric, 4) AS latitude,
    round(longitude::numeric, 4) AS longitude,
    "timestamp",
    round((extract(epoch FROM now() - "timestamp") / 60)::numeric) AS age_minutes,
    round(temperature::numeric, 1) AS temperature,
    round(feels_like_c::numeric, 1) AS feels_like_c,
    round(humidity::numeric) AS humidity,
    round(dew_point::numeric, 1) AS dew_point,
    round(pressure::numeric, 1) AS pressure,
    round(wind_speed::numeric, 1) AS wind_speed,
    round(wind_gust::numeric, 1) AS wind_gust,
    round(wind_deg::numeric) AS wind_deg,
    round(clouds::numeric) AS clouds,
    round(visibility::numeric) AS visibility,
    round(rain_1h::numeric, 1) AS rain_1h,
    round(snow_1h::numeric, 1) AS snow_1h,
    round(heat_index::numeric, 1) AS heat_index,
    round(wind_chill::numeric, 1) AS wind_chill,
    weather_main,
    weather_description
FROM (
    SELECT DISTINCT ON (city, country) *
    FROM gold_weather_detailed
    ORDER BY city, country, "timestamp" DESC
) AS newest;

-- Daily aggregates with the change of the mean temperature since the previous calendar day of the same city;
-- NULL when that day is missing, so a gap is never reported as a one-day change.
CREATE VIEW v_weather_daily_trend AS
SELECT
    city,
    country,
    date,
    round(avg_temperature::numeric, 1) AS avg_temperature,
    round(min_temperature::numeric, 1) AS min_temperature,
    round(max_temperature::numeric, 1) AS max_temperature,
    round(avg_feels_like_c::numeric, 1) AS avg_feels_like_c,
    round(avg_humidity::numeric) AS avg_humidity,
    round(avg_pressure::numeric, 1) AS avg_pressure,
    round(avg_wind_speed::numeric, 1) AS avg_wind_speed,
    round(max_wind_speed::numeric, 1) AS max_wind_speed,
    round(total_rain_mm::numeric, 1) AS total_rain_mm,
    round(total_snow_mm::numeric, 1) AS total_snow_mm,
    round(avg_heat_index::numeric, 1) AS avg_heat_index,
    observation_count,
    hours_observed,
    round(coverage_share::numeric, 2) AS coverage_share,
    dominant_weather,
    round((CASE WHEN previous_date = date - 1 THEN previous_avg_temperature END)::numeric, 1)
        AS previous_avg_temperature,
    round((CASE WHEN previous_date = date - 1 THEN avg_temperature - previous_avg_temperature END)::numeric, 1)
        AS avg_temperature_change
FROM (
    SELECT
        d.*,
        lag(date) OVER w AS previous_date,
        lag(avg_temperature) OVER w AS previous_avg_temperature
    FROM gold_weather_daily_aggregates AS d
    WINDOW w AS (PARTITION BY city, country ORDER BY date)
) AS with_previous;

-- Hourly aggregates with the start of the hour as a time column (Grafana, Power BI).
CREATE VIEW v_weather_hourly AS
SELECT
    city,
    country,
    date,
    hour,
    (date + make_interval(hours => hour)) AT TIME ZONE 'UTC' AS hour_start,
    round(avg_temperature::numeric, 1) AS avg_temperature,
    round(min_temperature::numeric, 1) AS min_temperature,
    round(max_temperature::numeric, 1) AS max_temperature,
    round(avg_feels_like_c::numeric, 1) AS avg_feels_like_c,
    round(avg_humidity::numeric) AS avg_humidity,
    round(avg_pressure::numeric, 1) AS avg_pressure,
    round(avg_wind_speed::numeric, 1) AS avg_wind_speed,
    round(max_wind_speed::numeric, 1) AS max_wind_speed,
    round(total_rain_mm::numeric, 1) AS total_rain_mm,
    round(total_snow_mm::numeric, 1) AS total_snow_mm,
    round(avg_heat_index::numeric, 1) AS avg_heat_index,
    observation_count,
    dominant_weather
FROM gold_weather_hourly_aggregates;

GRANT SELECT ON v_weather_latest, v_weather_daily_trend, v_weather_hourly TO weather_reader;

-- Tables and views
COMMENT ON TABLE gold_weather_detailed IS 'One row per observation (city, country, timestamp): every silver column plus lineage back to Kafka and bronze. Partitioned by month on date.';
COMMENT ON TABLE gold_weather_daily_aggregates IS 'One row per city and UTC day: means, extremes, precipitation totals (each hour counted once) and coverage.';
COMMENT ON TABLE gold_weather_hourly_aggregates IS 'One row per city, UTC day and hour: means, extremes, the hour''s precipitation accumulation.';
COMMENT ON TABLE pipeline_execution_log IS 'One row per asset materialization of the platform, with its status, row counts and error message (writer only).';
COMMENT ON VIEW v_weather_latest IS 'The newest observation of each city: analyst columns, rounded to the instruments'' precision.';
COMMENT ON VIEW v_weather_daily_trend IS 'Daily aggregates, rounded, with the change of the mean temperature since the previous day.';
COMMENT ON VIEW v_weather_hourly IS 'Hourly aggregates, rounded, with the start of the hour as a time column.';
COMMENT ON VIEW v_pipeline_runs IS 'Every asset materialization of the platform with its status and row counts (no error messages).';

-- gold_weather_detailed
COMMENT ON COLUMN gold_weather_detailed.schema_version IS 'Version of the observation contract the record was written with (text)';
COMMENT ON COLUMN gold_weather_detailed.source IS 'Weather source that produced the reading, e.g. openweather or simulator (text)';
COMMENT ON COLUMN gold_weather_detailed.city IS 'City name as the source reports it (text)';
COMMENT ON COLUMN gold_weather_detailed.country IS 'ISO 3166-1 alpha-2 country code (text)';
COMMENT ON COLUMN gold_weather_detailed.city_id IS 'The source''s numeric city id (id)';
COMMENT ON COLUMN gold_weather_detailed.latitude IS 'Latitude of the city [degrees north]';
COMMENT ON COLUMN gold_weather_detailed.longitude IS 'Longitude of the city [degrees east]';
COMMENT ON COLUMN gold_weather_detailed."timestamp" IS 'Observation time, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_detailed.ingested_at IS 'When the platform fetched the reading, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_detailed.temperature IS 'Air temperature [°C]';
COMMENT ON COLUMN gold_weather_detailed.feels_like IS 'The source''s own feels-like temperature, as reported [°C]';
COMMENT ON COLUMN gold_weather_detailed.temp_min IS 'The source''s minimum temperature across the city area at observation time [°C]';
COMMENT ON COLUMN gold_weather_detailed.temp_max IS 'The source''s maximum temperature across the city area at observation time [°C]';
COMMENT ON COLUMN gold_weather_detailed.pressure IS 'Atmospheric pressure at sea level as reported [hPa]';
COMMENT ON COLUMN gold_weather_detailed.sea_level IS 'Atmospheric pressure at sea level [hPa]';
COMMENT ON COLUMN gold_weather_detailed.grnd_level IS 'Atmospheric pressure at ground level [hPa]';
COMMENT ON COLUMN gold_weather_detailed.humidity IS 'Relative humidity [%]';
COMMENT ON COLUMN gold_weather_detailed.visibility IS 'Visibility [m]';
COMMENT ON COLUMN gold_weather_detailed.wind_speed IS 'Wind speed at 10 m [m/s]';
COMMENT ON COLUMN gold_weather_detailed.wind_deg IS 'Wind direction, where the wind comes from [degrees, 0 = north]';
COMMENT ON COLUMN gold_weather_detailed.wind_gust IS 'Wind gust speed [m/s]';
COMMENT ON COLUMN gold_weather_detailed.clouds IS 'Cloud cover [%]';
COMMENT ON COLUMN gold_weather_detailed.rain_1h IS 'Rain accumulated over the hour before the reading; null when the source reports none [mm]';
COMMENT ON COLUMN gold_weather_detailed.snow_1h IS 'Snow (liquid equivalent) accumulated over the hour before the reading; null when none [mm]';
COMMENT ON COLUMN gold_weather_detailed.weather_main IS 'Weather condition group, e.g. Rain, Clouds, Clear (text)';
COMMENT ON COLUMN gold_weather_detailed.weather_description IS 'Weather condition in words, e.g. light rain (text)';
COMMENT ON COLUMN gold_weather_detailed.weather_icon IS 'The source''s weather icon code (text)';
COMMENT ON COLUMN gold_weather_detailed.sunrise IS 'Sunrise of the local day, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_detailed.sunset IS 'Sunset of the local day, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_detailed.timezone_offset IS 'Offset of the city''s local time from UTC [s]';
COMMENT ON COLUMN gold_weather_detailed.kafka_topic IS 'Lineage: Kafka topic the record was read from (text)';
COMMENT ON COLUMN gold_weather_detailed.kafka_partition IS 'Lineage: Kafka partition of the record (id)';
COMMENT ON COLUMN gold_weather_detailed.kafka_offset IS 'Lineage: Kafka offset of the record (id)';
COMMENT ON COLUMN gold_weather_detailed.kafka_timestamp IS 'Lineage: Kafka record timestamp, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_detailed.kafka_key IS 'Lineage: Kafka record key, city,country (text)';
COMMENT ON COLUMN gold_weather_detailed.bronze_object IS 'Lineage: bronze Parquet object holding the raw record (text)';
COMMENT ON COLUMN gold_weather_detailed.year IS 'UTC year of the observation [year]';
COMMENT ON COLUMN gold_weather_detailed.month IS 'UTC month of the observation, 1-12 [month]';
COMMENT ON COLUMN gold_weather_detailed.day IS 'UTC day of month of the observation, 1-31 [day]';
COMMENT ON COLUMN gold_weather_detailed.hour IS 'UTC hour of the observation, 0-23 [hour]';
COMMENT ON COLUMN gold_weather_detailed.day_of_week IS 'ISO day of week of the observation (UTC), 1 = Monday [day]';
COMMENT ON COLUMN gold_weather_detailed.heat_index IS 'Heat index (MetPy heat_index); null below 26.7 °C (80 °F), where it is not defined [°C]';
COMMENT ON COLUMN gold_weather_detailed.dew_point IS 'Dew point (MetPy dewpoint_from_relative_humidity); null at 0 % humidity [°C]';
COMMENT ON COLUMN gold_weather_detailed.wind_chill IS 'Wind chill (MetPy windchill); null above 10 °C or at wind up to 1.34 m/s, where it is not defined [°C]';
COMMENT ON COLUMN gold_weather_detailed.quality_score IS 'Completeness of the record: 100 minus 10 per missing optional field, floor 0 [points, 0-100]';
COMMENT ON COLUMN gold_weather_detailed.date IS 'UTC date of the observation [date]';
COMMENT ON COLUMN gold_weather_detailed.dagster_run_id IS 'Lineage: Dagster run that loaded the row (text)';
COMMENT ON COLUMN gold_weather_detailed.loaded_at IS 'Lineage: when the row was loaded into gold, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_detailed.feels_like_c IS 'Feels-like (apparent) temperature (MetPy apparent_temperature): wind chill in cold wind, heat index in heat, else the air temperature [°C]';

-- gold_weather_daily_aggregates
COMMENT ON COLUMN gold_weather_daily_aggregates.city IS 'City name (text)';
COMMENT ON COLUMN gold_weather_daily_aggregates.country IS 'ISO 3166-1 alpha-2 country code (text)';
COMMENT ON COLUMN gold_weather_daily_aggregates.date IS 'UTC date [date]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_temperature IS 'Mean air temperature of the readings [°C]';
COMMENT ON COLUMN gold_weather_daily_aggregates.min_temperature IS 'Lowest air temperature of the readings [°C]';
COMMENT ON COLUMN gold_weather_daily_aggregates.max_temperature IS 'Highest air temperature of the readings [°C]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_humidity IS 'Mean relative humidity [%]';
COMMENT ON COLUMN gold_weather_daily_aggregates.min_humidity IS 'Lowest relative humidity [%]';
COMMENT ON COLUMN gold_weather_daily_aggregates.max_humidity IS 'Highest relative humidity [%]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_pressure IS 'Mean sea-level pressure [hPa]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_wind_speed IS 'Mean wind speed at 10 m [m/s]';
COMMENT ON COLUMN gold_weather_daily_aggregates.max_wind_speed IS 'Highest wind speed at 10 m [m/s]';
COMMENT ON COLUMN gold_weather_daily_aggregates.total_rain_mm IS 'Rain total: each hour''s accumulation (the hour''s reading nearest its end) counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN gold_weather_daily_aggregates.total_snow_mm IS 'Snow total (liquid equivalent): each hour''s accumulation counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_heat_index IS 'Mean heat index over the readings where it is defined (26.7 °C and above); null when none [°C]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_quality_score IS 'Mean quality score of the readings [points, 0-100]';
COMMENT ON COLUMN gold_weather_daily_aggregates.observation_count IS 'Number of readings [count]';
COMMENT ON COLUMN gold_weather_daily_aggregates.dominant_weather IS 'Most frequent weather condition group (text)';
COMMENT ON COLUMN gold_weather_daily_aggregates.dagster_run_id IS 'Lineage: Dagster run that loaded the row (text)';
COMMENT ON COLUMN gold_weather_daily_aggregates.loaded_at IS 'Lineage: when the row was loaded into gold, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_daily_aggregates.avg_feels_like_c IS 'Mean feels-like (apparent) temperature [°C]';
COMMENT ON COLUMN gold_weather_daily_aggregates.hours_observed IS 'Hours of the period with at least one reading: the hours the precipitation total covers [hours]';
COMMENT ON COLUMN gold_weather_daily_aggregates.coverage_share IS 'hours_observed over the hours of the period (24 a day, 1 an hour) [fraction, 0-1]';

-- gold_weather_hourly_aggregates
COMMENT ON COLUMN gold_weather_hourly_aggregates.city IS 'City name (text)';
COMMENT ON COLUMN gold_weather_hourly_aggregates.country IS 'ISO 3166-1 alpha-2 country code (text)';
COMMENT ON COLUMN gold_weather_hourly_aggregates.date IS 'UTC date [date]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.hour IS 'UTC hour, 0-23 [hour]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_temperature IS 'Mean air temperature of the readings [°C]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.min_temperature IS 'Lowest air temperature of the readings [°C]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.max_temperature IS 'Highest air temperature of the readings [°C]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_humidity IS 'Mean relative humidity [%]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.min_humidity IS 'Lowest relative humidity [%]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.max_humidity IS 'Highest relative humidity [%]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_pressure IS 'Mean sea-level pressure [hPa]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_wind_speed IS 'Mean wind speed at 10 m [m/s]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.max_wind_speed IS 'Highest wind speed at 10 m [m/s]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.total_rain_mm IS 'Rain total: each hour''s accumulation (the hour''s reading nearest its end) counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.total_snow_mm IS 'Snow total (liquid equivalent): each hour''s accumulation counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_heat_index IS 'Mean heat index over the readings where it is defined (26.7 °C and above); null when none [°C]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_quality_score IS 'Mean quality score of the readings [points, 0-100]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.observation_count IS 'Number of readings [count]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.dominant_weather IS 'Most frequent weather condition group (text)';
COMMENT ON COLUMN gold_weather_hourly_aggregates.dagster_run_id IS 'Lineage: Dagster run that loaded the row (text)';
COMMENT ON COLUMN gold_weather_hourly_aggregates.loaded_at IS 'Lineage: when the row was loaded into gold, UTC [timestamptz]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.avg_feels_like_c IS 'Mean feels-like (apparent) temperature [°C]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.hours_observed IS 'Hours of the period with at least one reading: the hours the precipitation total covers [hours]';
COMMENT ON COLUMN gold_weather_hourly_aggregates.coverage_share IS 'hours_observed over the hours of the period (24 a day, 1 an hour) [fraction, 0-1]';

-- pipeline_execution_log
COMMENT ON COLUMN pipeline_execution_log.id IS 'Row id (id)';
COMMENT ON COLUMN pipeline_execution_log.run_id IS 'Dagster run id (text)';
COMMENT ON COLUMN pipeline_execution_log.asset_key IS 'Asset key, e.g. gold/weather_detailed (text)';
COMMENT ON COLUMN pipeline_execution_log.partition_key IS 'Partition (UTC day, YYYY-MM-DD) (text)';
COMMENT ON COLUMN pipeline_execution_log.status IS 'started, success or failed (text)';
COMMENT ON COLUMN pipeline_execution_log.started_at IS 'When the materialization started, UTC [timestamptz]';
COMMENT ON COLUMN pipeline_execution_log.finished_at IS 'When it finished, UTC [timestamptz]';
COMMENT ON COLUMN pipeline_execution_log.duration_seconds IS 'How long it took [s]';
COMMENT ON COLUMN pipeline_execution_log.rows_in IS 'Rows read [count]';
COMMENT ON COLUMN pipeline_execution_log.rows_out IS 'Rows written [count]';
COMMENT ON COLUMN pipeline_execution_log.error_message IS 'Why it failed, for the operator (text)';

-- v_pipeline_runs
COMMENT ON COLUMN v_pipeline_runs.run_id IS 'Dagster run id (text)';
COMMENT ON COLUMN v_pipeline_runs.asset_key IS 'Asset key, e.g. gold/weather_detailed (text)';
COMMENT ON COLUMN v_pipeline_runs.partition_key IS 'Partition (UTC day, YYYY-MM-DD) (text)';
COMMENT ON COLUMN v_pipeline_runs.status IS 'started, success or failed (text)';
COMMENT ON COLUMN v_pipeline_runs.started_at IS 'When the materialization started, UTC [timestamptz]';
COMMENT ON COLUMN v_pipeline_runs.finished_at IS 'When it finished, UTC [timestamptz]';
COMMENT ON COLUMN v_pipeline_runs.duration_seconds IS 'How long it took [s]';
COMMENT ON COLUMN v_pipeline_runs.rows_in IS 'Rows read [count]';
COMMENT ON COLUMN v_pipeline_runs.rows_out IS 'Rows written [count]';

-- v_weather_latest
COMMENT ON COLUMN v_weather_latest.city IS 'City name as the source reports it (text)';
COMMENT ON COLUMN v_weather_latest.country IS 'ISO 3166-1 alpha-2 country code (text)';
COMMENT ON COLUMN v_weather_latest.latitude IS 'Latitude of the city, 4 decimals [degrees north]';
COMMENT ON COLUMN v_weather_latest.longitude IS 'Longitude of the city, 4 decimals [degrees east]';
COMMENT ON COLUMN v_weather_latest."timestamp" IS 'Observation time, UTC [timestamptz]';
COMMENT ON COLUMN v_weather_latest.age_minutes IS 'Minutes since the observation, at query time [min]';
COMMENT ON COLUMN v_weather_latest.temperature IS 'Air temperature [°C]';
COMMENT ON COLUMN v_weather_latest.feels_like_c IS 'Feels-like (apparent) temperature (MetPy apparent_temperature): wind chill in cold wind, heat index in heat, else the air temperature [°C]';
COMMENT ON COLUMN v_weather_latest.humidity IS 'Relative humidity [%]';
COMMENT ON COLUMN v_weather_latest.dew_point IS 'Dew point (MetPy dewpoint_from_relative_humidity); null at 0 % humidity [°C]';
COMMENT ON COLUMN v_weather_latest.pressure IS 'Atmospheric pressure at sea level as reported [hPa]';
COMMENT ON COLUMN v_weather_latest.wind_speed IS 'Wind speed at 10 m [m/s]';
COMMENT ON COLUMN v_weather_latest.wind_gust IS 'Wind gust speed [m/s]';
COMMENT ON COLUMN v_weather_latest.wind_deg IS 'Wind direction, where the wind comes from [degrees, 0 = north]';
COMMENT ON COLUMN v_weather_latest.clouds IS 'Cloud cover [%]';
COMMENT ON COLUMN v_weather_latest.visibility IS 'Visibility [m]';
COMMENT ON COLUMN v_weather_latest.rain_1h IS 'Rain accumulated over the hour before the reading; null when the source reports none [mm]';
COMMENT ON COLUMN v_weather_latest.snow_1h IS 'Snow (liquid equivalent) accumulated over the hour before the reading; null when none [mm]';
COMMENT ON COLUMN v_weather_latest.heat_index IS 'Heat index (MetPy heat_index); null below 26.7 °C (80 °F), where it is not defined [°C]';
COMMENT ON COLUMN v_weather_latest.wind_chill IS 'Wind chill (MetPy windchill); null above 10 °C or at wind up to 1.34 m/s, where it is not defined [°C]';
COMMENT ON COLUMN v_weather_latest.weather_main IS 'Weather condition group, e.g. Rain, Clouds, Clear (text)';
COMMENT ON COLUMN v_weather_latest.weather_description IS 'Weather condition in words, e.g. light rain (text)';

-- v_weather_daily_trend
COMMENT ON COLUMN v_weather_daily_trend.city IS 'City name (text)';
COMMENT ON COLUMN v_weather_daily_trend.country IS 'ISO 3166-1 alpha-2 country code (text)';
COMMENT ON COLUMN v_weather_daily_trend.date IS 'UTC date [date]';
COMMENT ON COLUMN v_weather_daily_trend.avg_temperature IS 'Mean air temperature of the readings [°C]';
COMMENT ON COLUMN v_weather_daily_trend.min_temperature IS 'Lowest air temperature of the readings [°C]';
COMMENT ON COLUMN v_weather_daily_trend.max_temperature IS 'Highest air temperature of the readings [°C]';
COMMENT ON COLUMN v_weather_daily_trend.avg_feels_like_c IS 'Mean feels-like (apparent) temperature [°C]';
COMMENT ON COLUMN v_weather_daily_trend.avg_humidity IS 'Mean relative humidity [%]';
COMMENT ON COLUMN v_weather_daily_trend.avg_pressure IS 'Mean sea-level pressure [hPa]';
COMMENT ON COLUMN v_weather_daily_trend.avg_wind_speed IS 'Mean wind speed at 10 m [m/s]';
COMMENT ON COLUMN v_weather_daily_trend.max_wind_speed IS 'Highest wind speed at 10 m [m/s]';
COMMENT ON COLUMN v_weather_daily_trend.total_rain_mm IS 'Rain total: each hour''s accumulation (the hour''s reading nearest its end) counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN v_weather_daily_trend.total_snow_mm IS 'Snow total (liquid equivalent): each hour''s accumulation counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN v_weather_daily_trend.avg_heat_index IS 'Mean heat index over the readings where it is defined (26.7 °C and above); null when none [°C]';
COMMENT ON COLUMN v_weather_daily_trend.observation_count IS 'Number of readings [count]';
COMMENT ON COLUMN v_weather_daily_trend.hours_observed IS 'Hours of the period with at least one reading: the hours the precipitation total covers [hours]';
COMMENT ON COLUMN v_weather_daily_trend.coverage_share IS 'hours_observed over the hours of the period (24 a day, 1 an hour) [fraction, 0-1]';
COMMENT ON COLUMN v_weather_daily_trend.dominant_weather IS 'Most frequent weather condition group (text)';
COMMENT ON COLUMN v_weather_daily_trend.previous_avg_temperature IS 'Mean air temperature of the previous calendar day; null when that day is missing [°C]';
COMMENT ON COLUMN v_weather_daily_trend.avg_temperature_change IS 'Mean air temperature minus that of the previous calendar day; null when that day is missing [°C]';

-- v_weather_hourly
COMMENT ON COLUMN v_weather_hourly.city IS 'City name (text)';
COMMENT ON COLUMN v_weather_hourly.country IS 'ISO 3166-1 alpha-2 country code (text)';
COMMENT ON COLUMN v_weather_hourly.date IS 'UTC date [date]';
COMMENT ON COLUMN v_weather_hourly.hour IS 'UTC hour, 0-23 [hour]';
COMMENT ON COLUMN v_weather_hourly.hour_start IS 'Start of the UTC hour [timestamptz]';
COMMENT ON COLUMN v_weather_hourly.avg_temperature IS 'Mean air temperature of the readings [°C]';
COMMENT ON COLUMN v_weather_hourly.min_temperature IS 'Lowest air temperature of the readings [°C]';
COMMENT ON COLUMN v_weather_hourly.max_temperature IS 'Highest air temperature of the readings [°C]';
COMMENT ON COLUMN v_weather_hourly.avg_feels_like_c IS 'Mean feels-like (apparent) temperature [°C]';
COMMENT ON COLUMN v_weather_hourly.avg_humidity IS 'Mean relative humidity [%]';
COMMENT ON COLUMN v_weather_hourly.avg_pressure IS 'Mean sea-level pressure [hPa]';
COMMENT ON COLUMN v_weather_hourly.avg_wind_speed IS 'Mean wind speed at 10 m [m/s]';
COMMENT ON COLUMN v_weather_hourly.max_wind_speed IS 'Highest wind speed at 10 m [m/s]';
COMMENT ON COLUMN v_weather_hourly.total_rain_mm IS 'Rain total: each hour''s accumulation (the hour''s reading nearest its end) counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN v_weather_hourly.total_snow_mm IS 'Snow total (liquid equivalent): each hour''s accumulation counted once, summed over the hours observed [mm]';
COMMENT ON COLUMN v_weather_hourly.avg_heat_index IS 'Mean heat index over the readings where it is defined (26.7 °C and above); null when none [°C]';
COMMENT ON COLUMN v_weather_hourly.observation_count IS 'Number of readings [count]';
COMMENT ON COLUMN v_weather_hourly.dominant_weather IS 'Most frequent weather condition group (text)';
