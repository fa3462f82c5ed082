"""indexes for the transition path: "open" is closed_at IS NULL; drop indexes others cover

A transition used to rewrite five index entries besides its rows: ix_case_state and the two
partial "open case" indexes (state was in their predicate), ix_deadline_case_status (status
changes when a clock closes) and ix_deadline_step_id. Now a state change touches no index
of case, and a clock that closes only leaves the two partial "open" indexes of deadline.

- ix_case_state: nothing reads cases by state alone (the werkvoorraad reads the open ones
  through ix_case_open_team_regisseur).
- ix_case_open_team_regisseur, uq_case_open_per_youth: predicate closed_at IS NULL, which
  the service sets exactly when a case is closed (older closed rows are filled in below).
- ix_deadline_case_status: ix_deadline_case_id finds a case's handful of deadlines.
- ix_deadline_step_id: uq_deadline_step_kind_generation leads with step_id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_OPEN = sa.text("state != 'afgesloten'")
NEW_OPEN = sa.text("closed_at IS NULL")


def _open_indexes(batch_op, where) -> None:
    batch_op.create_index("ix_case_open_team_regisseur", ["team_id", "casusregisseur_id"], unique=False,
                          sqlite_where=where, postgresql_where=where)
    batch_op.create_index("uq_case_open_per_youth", ["youth_id"], unique=True, sqlite_where=where,
                          postgresql_where=where)


def upgrade() -> None:
    op.execute("UPDATE \"case\" SET closed_at = updated_at WHERE state = 'afgesloten' AND closed_at IS NULL")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_state")
        batch_op.drop_index("ix_case_open_team_regisseur")
        batch_op.drop_index("uq_case_open_per_youth")
        _open_indexes(batch_op, NEW_OPEN)
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_case_status")
        batch_op.drop_index("ix_deadline_step_id")


def downgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index("ix_deadline_step_id", ["step_id"], unique=False)
        batch_op.create_index("ix_deadline_case_status", ["case_id", "status"], unique=False)
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("uq_case_open_per_youth")
        batch_op.drop_index("ix_case_open_team_regisseur")
        _open_indexes(batch_op, OLD_OPEN)
        batch_op.create_index("ix_case_state", ["state"], unique=False)
