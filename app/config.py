"""One place for configuration: environment variables (prefix ROLLTEXT_) or a .env file."""

from functools import cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-rolltext-development-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROLLTEXT_", env_file=".env", extra="ignore")

    #: SQLite is the embedded default; PostgreSQL is the production database.
    database_url: str = f"sqlite:///{Path.cwd() / 'rolltext.db'}"
    #: Signs session cookies. Production refuses to start with the default.
    secret_key: str = DEFAULT_SECRET
    #: "development" or "production".
    environment: str = "development"
    #: Demo mode lists the demo accounts on the sign-in page.
    demo: bool = False
    #: Log level, and JSON lines (for a collector) or plain text (for a terminal).
    log_level: str = "INFO"
    json_logs: bool = True
    #: How often the server settles silence procedures whose deadline has passed.
    settle_interval_seconds: float = 10.0
    #: Compute the kept answers (every provision's panel and API reads) at start-up, in the
    #: background: None means in production only.
    warm_start: bool | None = None
    #: Largest request body accepted, in bytes (app/web/body_limit.py): JSON and forms…
    max_body_bytes: int = 2_000_000
    #: …and file uploads (multipart): a 20 MB Word file and its form fields.
    max_upload_bytes: int = 21_000_000

    @property
    def warms(self) -> bool:
        return self.warm_start if self.warm_start is not None else self.environment == "production"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "ROLLTEXT_SECRET_KEY must be set to a private value in production "
                "(the default development secret would let anyone forge session cookies)."
            )
        return self


@cache
def get_settings() -> Settings:
    return Settings()
