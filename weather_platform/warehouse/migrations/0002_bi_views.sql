-- Views for BI tools (Power BI, Grafana, psql) connecting as weather_reader.

-- The newest observation of each (city, country).
CREATE VIEW v_weather_latest AS
SELECT DISTINCT ON (city, country) *
FROM gold_weather_detailed
ORDER BY city, country, "timestamp" DESC;

-- Daily aggregates with the change of the average temperature since the previous calendar day of the same
-- city; NULL when that day is missing, so a gap is never reported as a one-day change.
CREATE VIEW v_weather_daily_trend AS
SELECT
    city,
    country,
    date,
    avg_temperature,
    min_temperature,
    max_temperature,
    avg_humidity,
    avg_pressure,
    avg_wind_speed,
    total_rain_mm,
    total_snow_mm,
    observation_count,
    dominant_weather,
    CASE WHEN previous_date = date - 1 THEN previous_avg_temperature END AS previous_avg_temperature,
    CASE WHEN previous_date = date - 1 THEN avg_temperature - previous_avg_temperature END AS avg_temperature_change
FROM (
    SELECT
        d.*,
        lag(date) OVER w AS previous_date,
        lag(avg_temperature) OVER w AS previous_avg_temperature
    FROM gold_weather_daily_aggregates AS d
    WINDOW w AS (PARTITION BY city, country ORDER BY date)
) AS with_previous;
