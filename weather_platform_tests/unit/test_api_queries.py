"""The API's query layer without a database: what it refuses before any SQL runs."""

import pytest

from weather_platform.api.queries import BadQuery, decode_cursor, encode_cursor


def test_a_forged_api_cursor_is_refused_before_it_reaches_postgresql() -> None:
    """A cursor is base64 JSON of the last row's key; one whose time is not a time, or holds NUL, is a 422."""
    assert decode_cursor(encode_cursor(["2026-03-14T06:00:00+00:00", "London", "GB"]))[1] == "London"
    for forged in (["not-a-time", "London", "GB"], ["2026-03-14", "Lon\x00don", "GB"], ["2026-03-14", "x"]):
        with pytest.raises(BadQuery) as refused:
            decode_cursor(encode_cursor(forged))
        assert refused.value.parameter == "cursor"
