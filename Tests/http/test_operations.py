"""/health, /api/metrics/*, and the JSON error contract, through nginx (APPVIEW_URL)."""
import gzip
import json
import time

import pytest
import requests

from appview_env import psql, required_env


def url(path):
    return required_env("APPVIEW_URL").rstrip("/") + path


def test_health_reports_database_schema_pool_and_uptime():
    response = requests.get(url("/health"), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    health = response.json()
    assert health["status"] == "ok"
    assert health["database"]["reachable"] is True
    assert 0 <= health["database"]["latencyMs"] < 2000
    applied = int(psql("SELECT max(version) FROM schema_migrations"))
    assert health["schema"] == {"version": applied, "expectedVersion": applied, "upToDate": True}
    pool = health["pool"]
    assert pool["size"] >= 1
    assert 1 <= pool["open"] <= pool["size"]
    assert pool["active"] + pool["idle"] == pool["open"]
    assert pool["waiting"] >= 0
    assert health["uptimeSeconds"] > 0
    assert set(health["ingest"]) >= {"source", "cursor", "lagSeconds"}


def test_health_reports_ingest_lag_from_the_cursor():
    # A Jetstream cursor (time_us) 90 s behind, updated just now: lag ≈ 90 s, update age ≈ 0.
    cursor_us = int((time.time() - 90) * 1_000_000)
    psql(f"INSERT INTO ingest_cursor (source, cursor, updated_at) VALUES ('http-test-jetstream', {cursor_us}, now() + interval '1 hour') "
         f"ON CONFLICT (source) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = EXCLUDED.updated_at")
    try:
        ingest = requests.get(url("/health"), timeout=10).json()["ingest"]
        assert ingest["source"] == "http-test-jetstream"
        assert ingest["cursor"] == cursor_us
        assert 85 <= ingest["lagSeconds"] < 150
        assert ingest["updatedAt"].endswith("Z")
    finally:
        psql("DELETE FROM ingest_cursor WHERE source = 'http-test-jetstream'")


def test_health_ingest_fields_are_null_without_a_cursor_row():
    if psql("SELECT count(*) FROM ingest_cursor") != "0":
        pytest.skip("ingest_cursor has rows from another test; the row case is covered above")
    ingest = requests.get(url("/health"), timeout=10).json()["ingest"]
    assert ingest["source"] is None and ingest["cursor"] is None and ingest["lagSeconds"] is None


def test_database_metrics_from_loopback():
    response = requests.get(url("/api/metrics/database"), timeout=10)
    assert response.status_code == 200, response.text
    current = response.json()["current"]  # the pool monitor's current sample
    for key in ("size", "open", "active", "idle", "waiting", "utilizationPercent"):
        assert key in current, key
    assert current["size"] >= 1
    assert 0 <= current["utilizationPercent"] <= 100


def test_unknown_metrics_endpoint_is_404_json():
    response = requests.get(url("/api/metrics/no-such-thing"), timeout=10)
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


def test_health_rejects_other_methods_with_json():
    response = requests.post(url("/health"), data=b"{}", timeout=10)
    assert response.status_code == 405
    assert response.json()["error"] == "MethodNotAllowed"


def test_unknown_xrpc_method_is_501_json():
    response = requests.get(url("/xrpc/com.example.noSuchMethod"), timeout=10)
    assert response.status_code == 501
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "MethodNotImplemented"


def test_unknown_path_is_404_json():
    response = requests.get(url("/no/such/path.html"), timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "NotFound"


def test_large_json_is_gzipped_when_accepted():
    # The 404 message names the path, so a long unknown metrics path makes a body above gzip_min_length.
    path = "/api/metrics/" + "x" * 1500
    plain = requests.get(url(path), headers={"Accept-Encoding": "identity"}, timeout=10)
    assert plain.status_code == 404
    assert "Content-Encoding" not in plain.headers
    zipped = requests.get(url(path), headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True)
    assert zipped.status_code == 404
    assert zipped.headers.get("Content-Encoding") == "gzip"
    compressed = zipped.raw.read(decode_content=False)
    assert len(compressed) < len(plain.content)
    assert json.loads(gzip.decompress(compressed)) == plain.json()
