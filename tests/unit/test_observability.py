"""Structured logs: every request leaves one JSON line with its id, status and duration."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.observability import JsonFormatter


def test_each_request_is_logged_with_an_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(secret_key="x", database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="rolltext.request"):
        response = client.get("/api/v1/me", headers={"X-Request-ID": "abc123"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "abc123"
    [record] = [r for r in caplog.records if r.name == "rolltext.request"]
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request" and line["request_id"] == "abc123"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/me", 401)
    assert line["level"] == "info" and isinstance(line["ms"], float)
    assert line["time"].endswith("Z")
