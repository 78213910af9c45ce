from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtwin.timeparse import format_duration, parse_duration_s, parse_instant


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15min", 900),
        ("1d", 86400),
        ("365d", 31_536_000),
        ("1h30min", 5400),
        ("90s", 90),
        ("900", 900),
        (600, 600),
        ("1w", 604800),
        ("0.5h", 1800),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["15 minutes", "", "abc", "1x", "-5min", "0.3s", True])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration_s(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_format_parse_roundtrip(seconds):
    assert parse_duration_s(format_duration(seconds)) == seconds


def test_parse_instant_needs_zone():
    assert parse_instant("2016-01-01T00:00:00+01:00").utcoffset() == timedelta(hours=1)
    assert parse_instant("2016-01-01T00:00:00Z").utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="time zone"):
        parse_instant("2016-01-01T00:00:00")
