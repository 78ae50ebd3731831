"""The silver weather formulas (native Spark) against MetPy 1.7, the field's reference, and against NWS charts.

MetPy is evaluated on the same inputs in NumPy; the Spark expressions must agree within 0.01 °C wherever MetPy
defines a value, and be null exactly where MetPy masks it (or cannot define it). Independent references check
MetPy's definitions too: the NWS heat index and wind chill charts, and the Hyland-Wexler saturation pressure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
from metpy.calc import apparent_temperature, dewpoint_from_relative_humidity, heat_index, windchill
from metpy.units import units
from pyspark.sql import functions as F

from weather_platform.transforms.weather_formulas import (
    MS_PER_MPH,
    apparent_temperature_col,
    dew_point_col,
    heat_index_col,
    wind_chill_col,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TOLERANCE_C = 0.01
RANDOM_TRIPLES = 12_000
# The valid range of silver (temperature -100...60 °C, humidity 0...100 %) and any wind a station reports.
TEMP_RANGE, RH_RANGE, WIND_RANGE = (-100.0, 60.0), (0.0, 100.0), (0.0, 60.0)


def _f_to_c(temp_f: float) -> float:
    return (temp_f - 32.0) * 5.0 / 9.0


def _inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random triples over the whole valid range, then every branch boundary of the formulas and a hair either side."""
    rng = np.random.default_rng(20261206)
    temps = list(rng.uniform(*TEMP_RANGE, RANDOM_TRIPLES))
    rhs = list(rng.uniform(*RH_RANGE, RANDOM_TRIPLES))
    winds = list(rng.uniform(*WIND_RANGE, RANDOM_TRIPLES))
    edge_temps = [_f_to_c(f) + eps for f in (40.0, 79.0, 80.0, 87.0, 95.0, 112.0) for eps in (-1e-6, 1e-6)]
    edge_temps += [10.0 - 1e-6, 10.0 + 1e-6, -100.0, 60.0]
    edge_rhs = [0.5, 12.999, 13.001, 84.999, 85.001, 100.0]
    edge_winds = [0.0, 3 * MS_PER_MPH - 1e-6, 3 * MS_PER_MPH + 1e-6, 5.0]
    for t in edge_temps:
        for rh in edge_rhs:
            for w in edge_winds:
                temps.append(t)
                rhs.append(rh)
                winds.append(w)
    return np.array(temps), np.array(rhs), np.array(winds)


def _metpy(temps: np.ndarray, rhs: np.ndarray, winds: np.ndarray) -> dict[str, np.ndarray]:
    """MetPy's values in °C, NaN where it masks them or cannot define them."""
    t = units.Quantity(temps, "degC")
    rh = units.Quantity(rhs / 100.0, "dimensionless")
    speed = units.Quantity(winds, "m/s")

    def filled(values: object) -> np.ndarray:
        magnitude = values.to("degC").magnitude  # type: ignore[attr-defined]
        return np.ma.filled(np.ma.masked_invalid(np.ma.asarray(magnitude, dtype=float)), np.nan)

    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "hi": filled(heat_index(t, rh, mask_undefined=True)),
            "wc": filled(windchill(t, speed, mask_undefined=True)),
            "dp": filled(dewpoint_from_relative_humidity(t, rh)),
            "at": filled(apparent_temperature(t, rh, speed, mask_undefined=False)),
        }


@pytest.fixture(scope="module")
def compared(spark_local: SparkSession) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    temps, rhs, winds = _inputs()
    df = spark_local.createDataFrame(
        [(i, float(a), float(b), float(c)) for i, (a, b, c) in enumerate(zip(temps, rhs, winds, strict=True))],
        "i long, t double, rh double, w double",
    )
    t, rh, w = F.col("t"), F.col("rh"), F.col("w")
    rows = (
        df.select(
            "i",
            heat_index_col(t, rh).alias("hi"),
            wind_chill_col(t, w).alias("wc"),
            dew_point_col(t, rh).alias("dp"),
            apparent_temperature_col(t, rh, w).alias("at"),
        )
        .orderBy("i")
        .collect()
    )
    spark_values = {k: np.array([np.nan if r[k] is None else r[k] for r in rows]) for k in ("hi", "wc", "dp", "at")}
    return spark_values, _metpy(temps, rhs, winds), temps


@pytest.mark.parametrize("quantity", ["hi", "wc", "dp", "at"])
def test_spark_formulas_agree_with_metpy(
    compared: tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray], quantity: str
) -> None:
    spark_values, metpy_values, _ = compared
    ours, reference = spark_values[quantity], metpy_values[quantity]
    assert len(ours) >= 10_000
    assert np.array_equal(np.isnan(ours), np.isnan(reference)), "defined exactly where MetPy defines it"
    defined = ~np.isnan(reference)
    assert defined.sum() > 100
    assert float(np.max(np.abs(ours[defined] - reference[defined]))) <= TOLERANCE_C


def test_heat_index_is_never_reported_where_metpy_leaves_it_undefined(
    compared: tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray],
) -> None:
    spark_values, _, temps = compared
    cool = temps < _f_to_c(80.0)
    assert cool.sum() > 1000
    assert np.isnan(spark_values["hi"][cool]).all()
    # Feels-like is defined everywhere the inputs are known, and equals the air temperature when neither applies.
    neither = np.isnan(spark_values["hi"]) & np.isnan(spark_values["wc"])
    assert np.allclose(spark_values["at"][neither], temps[neither], atol=0.0)


def test_missing_inputs_give_null_not_a_guess(spark_local: SparkSession) -> None:
    rows = spark_local.createDataFrame(
        [(30.0, None, 2.0), (-5.0, 50.0, None), (15.0, 50.0, None), (None, 50.0, 2.0)],
        "t double, rh double, w double",
    )
    t, rh, w = F.col("t"), F.col("rh"), F.col("w")
    got = [
        (r["hi"], r["wc"], r["dp"], r["at"])
        for r in rows.select(
            heat_index_col(t, rh).alias("hi"),
            wind_chill_col(t, w).alias("wc"),
            dew_point_col(t, rh).alias("dp"),
            apparent_temperature_col(t, rh, w).alias("at"),
        ).collect()
    ]
    assert got[0] == (None, None, None, None)  # in the heat without humidity: no heat index, no feels-like
    assert got[1][1] is None and got[1][3] is None  # in the cold without wind: no wind chill, no feels-like
    assert got[2][3] == 15.0  # mild: feels like the air, whatever the wind
    assert got[3] == (None, None, None, None)


# NWS heat index chart (https://www.weather.gov/safety/heat-index): (T °F, RH %, chart °F). MetPy follows the
# operational NWS algorithm, so its value rounds to the chart entry or, where chart and regression differ by
# rounding, to a neighbour.
HEAT_INDEX_CHART = [
    (80, 40, 80), (82, 60, 84), (84, 70, 90), (86, 50, 88), (86, 85, 102), (88, 65, 98), (88, 95, 117),
    (90, 60, 100), (90, 90, 122), (92, 55, 101), (94, 75, 124), (96, 40, 101), (98, 65, 128), (100, 50, 118),
    (104, 45, 124), (108, 40, 130), (110, 40, 136),
]  # fmt: skip
# NWS wind chill chart, effective 11/01/2001 (https://www.weather.gov/safety/wind-chill-chart): (T °F, mph, °F).
WIND_CHILL_CHART = [
    (40, 5, 36), (40, 60, 25), (35, 50, 19), (30, 15, 19), (25, 55, 4), (20, 30, 1), (15, 35, -7), (10, 10, -4),
    (5, 20, -15), (0, 20, -22), (-5, 25, -31), (-10, 15, -32), (-20, 40, -57), (-30, 5, -46), (-40, 60, -91),
    (-45, 45, -93),
]  # fmt: skip


def test_heat_index_and_wind_chill_match_the_nws_charts(spark_local: SparkSession) -> None:
    heat = spark_local.createDataFrame(
        [(_f_to_c(t), float(rh)) for t, rh, _ in HEAT_INDEX_CHART], "t double, rh double"
    )
    hi_f = [r[0] * 9 / 5 + 32 for r in heat.select(heat_index_col(F.col("t"), F.col("rh"))).collect()]
    assert [abs(got - chart) <= 1.0 for got, (_, _, chart) in zip(hi_f, HEAT_INDEX_CHART, strict=True)] == [True] * len(
        HEAT_INDEX_CHART
    )
    cold = spark_local.createDataFrame(
        [(_f_to_c(t), mph * MS_PER_MPH) for t, mph, _ in WIND_CHILL_CHART], "t double, w double"
    )
    wc_f = [round(r[0] * 9 / 5 + 32) for r in cold.select(wind_chill_col(F.col("t"), F.col("w"))).collect()]
    assert wc_f == [chart for _, _, chart in WIND_CHILL_CHART]


def _hyland_wexler_pa(temp_c: float) -> float:
    """Hyland-Wexler (1983) saturation vapour pressure over liquid water, ASHRAE Fundamentals eq. (6)."""
    t = temp_c + 273.15
    return math.exp(
        -5.8002206e3 / t
        + 1.3914993
        - 4.8640239e-2 * t
        + 4.1764768e-5 * t**2
        - 1.4452093e-8 * t**3
        + 6.5459673 * math.log(t)
    )


def _reference_dew_point_c(temp_c: float, rh: float) -> float:
    """The temperature whose saturation pressure is the actual vapour pressure, by bisection."""
    target = _hyland_wexler_pa(temp_c) * rh / 100.0
    low, high = -120.0, temp_c
    for _ in range(100):
        mid = (low + high) / 2.0
        low, high = (mid, high) if _hyland_wexler_pa(mid) < target else (low, mid)
    return (low + high) / 2.0


DEW_POINT_CASES = [
    (-20, 80), (-10, 60), (0, 50), (5, 90), (10, 80), (15, 40), (20, 50), (25, 60), (30, 50), (35, 30),
    (40, 20), (45, 70), (30, 100), (-25, 30),
]  # fmt: skip


def test_dew_point_matches_an_independent_saturation_pressure(spark_local: SparkSession) -> None:
    """MetPy's dew point against Hyland-Wexler (ASHRAE), within 0.15 °C.

    MetPy pairs Ambaum's (2020) saturation pressure with Bolton's (1980) inversion, so its dew point drifts from an
    exact inversion as it rises: 0.02 °C near 0 °C, 0.05 °C at 30 °C, 0.11 °C at a 38 °C dew point.
    """
    assert _hyland_wexler_pa(20.0) == pytest.approx(2339.2, abs=0.5)  # ASHRAE Fundamentals table 3
    df = spark_local.createDataFrame([(float(t), float(rh)) for t, rh in DEW_POINT_CASES], "t double, rh double")
    got = [r[0] for r in df.select(dew_point_col(F.col("t"), F.col("rh"))).collect()]
    expected = [_reference_dew_point_c(t, rh) for t, rh in DEW_POINT_CASES]
    assert [abs(a - b) <= 0.15 for a, b in zip(got, expected, strict=True)] == [True] * len(DEW_POINT_CASES)
    saturated = df.sparkSession.createDataFrame([(17.3, 100.0)], "t double, rh double")
    assert saturated.select(dew_point_col(F.col("t"), F.col("rh"))).first()[0] == pytest.approx(17.3, abs=0.05)  # type: ignore[index]
