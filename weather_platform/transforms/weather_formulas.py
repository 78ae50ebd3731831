"""Scalar reference implementations of the derived weather quantities.

These plain-Python functions are the readable definition of each formula and what the unit tests check
against published NWS values. `silver.py` evaluates the same formulas as vectorised Spark columns from the
constants below, and an integration test holds the two to 1e-9 of each other. Inputs and outputs are metric
(°C, %, m/s), as in the observation contract.
"""

import math

# NWS heat index: https://www.wpc.ncep.noaa.gov/html/heatindex_equation.shtml (all in °F and % RH).
ROTHFUSZ_COEFFICIENTS = (
    -42.379,  # constant
    2.04901523,  # T
    10.14333127,  # RH
    -0.22475541,  # T*RH
    -0.00683783,  # T*T
    -0.05481717,  # RH*RH
    0.00122874,  # T*T*RH
    0.00085282,  # T*RH*RH
    -0.00000199,  # T*T*RH*RH
)
HEAT_INDEX_REGRESSION_THRESHOLD_F = 80.0

# Magnus formula with the Alduchov & Eskridge (1996) constants for saturation over water.
MAGNUS_A = 17.625
MAGNUS_B_C = 243.04

# NWS wind chill (2001): https://www.weather.gov/safety/wind-chill (°F and mph).
WIND_CHILL_MAX_TEMP_F = 50.0
WIND_CHILL_MIN_WIND_MPH = 3.0
MS_PER_MPH = 0.44704  # exact by definition of the international mile


def c_to_f(temp_c: float) -> float:
    return temp_c * 9.0 / 5.0 + 32.0


def f_to_c(temp_f: float) -> float:
    return (temp_f - 32.0) * 5.0 / 9.0


def heat_index_c(temp_c: float | None, rh: float | None) -> float | None:
    """Heat index in °C, computed in °F exactly as on the NWS heat index equation page.

    Steadman's simple formula (which already averages its estimate with T) comes first; only when that
    value is >= 80 °F is the Rothfusz regression used, with the low-humidity adjustment subtracted
    (RH < 13 %, 80 to 112 °F) or the high-humidity one added (RH > 85 %, 80 to 87 °F).
    None when an input is missing.
    """
    if temp_c is None or rh is None:
        return None
    t = c_to_f(temp_c)
    simple = 0.5 * (t + 61.0 + (t - 68.0) * 1.2 + rh * 0.094)
    if simple < HEAT_INDEX_REGRESSION_THRESHOLD_F:
        return f_to_c(simple)
    c = ROTHFUSZ_COEFFICIENTS
    hi = (
        c[0]
        + c[1] * t
        + c[2] * rh
        + c[3] * t * rh
        + c[4] * t * t
        + c[5] * rh * rh
        + c[6] * t * t * rh
        + c[7] * t * rh * rh
        + c[8] * t * t * rh * rh
    )
    if rh < 13.0 and 80.0 <= t <= 112.0:
        hi -= (13.0 - rh) / 4.0 * math.sqrt((17.0 - abs(t - 95.0)) / 17.0)
    elif rh > 85.0 and 80.0 <= t <= 87.0:
        hi += (rh - 85.0) / 10.0 * ((87.0 - t) / 5.0)
    return f_to_c(hi)


def dew_point_c(temp_c: float | None, rh: float | None) -> float | None:
    """Dew point in °C by the Magnus formula with the Alduchov-Eskridge constants (a = 17.625, b = 243.04 °C).

    Within 0.1 °C of the Hyland-Wexler (ASHRAE) saturation pressure for dew points down to about -40 °C.
    None when an input is missing or RH <= 0 (the logarithm is undefined: bone-dry air has no dew point).
    """
    if temp_c is None or rh is None or rh <= 0.0:
        return None
    gamma = math.log(rh / 100.0) + MAGNUS_A * temp_c / (MAGNUS_B_C + temp_c)
    return MAGNUS_B_C * gamma / (MAGNUS_A - gamma)


def wind_chill_c(temp_c: float | None, wind_speed_ms: float | None) -> float | None:
    """NWS 2001 wind chill in °C, computed in °F and mph.

    Defined only for T <= 50 °F and wind > 3 mph; None elsewhere, where the formula is not valid (it would
    report a wind chill warmer than the air).
    """
    if temp_c is None or wind_speed_ms is None:
        return None
    t = c_to_f(temp_c)
    v = wind_speed_ms / MS_PER_MPH
    if t > WIND_CHILL_MAX_TEMP_F or v <= WIND_CHILL_MIN_WIND_MPH:
        return None
    v16 = v**0.16
    return f_to_c(35.74 + 0.6215 * t - 35.75 * v16 + 0.4275 * t * v16)
