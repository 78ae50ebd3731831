"""Spark session settings derived from the platform's settings."""

from weather_platform.lake.spark_config import spark_conf
from weather_platform.settings import Settings


def test_sparks_own_ui_is_off_unless_a_port_is_set() -> None:
    """Spark's UI would otherwise take port 4040 (or the next free one) whatever the stack's ports are."""
    assert spark_conf(Settings())["spark.ui.enabled"] == "false"
    chosen = spark_conf(Settings(spark_ui_port=4999))
    assert (chosen["spark.ui.enabled"], chosen["spark.ui.port"]) == ("true", "4999")
