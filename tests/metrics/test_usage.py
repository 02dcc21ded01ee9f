"""Usage and cost: exact decimals, the free tier, prices from settings, per function and per day."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.models import ACCOUNT, UsageDay
from metrics.selectors import usage_month
from metrics.services import metrics_record_run

pytestmark = pytest.mark.django_db


def test_a_month_from_the_minute_rows():
    now = datetime.datetime(2030, 1, 15, 12, 0, tzinfo=datetime.UTC)  # the tests' worker writes only for the real now
    at = datetime.datetime(2030, 1, 15, 9, 30, tzinfo=datetime.UTC)
    for _ in range(3):
        metrics_record_run(function_name="small", status="succeeded", duration_ms=99.2, billed_duration_ms=100, memory_size=128, at=at)
    metrics_record_run(function_name="big", status="failed", duration_ms=999.5, billed_duration_ms=1000, memory_size=2048, at=at)
    metrics_record_run(function_name="big", status="throttled", at=at)  # not a request
    data = usage_month(now=now)
    assert data["month"] == "2030-01"
    assert data["requests"] == 4
    # 3 x 100 ms x 128 MB + 1000 ms x 2048 MB = 2,086,400 MB-ms = 2.0375 GB-s
    assert data["gb_seconds"] == "2.0375"
    assert data["free_tier"] == {"requests": 1000000, "gb_seconds": 400000}
    assert data["billable"] == {"requests": 0, "gb_seconds": "0"}
    assert data["cost_usd"] == "0"
    assert data["prices"] == {"per_million_requests": "0.2", "per_gb_second": "0.0000166667"}
    assert data["gross_cost_usd"] == str(Decimal(4) * Decimal("0.2") / 1000000 + Decimal("2.0375") * Decimal("0.0000166667"))
    assert [f["name"] for f in data["functions"]] == ["big", "small"]
    assert data["functions"][1] == {"name": "small", "requests": 3, "gb_seconds": "0.0375", "cost_usd": "0.00000122500125"}
    assert len(data["days"]) == 15 and data["days"][0]["date"] == "2030-01-01"
    assert data["days"][14] == {"date": "2030-01-15", "requests": 4, "gb_seconds": "2.0375", "cost_usd": data["gross_cost_usd"]}
    assert data["days"][13] == {"date": "2030-01-14", "requests": 0, "gb_seconds": "0", "cost_usd": "0"}


def test_this_month_through_the_api(api):
    now = timezone.now()
    metrics_record_run(function_name="usage-api-fn", status="succeeded", duration_ms=9.0, billed_duration_ms=10, memory_size=1024)
    data = api.get("/api/v1/usage/").json()
    assert data["month"] == f"{now:%Y-%m}" and data["requests"] >= 1 and len(data["days"]) == now.day
    assert {"name": "usage-api-fn", "requests": 1, "gb_seconds": "0.01", "cost_usd": "0.000000366667"} in data["functions"]
    assert set(data) == {"month", "requests", "gb_seconds", "free_tier", "billable", "cost_usd", "gross_cost_usd", "prices", "functions", "days"}


def test_an_old_month_from_daily_usage_with_the_free_tier_spent(api, settings):
    mb_ms_per_gb_s = 1024 * 1000
    UsageDay.objects.create(date=datetime.date(2025, 1, 3), function_name=ACCOUNT, requests=3_000_000, billed_mb_ms=500_000 * mb_ms_per_gb_s)
    UsageDay.objects.create(date=datetime.date(2025, 1, 3), function_name="busy", requests=3_000_000, billed_mb_ms=500_000 * mb_ms_per_gb_s)
    UsageDay.objects.create(date=datetime.date(2025, 2, 1), function_name=ACCOUNT, requests=7, billed_mb_ms=7)  # another month
    data = api.get("/api/v1/usage/", {"month": "2025-01"}).json()
    assert data["requests"] == 3_000_000 and data["gb_seconds"] == "500000"
    assert data["billable"] == {"requests": 2_000_000, "gb_seconds": "100000"}
    assert data["cost_usd"] == "2.06667"  # 2 x 0.20 + 100,000 x 0.0000166667
    assert len(data["days"]) == 31 and data["days"][2]["requests"] == 3_000_000 and data["days"][3]["requests"] == 0
    assert data["functions"] == [{"name": "busy", "requests": 3_000_000, "gb_seconds": "500000", "cost_usd": "8.93335"}]
    settings.KILN_PRICE_PER_MILLION_REQUESTS = Decimal("0.25")
    settings.KILN_PRICE_PER_GB_SECOND = Decimal("0.0000133334")
    data = api.get("/api/v1/usage/", {"month": "2025-01"}).json()
    assert data["prices"] == {"per_million_requests": "0.25", "per_gb_second": "0.0000133334"}
    assert data["cost_usd"] == "1.83334"  # 2 x 0.25 + 100,000 x 0.0000133334


def test_month_partly_kept_as_minutes_and_partly_as_days():
    now = datetime.datetime(2031, 12, 31, 12, 0, tzinfo=datetime.UTC)  # years from the tests' worker's writes
    UsageDay.objects.create(date=datetime.date(2031, 11, 30), function_name=ACCOUNT, requests=5, billed_mb_ms=0)
    metrics_record_run(function_name="f", status="succeeded", duration_ms=1.0, billed_duration_ms=1, memory_size=128, at=datetime.datetime(2031, 11, 30, 9, 0, tzinfo=datetime.UTC))
    metrics_record_run(function_name="f", status="succeeded", duration_ms=1.0, billed_duration_ms=1, memory_size=128, at=datetime.datetime(2031, 12, 2, 9, 0, tzinfo=datetime.UTC))
    assert usage_month(month="2031-11", now=now)["requests"] == 5  # Nov 30 is before the kept minutes: its day row counts
    assert usage_month(month="2031-12", now=now)["requests"] == 1


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "now", "1969-12"])
def test_bad_month_is_400(api, month):
    response = api.get("/api/v1/usage/", {"month": month})
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == "month"
