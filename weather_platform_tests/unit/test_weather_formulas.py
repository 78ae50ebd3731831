"""Heat index, dew point and wind chill against published reference values.

Sources:
- NWS heat index chart (https://www.weather.gov/safety/heat-index), °F and % RH, and the NWS heat index
  equation page (https://www.wpc.ncep.noaa.gov/html/heatindex_equation.shtml).
- NWS wind chill chart, effective 11/01/2001 (https://www.weather.gov/safety/wind-chill-chart), °F and mph.
- Dew point: the Hyland-Wexler (1983) saturation vapour pressure over water, as tabulated in the ASHRAE
  Handbook - Fundamentals (ch. 1), inverted numerically here; a functional form independent of Magnus.

The charts are rounded to whole °F (0.28 °C steps), coarser than the 0.1 °C acceptance. So each chart point
is checked twice: the result rounds to the chart entry, and it lies within 0.1 °C of the published equation
evaluated in °F without rounding (the "unrounded" column, which itself rounds to the chart entry).
"""

import math

import pytest

from weather_platform.transforms.weather_formulas import (
    c_to_f,
    dew_point_c,
    f_to_c,
    heat_index_c,
    wind_chill_c,
)

TOLERANCE_C = 0.1
MPH = 0.44704  # m/s

# (T °F, RH %, NWS chart °F, NWS equation unrounded °F). The first two lie in the simple-formula branch
# (0.5 * (T + 61 + (T - 68) * 1.2 + RH * 0.094) < 80 °F, e.g. 0.5 * (80 + 61 + 14.4 + 3.76) = 79.58), the
# others in the Rothfusz branch without adjustment. Omitted: 90 °F/45 % and 90 °F/70 %, where chart and
# regression differ by more than rounding, and 80-86 °F above 85 % RH, where the chart shows the regression
# without the high-humidity adjustment.
HEAT_INDEX_CHART = [
    (80, 40, 80, 79.580),
    (80, 45, 80, 79.815),
    (82, 60, 84, 84.429),
    (84, 70, 90, 90.475),
    (86, 50, 88, 87.888),
    (86, 85, 102, 102.452),
    (88, 65, 98, 97.563),
    (88, 95, 117, 117.107),
    (90, 60, 100, 99.678),
    (90, 90, 122, 121.901),
    (92, 55, 101, 101.446),
    (94, 75, 124, 123.994),
    (96, 40, 101, 100.886),
    (98, 65, 128, 128.191),
    (100, 50, 118, 118.316),
    (104, 45, 124, 124.421),
    (108, 40, 130, 129.751),
    (110, 40, 136, 135.657),
]

# Adjustment branches, outside the chart: (T °F, RH %, Rothfusz regression °F, adjustment °F), the adjustment
# worked by hand from the equation page. Low humidity, subtracted: (13 - RH) / 4 * sqrt((17 - |T - 95|) / 17).
# High humidity, added: (RH - 85) / 10 * (87 - T) / 5.
HEAT_INDEX_ADJUSTED = [
    (95, 5, 90.177, -2.0),  # 8/4 * sqrt(17/17)
    (100, 10, 94.753, -0.6301),  # 3/4 * sqrt(12/17)
    (85, 12, 81.860, -0.1604),  # 1/4 * sqrt(7/17)
    (110, 8, 103.533, -0.4287),  # 5/4 * sqrt(2/17)
    (80, 90, 85.642, 0.7),  # 0.5 * 1.4
    (80, 100, 87.188, 2.1),  # 1.5 * 1.4
    (82, 95, 92.972, 1.0),  # 1.0 * 1.0
    (84, 95, 100.282, 0.6),  # 1.0 * 0.6
    (86, 100, 111.550, 0.3),  # 1.5 * 0.2
]

# Simple branch below the chart, by hand: 0.5 * (T + 61 + (T - 68) * 1.2 + RH * 0.094).
HEAT_INDEX_SIMPLE = [
    (70, 50, 69.05),  # 0.5 * (70 + 61 + 2.4 + 4.7)
    (75, 60, 75.02),  # 0.5 * (75 + 61 + 8.4 + 5.64)
    (60, 80, 59.46),  # 0.5 * (60 + 61 - 9.6 + 7.52)
    (81, 5, 79.035),  # RH < 13 % and 80-112 °F, but below 80 °F by the simple formula: no adjustment
]

# (T °F, wind mph, NWS chart °F, NWS equation unrounded °F).
WIND_CHILL_CHART = [
    (40, 5, 36, 36.472),
    (40, 60, 25, 24.693),
    (35, 50, 19, 18.620),
    (30, 15, 19, 19.027),
    (25, 55, 4, 3.691),
    (20, 30, 1, 1.299),
    (15, 35, -7, -6.755),
    (10, 10, -4, -3.540),
    (5, 20, -15, -15.436),
    (0, 20, -22, -21.995),
    (-5, 25, -31, -30.779),
    (-10, 15, -32, -32.206),
    (-20, 40, -57, -56.624),
    (-30, 5, -46, -45.747),
    (-40, 60, -91, -90.873),
    (-45, 45, -93, -93.334),
]


def heat_index_f(temp_f: float, rh: float) -> float:
    result = heat_index_c(f_to_c(temp_f), rh)
    assert result is not None
    return c_to_f(result)


@pytest.mark.parametrize(("temp_f", "rh", "chart_f", "unrounded_f"), HEAT_INDEX_CHART)
def test_heat_index_matches_nws_chart(temp_f: float, rh: float, chart_f: int, unrounded_f: float) -> None:
    assert round(heat_index_f(temp_f, rh)) == chart_f
    assert heat_index_c(f_to_c(temp_f), rh) == pytest.approx(f_to_c(unrounded_f), abs=TOLERANCE_C)


@pytest.mark.parametrize(("temp_f", "rh", "regression_f", "adjustment_f"), HEAT_INDEX_ADJUSTED)
def test_heat_index_applies_nws_adjustments(temp_f: float, rh: float, regression_f: float, adjustment_f: float) -> None:
    expected_c = f_to_c(regression_f + adjustment_f)
    assert heat_index_c(f_to_c(temp_f), rh) == pytest.approx(expected_c, abs=TOLERANCE_C)
    # The adjustment itself is resolved far below the tolerance, so the branch was really taken.
    assert heat_index_f(temp_f, rh) - regression_f == pytest.approx(adjustment_f, abs=0.002)


@pytest.mark.parametrize(("temp_f", "rh", "expected_f"), HEAT_INDEX_SIMPLE)
def test_heat_index_simple_formula_below_80f(temp_f: float, rh: float, expected_f: float) -> None:
    assert heat_index_f(temp_f, rh) == pytest.approx(expected_f, abs=1e-9)


def test_heat_index_in_celsius_and_missing_inputs() -> None:
    # 90 °F = 32.2 °C at 60 % reads 100 °F on the chart: 37.6 °C.
    assert heat_index_c(32.2222, 60) == pytest.approx(37.6, abs=0.1)
    assert heat_index_c(None, 50) is None
    assert heat_index_c(30.0, None) is None


@pytest.mark.parametrize(("temp_f", "wind_mph", "chart_f", "unrounded_f"), WIND_CHILL_CHART)
def test_wind_chill_matches_nws_chart(temp_f: float, wind_mph: float, chart_f: int, unrounded_f: float) -> None:
    result = wind_chill_c(f_to_c(temp_f), wind_mph * MPH)
    assert result is not None
    assert round(c_to_f(result)) == chart_f
    assert result == pytest.approx(f_to_c(unrounded_f), abs=TOLERANCE_C)


def test_wind_chill_only_where_nws_defines_it() -> None:
    assert wind_chill_c(10.0, 10 * MPH) is not None  # 10 °C = 50 °F: T <= 50 °F is inside
    assert wind_chill_c(10.3, 10 * MPH) is None  # 50.54 °F
    assert wind_chill_c(-5.0, 1.4) is not None  # 3.13 mph
    assert wind_chill_c(-5.0, 1.3) is None  # 2.91 mph: the wind must exceed 3 mph
    assert wind_chill_c(-5.0, 0.0) is None
    assert wind_chill_c(None, 5.0) is None
    assert wind_chill_c(-5.0, None) is None


def _saturation_pressure_pa(temp_c: float) -> float:
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
    target = _saturation_pressure_pa(temp_c) * rh / 100.0
    low, high = -120.0, temp_c
    for _ in range(100):
        mid = (low + high) / 2.0
        low, high = (mid, high) if _saturation_pressure_pa(mid) < target else (low, mid)
    return (low + high) / 2.0


def test_hyland_wexler_reproduces_the_ashrae_table() -> None:
    # ASHRAE Fundamentals table 3: 0.6112 kPa at 0 °C, 2.3392 kPa at 20 °C, 101.42 kPa at 100 °C.
    assert _saturation_pressure_pa(0.0) == pytest.approx(611.2, abs=0.1)
    assert _saturation_pressure_pa(20.0) == pytest.approx(2339.2, abs=0.5)
    assert _saturation_pressure_pa(100.0) == pytest.approx(101418, abs=5)


@pytest.mark.parametrize(
    ("temp_c", "rh"),
    [(-20, 80), (-10, 60), (0, 50), (5, 90), (10, 80), (15, 40), (20, 50), (25, 60), (30, 50), (35, 30),
     (40, 20), (45, 70), (30, 100), (-25, 30)],
)  # fmt: skip
def test_dew_point_matches_hyland_wexler(temp_c: float, rh: float) -> None:
    assert dew_point_c(temp_c, rh) == pytest.approx(_reference_dew_point_c(temp_c, rh), abs=TOLERANCE_C)


def test_dew_point_identities_and_missing_inputs() -> None:
    assert dew_point_c(17.3, 100.0) == pytest.approx(17.3, abs=1e-12)  # saturated air: dew point = T
    # Magnus by hand at 20 °C, 50 %: gamma = ln(0.5) + 17.625 * 20 / 263.04 = -0.6931472 + 1.3401003,
    # dew point = 243.04 * gamma / (17.625 - gamma) = 157.2355 / 16.9780 = 9.2611 °C.
    assert dew_point_c(20.0, 50.0) == pytest.approx(9.2611, abs=1e-4)
    assert dew_point_c(20.0, 0.0) is None
    assert dew_point_c(None, 50.0) is None
    assert dew_point_c(20.0, None) is None
