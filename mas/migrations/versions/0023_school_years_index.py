"""youth_record: a partial index on the recorded school years, for the handover sweep

12 full school years can end leerplicht years before the age rule; the handover sweep reads
the birth-date ranges whose obligation changes soon and now also the few records with school
years recorded, through this index (never a scan of all records).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 04:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("school_years_completed IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_youth_record_school_years", "youth_record", ["school_years_completed"], unique=False,
                    sqlite_where=_WHERE, postgresql_where=_WHERE)


def downgrade() -> None:
    op.drop_index("ix_youth_record_school_years", table_name="youth_record")
