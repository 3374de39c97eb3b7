"""The API's kept answers are sent gzip-compressed to clients that accept it, compressed once
per state of the answer (app/web/compression.py, `json_answer`)."""

from __future__ import annotations

import pytest

from app.web import compression
from tests.conftest import World
from tests.integration.test_api import sign_in
from tests.integration.test_kept_answers import serving


def test_an_answer_is_the_same_compressed_or_not(world: World) -> None:
    op1 = world.provision("OP1")
    paths = [
        f"/api/v1/provisions/{op1}",
        f"/api/v1/documents/{world.document.id}",
        f"/api/v1/documents/{world.document.id}/amendments?provision_id={op1}",
    ]
    with serving(world, world.database) as client:
        sign_in(client, "eu")
        more = " It shall report on the conference to the General Assembly." * 20
        client.post(  # answers with a long proposal in them: more than `SMALLEST`
            "/api/v1/amendments",
            json={"provision_id": op1, "kind": "wording", "text": world.text("OP1") + more},
        ).raise_for_status()
        for path in paths:
            plain = client.get(path, headers={"Accept-Encoding": "identity"})
            packed = client.get(path, headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
            assert plain.status_code == packed.status_code == 200
            assert "content-encoding" not in plain.headers, path
            assert packed.headers["content-encoding"] == "gzip", path
            for answer in (plain, packed):  # (caches keep one answer per encoding)
                assert "Accept-Encoding" in answer.headers["vary"].split(", ")
            assert len(plain.content) >= compression.SMALLEST
            assert int(packed.headers["content-length"]) < len(plain.content) / 2
            assert packed.content == plain.content  # (httpx unpacked it)
        op2 = world.provision("OP2")
        small = client.get(f"/api/v1/documents/{world.document.id}/amendments?provision_id={op2}")
        assert small.json() == [] and "content-encoding" not in small.headers  # sent as it is


def test_a_compressed_answer_is_kept_until_its_answer_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed: list[int] = []
    gzipped = compression.gzipped

    def counted(body: bytes) -> bytes:
        packed.append(len(body))
        return gzipped(body)

    monkeypatch.setattr(compression, "gzipped", counted)
    op1 = world.provision("OP1")
    path = f"/api/v1/provisions/{op1}"
    wording = world.text("OP1").replace("2018", "2019")
    with serving(world, world.database) as client:
        sign_in(client, "eu")
        client.post(
            "/api/v1/amendments", json={"provision_id": op1, "kind": "delete"}
        ).raise_for_status()
        first = client.get(path)
        assert client.get(path).content == first.content
        assert len(packed) == 1  # compressed once, then kept
        sign_in(client, "usa")
        assert client.get(path).content == first.content
        assert len(packed) == 1  # another viewer is given the same compressed bytes
        client.post(
            "/api/v1/amendments", json={"provision_id": op1, "kind": "wording", "text": wording}
        ).raise_for_status()
        after = client.get(path)
        assert after.headers["content-encoding"] == "gzip"
        assert wording in [a["proposed_text"] for a in after.json()["amendments"]]
        assert len(packed) == 2  # the answer changed: compressed again
