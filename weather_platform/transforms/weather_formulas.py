"""Derived weather quantities as native Spark column expressions, following MetPy 1.7's definitions.

MetPy (`metpy.calc`) is the field's reference library; these are its formulas written with built-in Spark
functions (no Python UDF, so they run inside the JVM at full speed). An integration test holds them to MetPy 1.7
itself, within 0.01 °C over 10,000+ random (temperature, humidity, wind) triples and every branch boundary.
Inputs and outputs are metric as in the observation contract: °C, relative humidity in %, wind in m/s. Where
MetPy leaves a quantity undefined (masked), the column is null: a heat index is never reported in the cold, nor a
wind chill in the heat.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# --- Heat index: metpy.calc.heat_index (Rothfusz 1990 regression with the NWS operational steps), in °F ---------
# Defined only at T >= 80 °F (MetPy's mask_undefined); at or below 40 °F it is T, below 79 °F for the simple
# estimate it is that estimate, else the regression; the low- and high-humidity adjustments follow.
HEAT_INDEX_MIN_TEMP_F = 80.0
HEAT_INDEX_IS_TEMP_BELOW_F = 40.0
HEAT_INDEX_SIMPLE_BELOW_F = 79.0
ROTHFUSZ_COEFFICIENTS = (  # for RH as a fraction of 1, as MetPy writes them
    -42.379,  # constant
    2.04901523,  # T
    1014.333127,  # RH
    -22.475541,  # T*RH
    -6.83783e-3,  # T*T
    -5.481717e2,  # RH*RH
    1.22874e-1,  # T*T*RH
    8.5282,  # T*RH*RH
    -1.99e-2,  # T*T*RH*RH
)

# --- Wind chill: metpy.calc.windchill (FCM-R19-2003 / NWS 2001, metric form, wind at 10 m in km/h) ---------------
WIND_CHILL_MAX_TEMP_C = 10.0  # defined at T <= 10 °C (50 °F) ...
MS_PER_MPH = 0.44704  # exact, by the definition of the international mile
WIND_CHILL_MIN_WIND_MS = 3 * MS_PER_MPH  # ... and wind above 3 mph (1.34112 m/s)
KMH_PER_MS = 3.6

# --- Dew point: metpy.calc.dewpoint_from_relative_humidity ---------------------------------------------------
# e = RH * e_s(T), with e_s over liquid water by Ambaum (2020) eq. 13 and MetPy's constants; the dew point is then
# Bolton's (1980) inversion, T_d = 243.5 ln(e / 6.112 hPa) / (17.67 - ln(e / 6.112 hPa)).
MOLAR_GAS_CONSTANT = 8.314462618  # J/(mol K)
WATER_MOLAR_MASS = 18.015268e-3  # kg/mol
RV = MOLAR_GAS_CONSTANT / WATER_MOLAR_MASS  # J/(kg K), water vapour gas constant
CP_VAPOUR = 1.330 * RV / (1.330 - 1)  # J/(kg K), from the specific heat ratio of water vapour
CP_LIQUID = 4219.4  # J/(kg K)
LATENT_HEAT_VAPORIZATION = 2.50084e6  # J/kg at the triple point
TRIPLE_POINT_K = 273.16
ZERO_C_K = 273.15
SAT_PRESSURE_0C_HPA = 6.112
BOLTON_A = 17.67
BOLTON_B_C = 243.5


def c_to_f(temp_c: Column) -> Column:
    return temp_c * 9.0 / 5.0 + 32.0


def f_to_c(temp_f: Column) -> Column:
    return (temp_f - 32.0) * 5.0 / 9.0


def heat_index_col(temp_c: Column, rh_pct: Column) -> Column:
    """Heat index in °C (MetPy `heat_index`, mask_undefined): null below 80 °F or with an input missing."""
    t = c_to_f(temp_c)
    rh = rh_pct / 100.0
    simple = -10.3 + 1.1 * t + 4.7 * rh
    c = ROTHFUSZ_COEFFICIENTS
    regression = (
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
    base = (
        F.when(t <= HEAT_INDEX_IS_TEMP_BELOW_F, t)
        .when(simple < HEAT_INDEX_SIMPLE_BELOW_F, simple)
        .otherwise(regression)
    )
    dry = (rh_pct <= 13.0) & t.between(80.0, 112.0)
    humid = (rh_pct > 85.0) & t.between(80.0, 87.0)
    low_rh = F.when(dry, (13.0 - rh_pct) / 4.0 * F.sqrt((17.0 - F.abs(t - 95.0)) / 17.0)).otherwise(0.0)
    high_rh = F.when(humid, 0.02 * (rh_pct - 85.0) * (87.0 - t)).otherwise(0.0)
    return F.when((t >= HEAT_INDEX_MIN_TEMP_F) & rh_pct.isNotNull(), f_to_c(base - low_rh + high_rh))


def wind_chill_defined(temp_c: Column, wind_speed_ms: Column) -> Column:
    """Where MetPy's wind chill is defined: T <= 10 °C and wind > 3 mph (false when an input is missing)."""
    return F.coalesce((temp_c <= WIND_CHILL_MAX_TEMP_C) & (wind_speed_ms > WIND_CHILL_MIN_WIND_MS), F.lit(False))


def wind_chill_col(temp_c: Column, wind_speed_ms: Column) -> Column:
    """Wind chill temperature index in °C (MetPy `windchill`, mask_undefined); null where it is not defined."""
    speed_factor = F.pow(wind_speed_ms * KMH_PER_MS, 0.16)
    index = (0.6215 + 0.3965 * speed_factor) * temp_c - 11.37 * speed_factor + 13.12
    return F.when(wind_chill_defined(temp_c, wind_speed_ms), index)


def dew_point_col(temp_c: Column, rh_pct: Column) -> Column:
    """Dew point in °C (MetPy `dewpoint_from_relative_humidity`); null at RH <= 0 % (no dew point exists)."""
    temp_k = temp_c + ZERO_C_K
    latent_heat = LATENT_HEAT_VAPORIZATION - (CP_LIQUID - CP_VAPOUR) * (temp_k - TRIPLE_POINT_K)
    saturation_hpa = (
        SAT_PRESSURE_0C_HPA
        * F.pow(TRIPLE_POINT_K / temp_k, (CP_LIQUID - CP_VAPOUR) / RV)
        * F.exp((LATENT_HEAT_VAPORIZATION / TRIPLE_POINT_K - latent_heat / temp_k) / RV)
    )
    val = F.log(rh_pct / 100.0 * saturation_hpa / SAT_PRESSURE_0C_HPA)
    return F.when(rh_pct > 0.0, BOLTON_B_C * val / (BOLTON_A - val))


def apparent_temperature_col(temp_c: Column, rh_pct: Column, wind_speed_ms: Column) -> Column:
    """Feels-like temperature in °C (MetPy `apparent_temperature`, mask_undefined=False).

    The wind chill where it is defined, else the heat index where it is defined (T >= 80 °F), else the air
    temperature. Null only when the inputs leave it unknown: humidity missing in the heat, wind missing in the
    cold.
    """
    t_f = c_to_f(temp_c)
    return (
        F.when(wind_chill_defined(temp_c, wind_speed_ms), wind_chill_col(temp_c, wind_speed_ms))
        .when(t_f >= HEAT_INDEX_MIN_TEMP_F, heat_index_col(temp_c, rh_pct))
        .when((temp_c <= WIND_CHILL_MAX_TEMP_C) & wind_speed_ms.isNull(), F.lit(None).cast("double"))
        .otherwise(temp_c)
    )
