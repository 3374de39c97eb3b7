"""The session cookie's signature is checked once per cookie; its age, at every request."""

from __future__ import annotations

import itsdangerous
import pytest
from itsdangerous.exc import BadSignature, SignatureExpired

from app.web.security import _CheckedOnce


def test_a_cookie_is_checked_once_and_its_age_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = _CheckedOnce("secret")
    cookie = itsdangerous.TimestampSigner("secret").sign(b"payload")
    checks: list[bytes] = []
    unsign = itsdangerous.TimestampSigner.unsign

    def counted(self, value, *args, **kwargs):  # type: ignore[no-untyped-def]
        checks.append(value)
        return unsign(self, value, *args, **kwargs)

    monkeypatch.setattr(itsdangerous.TimestampSigner, "unsign", counted)
    assert signer.unsign(cookie, max_age=60) == b"payload"
    assert signer.unsign(cookie.decode(), max_age=60) == b"payload"
    assert len(checks) == 1
    now = signer.get_timestamp()
    monkeypatch.setattr(signer, "get_timestamp", lambda: now + 61)
    with pytest.raises(SignatureExpired):
        signer.unsign(cookie, max_age=60)  # remembered, but too old now
    value, signed = signer.unsign(cookie, return_timestamp=True)
    assert value == b"payload" and abs(signed.timestamp() - now) <= 1


def test_a_forged_or_foreign_cookie_is_refused_every_time() -> None:
    signer = _CheckedOnce("secret")
    cookie = itsdangerous.TimestampSigner("secret").sign(b"payload")
    forged = cookie.replace(b"payload", b"paylord")
    foreign = itsdangerous.TimestampSigner("other secret").sign(b"payload")
    for _ in range(2):
        for bad in (forged, foreign):
            with pytest.raises(BadSignature):
                signer.unsign(bad, max_age=60)
    assert signer.unsign(cookie, max_age=60) == b"payload"
