"""Small readers for assertions."""

from sqlalchemy import func, select

from mas.models import Case, CaseEvent, Deadline, Signal


def case_row(db, case_id):
    with db.read() as conn:
        return conn.execute(select(Case.__table__).where(Case.__table__.c.id == case_id)).one()


def events_of(db, case_id):
    e = CaseEvent.__table__
    with db.read() as conn:
        return conn.execute(select(e).where(e.c.case_id == case_id).order_by(e.c.id)).all()


def deadlines_of(db, case_id, kind=None):
    d = Deadline.__table__
    q = select(d).where(d.c.case_id == case_id).order_by(d.c.id)
    if kind:
        q = q.where(d.c.kind == kind)
    with db.read() as conn:
        return conn.execute(q).all()


def open_deadline(db, case_id, kind):
    rows = [r for r in deadlines_of(db, case_id, kind) if r.status == "open"]
    assert len(rows) == 1, rows
    return rows[0]


def count(db, table):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def signals_of(db, case_id):
    s = Signal.__table__
    with db.read() as conn:
        return conn.execute(select(s).where(s.c.case_id == case_id)).all()
