"""youth_record: the startkwalificatie and the years of schooling, where the team records them

The obligation's rules (mas.clocks.obligation) end kwalificatieplicht on a startkwalificatie and
leerplicht after 12 full school years; the team can now record both. The count of school years
holds for the school year of the day it was recorded (school_years_on). All empty on existing
records: the obligation then follows the birth date alone, as before.

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-02 17:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("youth_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("startkwalificatie_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("school_years_completed", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("school_years_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint("ck_youth_record_school_years", "school_years_completed BETWEEN 0 AND 12")


def downgrade() -> None:
    with op.batch_alter_table("youth_record", schema=None) as batch_op:
        batch_op.drop_constraint("ck_youth_record_school_years", type_="check")
        batch_op.drop_column("school_years_on")
        batch_op.drop_column("school_years_completed")
        batch_op.drop_column("startkwalificatie_on")
