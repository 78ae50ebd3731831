"""Silver cleaning of bronze weather observations as pure DataFrame → DataFrame functions.

No I/O and no Dagster here: assets read bronze, call `clean`, and write the result. Only built-in Spark
functions are used (no Python UDFs), so everything runs inside the JVM at full speed.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, reduce
from operator import add
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, Window
from pyspark.sql import functions as F

from weather_platform.schema import LINEAGE, OBSERVATION, silver_types
from weather_platform.sources.observation import MAX_TEXT_CHARS
from weather_platform.transforms.weather_formulas import (
    apparent_temperature_col,
    dew_point_col,
    heat_index_col,
    wind_chill_col,
)

# Silver type of every observation field of the contract and of the bronze writer's lineage columns (kept as
# received apart from their types), from the schema contract.
OBSERVATION_TYPES: dict[str, str] = silver_types(OBSERVATION)
LINEAGE_TYPES: dict[str, str] = silver_types(LINEAGE)

# Fields a complete observation carries; each one missing costs 10 quality points. Left out on purpose: the
# required fields (a record without them is dropped), fields whose absence is normal in OpenWeather answers
# (rain_1h, snow_1h: no precipitation; wind_gust, sea_level, grnd_level: not reported everywhere) and
# bookkeeping (schema_version, source, city_id, ingested_at, weather_icon, sunrise, sunset, timezone_offset).
OPTIONAL_FIELDS: tuple[str, ...] = (
    "country",
    "latitude",
    "longitude",
    "feels_like",
    "pressure",
    "humidity",
    "visibility",
    "wind_speed",
    "wind_deg",
    "clouds",
    "weather_main",
    "weather_description",
)

# Drop rules in the order they are applied: a record is counted under the first rule it breaks.
# `unstorable_text` repeats the contract's text rules (no NUL, city and country within their limits) for bronze
# written before the contract had them: gold's COPY and unique index would reject the whole day.
DROP_RULES: tuple[str, ...] = (
    "missing_required",
    "unstorable_text",
    "temperature_out_of_range",
    "humidity_out_of_range",
)
DUPLICATE_RULE = "duplicate"
DEDUP_KEY: tuple[str, ...] = ("city", "country", "timestamp")

_RULE = "_drop_rule"


@dataclass(frozen=True)
class CleanResult:
    """Cleaned rows plus the counts that reconcile them with bronze: rows_in = rows_out + sum(dropped)."""

    cleaned: DataFrame
    dropped: dict[str, int]
    rows_in: int

    @property
    def rows_out(self) -> int:
        return self.rows_in - sum(self.dropped.values())


def cast_types(df: DataFrame) -> DataFrame:
    """Give every contract and lineage column its silver type; what cannot be parsed becomes null.

    `try_cast` keeps a malformed value from failing the whole job under ANSI mode; it then surfaces as a
    missing field (dropped if required, a quality deduction if optional). Contract strings are trimmed and
    blank means null. Contract columns absent from the input are added as typed nulls, so silver's schema
    never depends on which fields a bronze object happened to contain. Other columns follow the typed ones.
    """
    source_types = dict(df.dtypes)

    def typed(name: str, target: str, trim: bool) -> Column:
        source = source_types.get(name)
        col = F.col(name)
        if source is None:
            col = F.lit(None).cast(target)
        elif target == "string":
            col = F.nullif(F.trim(col.cast("string")), F.lit("")) if trim else col.cast("string")
        elif name == "kafka_timestamp" and source in ("int", "bigint"):
            col = F.timestamp_millis(col)  # Kafka's own epoch milliseconds
        else:
            col = col.try_cast(target)
        return col.alias(name)

    typed_columns = [typed(n, t, trim=True) for n, t in OBSERVATION_TYPES.items()]
    typed_columns += [typed(n, t, trim=False) for n, t in LINEAGE_TYPES.items()]
    known = OBSERVATION_TYPES.keys() | LINEAGE_TYPES.keys()
    return df.select(*typed_columns, *[F.col(c) for c in df.columns if c not in known])


def _unstorable_text() -> Column:
    """A NUL in any text column (one search over them all, joined) or a text over its contract limit."""
    strings = [name for name, kind in OBSERVATION_TYPES.items() if kind == "string"] + ["kafka_key"]
    has_nul = F.coalesce(F.instr(F.concat_ws("", *[F.col(c) for c in strings]), "\x00") > 0, F.lit(False))
    too_long = [F.coalesce(F.length(F.col(c)) > limit, F.lit(False)) for c, limit in MAX_TEXT_CHARS.items()]
    return reduce(lambda a, b: a | b, too_long, has_nul)


def _drop_rule() -> Column:
    """The first rule a typed record breaks, or null when it is kept."""
    temperature, humidity = F.col("temperature"), F.col("humidity")
    return (
        F.when(F.col("city").isNull() | F.col("timestamp").isNull() | temperature.isNull(), DROP_RULES[0])
        .when(_unstorable_text(), DROP_RULES[1])
        .when(~temperature.between(-100.0, 60.0), DROP_RULES[2])
        .when(humidity.isNotNull() & ~humidity.between(0.0, 100.0), DROP_RULES[3])
    )


def _rule_counts() -> list[Column]:
    return [F.count(F.when(F.col(_RULE) == rule, 1)).alias(rule) for rule in DROP_RULES]


def _kept(tagged: DataFrame) -> DataFrame:
    return tagged.filter(F.col(_RULE).isNull()).drop(_RULE)


def deduplicate(df: DataFrame, within: tuple[str, ...] = ()) -> DataFrame:
    """Keep one row per (city, country, timestamp) (of each value of the `within` columns): the latest ingested,
    then the highest Kafka coordinates.

    The tie-breakers make the choice reproducible when a record was ingested twice at the same instant
    (a replay), so re-running a day gives the same rows. Spark hashes the rows on `within` and the key and sorts
    each task's rows on them: the output stays in that order.
    """
    latest_first = Window.partitionBy(*within, *DEDUP_KEY).orderBy(
        F.col("ingested_at").desc_nulls_last(),
        F.col("kafka_partition").desc_nulls_last(),
        F.col("kafka_offset").desc_nulls_last(),
        F.col("bronze_object").asc_nulls_last(),
    )
    rank = "_rank"
    return df.withColumn(rank, F.row_number().over(latest_first)).filter(F.col(rank) == 1).drop(rank)


def quality_score_col() -> Column:
    """100 minus 10 per missing field of OPTIONAL_FIELDS, never below 0."""
    missing = reduce(add, [F.col(f).isNull().cast("int") for f in OPTIONAL_FIELDS])
    return F.greatest(100 - 10 * missing, F.lit(0))


def enrich(df: DataFrame, calendar: bool = True) -> DataFrame:
    """Add calendar fields, heat index, dew point, wind chill, feels-like temperature and quality score.

    The derived quantities follow MetPy's definitions (`weather_formulas`); `feels_like_c` is MetPy's apparent
    temperature, beside the source's own `feels_like`.

    Calendar fields come from the epoch seconds of the observation, so they are the UTC ones whatever the
    session time zone: the day the bronze and silver folders are named after. day_of_week is ISO (1 = Monday).
    `calendar=False`: year, month and day are not added (the frame carries those of the silver folder its rows are
    written to, see `clean_grouped`).
    """
    seconds = F.unix_seconds(F.col("timestamp"))
    utc_date = F.date_from_unix_date(F.floor(seconds / 86400).cast("int"))
    temperature, humidity = F.col("temperature"), F.col("humidity")
    dates = {"year": F.year(utc_date), "month": F.month(utc_date), "day": F.dayofmonth(utc_date)}
    return df.withColumns(
        {
            **(dates if calendar else {}),
            "hour": F.pmod(F.floor(seconds / 3600), F.lit(24)).cast("int"),
            "day_of_week": F.weekday(utc_date) + 1,
            "heat_index": heat_index_col(temperature, humidity),
            "dew_point": dew_point_col(temperature, humidity),
            "wind_chill": wind_chill_col(temperature, F.col("wind_speed")),
            "feels_like_c": apparent_temperature_col(temperature, humidity, F.col("wind_speed")),
            "quality_score": quality_score_col(),
        }
    )


def clean(df: DataFrame) -> CleanResult:
    """Bronze → silver: cast, drop invalid records, de-duplicate, enrich (`clean_grouped` over the whole frame)."""
    cleaning = clean_grouped(df)
    rows_in, dropped = cleaning.counts().get(None, (0, dict.fromkeys((*DROP_RULES, DUPLICATE_RULE), 0)))
    return CleanResult(cleaning.cleaned, dropped, rows_in)


GroupCounts = dict[Any, tuple[int, dict[str, int]]]
# Up to this many groups are counted by the cleaning itself; more by a job of their own. Each group adds six
# conditional counts evaluated on every row in one generated method: 30 groups (a 30-day range of 720,000 rows)
# made it too large for the JIT and the run went from 85 s to over 9 minutes; 3 groups run faster than the job.
MAX_OBSERVED_GROUPS = 3


@dataclass(frozen=True)
class Cleaning:
    """Cleaned rows, not computed yet, and (rows in, dropped per rule) of each group of the input (`counts`)."""

    cleaned: DataFrame
    counts: Callable[[], GroupCounts]


def clean_grouped(
    df: DataFrame,
    by: str | None = None,
    folder: Mapping[str, Column] | None = None,
    groups: Sequence[Any] | None = None,
) -> Cleaning:
    """Bronze → silver: cast, drop invalid records, de-duplicate, enrich; with (rows in, dropped per rule) of each
    value of the column `by` (None: of the whole frame, under the key None). A group without rows has no entry.
    A duplicate key never spans two groups when `by` is a function of the key (the event day).

    `groups`: the values `by` takes (at most MAX_OBSERVED_GROUPS): the rows are counted as they are cleaned
    (Spark's observed metrics, no job of their own) and `counts` reads them once the cleaned rows are written;
    a duplicate is a valid row the de-duplication removed. Otherwise (or asked before the write, or when the
    query ran without the observing steps: an empty input's plan may drop them), one aggregation job over the
    typed input counts them (duplicates: valid rows minus distinct valid keys).

    `folder`: year, month and day of the folder each row is written to (a function of its key, as `by` is), set
    in place of the calendar fields of its timestamp. The de-duplication, one shuffle and sort of whole rows, then
    hashes them on the folder and the key: its output is what a partitioned write of the folders needs (each
    task's rows sorted by folder, then key), and a big day is written by several tasks at once.
    """
    tagged = cast_types(df).withColumn(_RULE, _drop_rule())

    def cleaned(rows: DataFrame) -> DataFrame:
        kept = _kept(rows)
        if folder:
            kept = kept.withColumns(dict(folder))
        return enrich(deduplicate(kept, tuple(folder or ())), calendar=not folder)

    if groups is not None and len(groups) <= MAX_OBSERVED_GROUPS:
        return _observed_cleaning(tagged, by, list(groups), cleaned)
    counts = _counted(tagged, by)
    return Cleaning(cleaned(tagged), lambda: counts)


def _counted(tagged: DataFrame, by: str | None) -> GroupCounts:
    """One aggregation job: each group's rows in, records dropped per rule and duplicates."""
    valid_key = F.when(F.col(_RULE).isNull(), F.struct(*DEDUP_KEY))
    grouped = tagged.groupBy(by) if by else tagged.groupBy()
    rows = grouped.agg(
        F.count(F.lit(1)).alias("rows_in"),
        *_rule_counts(),
        (F.count(valid_key) - F.count_distinct(valid_key)).alias(DUPLICATE_RULE),
    ).collect()
    return {
        (row[by] if by else None): (
            int(row["rows_in"]),
            {rule: int(row[rule]) for rule in (*DROP_RULES, DUPLICATE_RULE)},
        )
        for row in rows
        if row["rows_in"]
    }


def _observed_cleaning(
    tagged: DataFrame, by: str | None, groups: list[Any], cleaned: Callable[[DataFrame], DataFrame]
) -> Cleaning:
    """`cleaned` of `tagged`, counting each group's rows (and each rule's) on the way in and its rows on the way out."""
    members = [F.col(by) == F.lit(group) if by else F.lit(True) for group in groups]
    arriving, leaving = Observation(), Observation()
    counted = tagged.observe(
        arriving,
        F.lit(1).alias("-"),  # a metric even for no group, so that an observed run is told from one not run yet
        *(F.count_if(member).alias(f"{i}") for i, member in enumerate(members)),
        *(
            F.count_if(member & (F.col(_RULE) == rule)).alias(f"{i}:{rule}")
            for i, member in enumerate(members)
            for rule in DROP_RULES
        ),
    )
    rows = cleaned(counted).observe(
        leaving, F.lit(1).alias("-"), *(F.count_if(member).alias(f"{i}") for i, member in enumerate(members))
    )

    @cache
    def counts() -> GroupCounts:
        before, after = _metrics(arriving), _metrics(leaving)
        if not before or not after:  # not written yet, or an empty input whose plan lost the observing nodes
            return _counted(tagged, by)
        result: GroupCounts = {}
        for i, group in enumerate(groups):
            rows_in = int(before[f"{i}"])
            if rows_in:
                dropped = {rule: int(before[f"{i}:{rule}"]) for rule in DROP_RULES}
                dropped[DUPLICATE_RULE] = rows_in - sum(dropped.values()) - int(after[f"{i}"])
                result[group] = (rows_in, dropped)
        return result

    return Cleaning(rows, counts)


def _metrics(observation: Observation, wait_seconds: float = 10.0) -> dict[str, Any]:
    """The observed metrics of the first query that computed them; {} when none did (yet). Spark Connect returns
    them with the query's result; a classic session hears of them from its listener bus, shortly after the query
    (its `get` would wait for ever for a query that never ran, so its Java future is polled; a query that ran
    without the observing step completes it with an empty row)."""
    java = getattr(observation, "_jo", None)
    if java is not None:
        deadline = time.monotonic() + wait_seconds
        while not java.future().isCompleted():
            if time.monotonic() > deadline:
                return {}
            time.sleep(0.02)
        if java.getRow().length() == 0:  # the query ran without the observing step
            return {}
    return dict(observation.get)
