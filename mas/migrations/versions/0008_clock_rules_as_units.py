"""Clock rules name their unit, not their clock: the workflow says what each clock is

Deadline rows written before revision 0008 name a rule per clock ("lrv",
"thuiszitterspact", "planned_start"); now the rule is the unit ("school_days",
"calendar_months", "fixed") and the clock kind (deadline.kind) says the rest. Day 0 of a
planned_start row was already the planned start date (inputs "start"), so its due moment
does not change. Pending e-mails of the "doorzetten" template now use "doorgezet".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_RULES = {"lrv": "school_days", "planned_start": "school_days", "thuiszitterspact": "calendar_months"}
OLD_RULES = {("lrv", "school_days"): "lrv", ("aanbod", "school_days"): "planned_start",
             ("thuiszitterspact", "calendar_months"): "thuiszitterspact"}
ANCHORS = {"lrv": "first_absent_on", "thuiszitterspact": "first_absent_on", "planned_start": "planned_start_on"}

deadline = sa.table("deadline", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("rule", sa.String), sa.column("inputs", sa.JSON))
outbox = sa.table("outbox_message", sa.column("template", sa.String), sa.column("status", sa.String))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(deadline.c.id, deadline.c.rule, deadline.c.inputs)
                        .where(deadline.c.rule.in_(list(NEW_RULES)))).all()
    for row in rows:
        inputs = dict(row.inputs or {})
        inputs["rule"] = NEW_RULES[row.rule]
        inputs.setdefault("anchor", ANCHORS[row.rule])
        conn.execute(sa.update(deadline).where(deadline.c.id == row.id)
                     .values(rule=NEW_RULES[row.rule], inputs=inputs))
    conn.execute(sa.update(outbox).where(outbox.c.template == "doorzetten").values(template="doorgezet"))


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(deadline.c.id, deadline.c.kind, deadline.c.rule, deadline.c.inputs)).all()
    for row in rows:
        old = OLD_RULES.get((row.kind, row.rule))
        if old is not None:
            inputs = dict(row.inputs or {})
            inputs["rule"] = old
            conn.execute(sa.update(deadline).where(deadline.c.id == row.id).values(rule=old, inputs=inputs))
    conn.execute(sa.update(outbox).where(outbox.c.template == "doorgezet").values(template="doorzetten"))
