-- One schema contract (weather_platform/schema.py): schema_version is the whole number the observation contract
-- defines in every layer (bronze int64, silver bigint, gold bigint), no longer text in silver and gold. Values loaded
-- as text are whole numbers silver wrote from bronze's int64; anything else would become NULL.
-- v_weather_latest selected `*` from the table, so it depended on every column: it is recreated unchanged for its
-- readers, now naming the columns it shows (a later column change no longer has to drop it).

DROP VIEW v_weather_latest;

ALTER TABLE gold_weather_detailed
    ALTER COLUMN schema_version TYPE bigint
    USING CASE WHEN schema_version ~ '^-?[0-9]{1,18}$' THEN schema_version::bigint END;

COMMENT ON COLUMN gold_weather_detailed.schema_version IS 'Version of the observation contract the record was written with (id)';

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
    SELECT DISTINCT ON (city, country)
        city, country, latitude, longitude, "timestamp", temperature, feels_like_c, humidity, dew_point, pressure,
        wind_speed, wind_gust, wind_deg, clouds, visibility, rain_1h, snow_1h, heat_index, wind_chill, weather_main,
        weather_description
    FROM gold_weather_detailed
    ORDER BY city, country, "timestamp" DESC
) AS newest;

GRANT SELECT ON v_weather_latest TO weather_reader;
COMMENT ON VIEW v_weather_latest IS 'The newest observation of each city: analyst columns, rounded to the instruments'' precision.';
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
