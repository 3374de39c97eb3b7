"""amendment wordings: an index on the text (the same-proposal check looks a wording up by it)

Revision ID: 9b3d2f6a1c47
Revises: e5a11f68207d
Create Date: 2026-11-29 15:58:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9b3d2f6a1c47"
down_revision: str | None = "e5a11f68207d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_amendment_wordings_text", "amendment_wordings", ["text"], postgresql_using="hash"
    )


def downgrade() -> None:
    op.drop_index("ix_amendment_wordings_text", table_name="amendment_wordings")
