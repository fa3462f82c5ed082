"""The schema as it stood at revision 0007, in one revision (0001-0007 squashed).

Databases migrated through the old chain are at revision 0007 and stay valid: this file
keeps that revision id and creates exactly the schema the chain created (a test compares
the two on SQLite and PostgreSQL). Later changes are revisions on top of this one.

Why the indexes are as they are:
- "open" is `closed_at IS NULL` for cases and `status = 'open'` for deadlines, so a running
  case's state changes touch no index;
- case_event has one unique index (case_id, deadline_id, rung): the journal of a case and
  "each rung of a deadline generation at most once" (a deadline belongs to one case);
- the sweep reads ix_deadline_open_next, the dispatcher ix_outbox_status_not_before: index
  ranges, never scans.

Revision ID: 0007
Revises:
Create Date: 2026-12-02 06:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mas.db

revision: str = '0007'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('brin', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('contact_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('escalation_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('escalation_email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_brin'), ['brin'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)

    op.create_table('reference_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('municipalities', sa.JSON(), nullable=False),
    sa.Column('default_region', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('coordinator_id', sa.Integer(), nullable=True),
    sa.Column('bestuurlijk_contact_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('bestuurlijk_contact_email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    # team and user refer to each other: the team's coordinator link comes after both exist.
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_team_coordinator_id_user', 'user', ['coordinator_id'], ['id'])

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_role'), ['role'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_team_id'), ['team_id'], unique=False)

    op.create_table('youth',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('given_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('family_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('birth_on', sa.Date(), nullable=False),
    sa.Column('bsn', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('onderwijsnummer', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('municipality', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('education_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('education_level', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bsn'),
    sa.UniqueConstraint('onderwijsnummer')
    )
    with op.batch_alter_table('youth', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_youth_school_id'), ['school_id'], unique=False)

    op.create_table('case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('casusregisseur_id', sa.Integer(), nullable=True),
    sa.Column('youth_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_absent_on', sa.Date(), nullable=False),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('gesprek_report', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('maatwerkplan', sa.JSON(), nullable=True),
    sa.Column('offer_started_on', sa.Date(), nullable=True),
    sa.Column('closing_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('previous_case_id', sa.Integer(), nullable=True),
    sa.Column('has_suspensions', sa.Boolean(), nullable=False),
    sa.Column('opened_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['casusregisseur_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['previous_case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['youth_id'], ['youth.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_casusregisseur_id'), ['casusregisseur_id'], unique=False)
        batch_op.create_index('ix_case_open_team_regisseur', ['team_id', 'casusregisseur_id'], unique=False, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_case_previous_case_id'), ['previous_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_youth_id'), ['youth_id'], unique=False)
        batch_op.create_index('uq_case_open_per_youth', ['youth_id'], unique=True, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))

    op.create_table('guardian',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('youth_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('has_custody', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['youth_id'], ['youth.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardian_youth_id'), ['youth_id'], unique=False)

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_case_id'), ['case_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sent_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_not_before', ['status', 'not_before'], unique=False)

    op.create_table('signal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('youth_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reporter_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reporter_function', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reporter_phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reporter_email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('period_first_on', sa.Date(), nullable=True),
    sa.Column('period_last_on', sa.Date(), nullable=True),
    sa.Column('hours_missed', sa.Float(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('received_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['youth_id'], ['youth.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signal_youth_id'), ['youth_id'], unique=False)

    op.create_table('step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('due_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('completion_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['completed_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_step_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_step_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_step_status'), ['status'], unique=False)

    op.create_table('suspension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('first_on', sa.Date(), nullable=False),
    sa.Column('last_on', sa.Date(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suspension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspension_case_id'), ['case_id'], unique=False)

    op.create_table('deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('due_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('rung', sa.Integer(), nullable=False),
    sa.Column('next_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('closed_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name='fk_deadline_organisation_id_organisation'),
    sa.ForeignKeyConstraint(['step_id'], ['step.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_deadline_open_due', ['due_at'], unique=False, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_deadline_open_next', ['next_at'], unique=False, sqlite_where=sa.text("status = 'open' AND next_at IS NOT NULL"), postgresql_where=sa.text("status = 'open' AND next_at IS NOT NULL"))
        batch_op.create_index('uq_deadline_case_clock_generation', ['case_id', 'kind', 'generation'], unique=True, sqlite_where=sa.text('step_id IS NULL'), postgresql_where=sa.text('step_id IS NULL'))
        batch_op.create_index('uq_deadline_step_kind_generation', ['step_id', 'kind', 'generation'], unique=True, sqlite_where=sa.text('step_id IS NOT NULL'), postgresql_where=sa.text('step_id IS NOT NULL'))

    op.create_table('extension_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('proposed_due_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', mas.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['step.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_request_step_id'), ['step_id'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', mas.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('deadline_id', sa.Integer(), nullable=True),
    sa.Column('rung', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name='fk_case_event_deadline_id_deadline'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('uq_case_event_case_deadline_rung', ['case_id', 'deadline_id', 'rung'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('uq_case_event_case_deadline_rung')

    op.drop_table('case_event')
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_request_step_id'))

    op.drop_table('extension_request')
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index('uq_deadline_step_kind_generation', sqlite_where=sa.text('step_id IS NOT NULL'), postgresql_where=sa.text('step_id IS NOT NULL'))
        batch_op.drop_index('uq_deadline_case_clock_generation', sqlite_where=sa.text('step_id IS NULL'), postgresql_where=sa.text('step_id IS NULL'))
        batch_op.drop_index('ix_deadline_open_next', sqlite_where=sa.text("status = 'open' AND next_at IS NOT NULL"), postgresql_where=sa.text("status = 'open' AND next_at IS NOT NULL"))
        batch_op.drop_index('ix_deadline_open_due', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_deadline_case_id'))

    op.drop_table('deadline')
    with op.batch_alter_table('suspension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspension_case_id'))

    op.drop_table('suspension')
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_step_status'))
        batch_op.drop_index(batch_op.f('ix_step_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_step_case_id'))

    op.drop_table('step')
    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_youth_id'))
        batch_op.drop_index(batch_op.f('ix_signal_case_id'))

    op.drop_table('signal')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_not_before')

    op.drop_table('outbox_message')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_case_id'))

    op.drop_table('access_log')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_youth_id'))

    op.drop_table('guardian')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('uq_case_open_per_youth', sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_case_youth_id'))
        batch_op.drop_index(batch_op.f('ix_case_team_id'))
        batch_op.drop_index(batch_op.f('ix_case_previous_case_id'))
        batch_op.drop_index('ix_case_open_team_regisseur', sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_case_casusregisseur_id'))

    op.drop_table('case')
    with op.batch_alter_table('youth', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_youth_school_id'))

    op.drop_table('youth')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_team_id'))
        batch_op.drop_index(batch_op.f('ix_user_role'))
        batch_op.drop_index(batch_op.f('ix_user_organisation_id'))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_constraint('fk_team_coordinator_id_user', type_='foreignkey')

    op.drop_table('user')
    op.drop_table('team')
    op.drop_table('reference_counter')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))
        batch_op.drop_index(batch_op.f('ix_organisation_brin'))

    op.drop_table('organisation')
