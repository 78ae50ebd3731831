-- gold_weather_detailed's months created from here on are divided into one partition per day (the loader creates
-- both on demand): a day's replace builds the new day as a table of its own and swaps it in, instead of deleting
-- and re-inserting rows inside the month, and retention drops whole days. Months created before keep their one
-- table and are loaded and trimmed as before; nothing is moved.

COMMENT ON TABLE gold_weather_detailed IS 'One row per observation (city, country, timestamp): every silver column plus lineage back to Kafka and bronze. Partitioned by month on date, each month by day.';
