"""Word files kept between their preview and its confirmation, so nobody uploads twice.

A browser cannot put a file in a hidden field, and asking a delegate to choose the same file
again for the confirm step invites choosing another one. So the preview stores the uploaded
bytes server-side and the confirm form carries only a random token:

- **per user**: the entry records the user id, purpose ("draft" or "marked-up") and subject
  (negotiation or document id); another user's token, or the token on another page, is refused;
- **expiring**: 15 minutes after the upload the entry is gone; confirming then says so and asks
  for the file again;
- **size-capped**: at most 20 MB per file (the Word layer's own limit), at most 3 pending files
  per user (the oldest goes first) and 200 MB in all;
- **on disk, not in memory**: one directory per database under the system's temporary
  directory (mode 0700, files 0600), so every worker of the same server finds the upload whichever
  of them served the preview. File names are the SHA-256 of the token, never the token itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from app.domain.errors import Invalid

TTL_SECONDS = 15 * 60
MAX_FILE = 20_000_000
MAX_PER_USER = 3
MAX_TOTAL = 200_000_000

EXPIRED = (
    "This upload is no longer kept (files wait 15 minutes for confirmation): choose the file "
    "again to see its preview."
)


class _Meta(TypedDict):
    user: int
    purpose: str
    subject: int
    filename: str
    at: float


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    filename: str


class UploadStore:
    """Pending uploads on disk; see the module docstring for the rules."""

    def __init__(self, directory: Path, *, ttl: float = TTL_SECONDS) -> None:
        self.directory = directory
        self.ttl = ttl

    @classmethod
    def for_database(cls, url: str) -> UploadStore:
        """One directory per database: the workers of one server share it, tests do not."""
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        return cls(Path(tempfile.gettempdir()) / "rolltext-uploads" / key)

    def _ensure(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.directory, 0o700)

    def _path(self, token: str) -> Path:
        return self.directory / hashlib.sha256(token.encode()).hexdigest()

    def put(self, *, user_id: int, purpose: str, subject: int, data: bytes, filename: str) -> str:
        """Keep `data` for its user; the token goes into the confirm form."""
        if len(data) > MAX_FILE:
            raise Invalid("The file is larger than 20 MB.")
        self._ensure()
        self.sweep()
        mine = sorted(
            (meta["at"], path) for path, meta in self._entries() if meta["user"] == user_id
        )
        for _, path in mine[: max(0, len(mine) - MAX_PER_USER + 1)]:
            self._remove(path)
        total = sum(path.stat().st_size for path, _ in self._entries() if path.exists())
        if total + len(data) > MAX_TOTAL:
            raise Invalid("The server holds too many files awaiting confirmation: try again soon.")
        token = secrets.token_urlsafe(32)
        meta: _Meta = {
            "user": user_id,
            "purpose": purpose,
            "subject": subject,
            "filename": filename[:200],
            "at": time.time(),
        }
        path = self._path(token)
        temporary = path.with_suffix(".part")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            header = json.dumps(meta).encode()
            out.write(len(header).to_bytes(4, "big") + header + data)
        os.replace(temporary, path)
        return token

    def get(self, token: str, *, user_id: int, purpose: str, subject: int) -> Upload:
        """The upload behind `token`, if it is this user's, for this page, and not expired."""
        path = self._path(token or "")
        read = self._read(path)
        if read is None:
            raise Invalid(EXPIRED)
        meta, data = read
        if time.time() - meta["at"] > self.ttl:
            self._remove(path)
            raise Invalid(EXPIRED)
        if meta["user"] != user_id or meta["purpose"] != purpose or meta["subject"] != subject:
            raise Invalid(EXPIRED)  # not yours, or not for this page: as if it did not exist
        return Upload(data=data, filename=str(meta["filename"]))

    def discard(self, token: str) -> None:
        self._remove(self._path(token or ""))

    def sweep(self) -> None:
        """Forget every expired upload."""
        now = time.time()
        for path, meta in self._entries():
            if now - meta["at"] > self.ttl:
                self._remove(path)

    def _entries(self) -> list[tuple[Path, _Meta]]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            if path.suffix == ".part":
                continue
            meta = self._meta(path)
            if meta is not None:
                found.append((path, meta))
        return found

    @staticmethod
    def _meta(path: Path) -> _Meta | None:
        try:
            with path.open("rb") as file:
                size = int.from_bytes(file.read(4), "big")
                meta: _Meta = json.loads(file.read(size))
                return meta
        except (OSError, ValueError):
            return None

    @staticmethod
    def _read(path: Path) -> tuple[_Meta, bytes] | None:
        try:
            raw = path.read_bytes()
            size = int.from_bytes(raw[:4], "big")
            meta: _Meta = json.loads(raw[4 : 4 + size])
            return meta, raw[4 + size :]
        except (OSError, ValueError):
            return None

    @staticmethod
    def _remove(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()
