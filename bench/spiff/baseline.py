"""SpiffWorkflow baseline: the thuiszitter lifecycle as a five-user-task BPMN process.

Every step is what a persisted SpiffWorkflow engine has to do: load the workflow JSON from
the database, deserialise it, complete the ready user task, run engine steps, serialise it
and write it back, all in one transaction. One row per process (`spiff_case`: id, state,
workflow_json as text), in the same kind of database the bench runs on, through the plain
driver:

  SQLite      sqlite3, WAL and synchronous=NORMAL like the other arms, BEGIN IMMEDIATE … COMMIT
  PostgreSQL  psycopg, which begins the transaction itself; the row is read FOR UPDATE, the
              PostgreSQL equivalent of SQLite's write lock taken at BEGIN IMMEDIATE (without
              it two steps on one process could both complete the same task)

Written against SpiffWorkflow 3.x (BpmnParser, BpmnWorkflow, BpmnWorkflowSerializer,
TaskState, task.run()).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

BPMN_PATH = Path(__file__).with_name("lifecycle.bpmn")
PROCESS_ID = "thuiszitter_lifecycle"

# Case status after completing each user task (the status before the first one is "signaal").
STATUS_AFTER = {
    "gesprek": "gesprek",
    "zorgtafel": "zorgtafel",
    "aanbod": "aanbod",
    "terugleiding": "terugleiding",
    "afsluiten": "afgesloten",
}
STEPS = len(STATUS_AFTER)


def _ready_user_task(workflow: BpmnWorkflow):
    tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert len(tasks) == 1, tasks
    return tasks[0]


class SpiffCases:
    """A persisted SpiffWorkflow engine on the database at `url` (a SQLAlchemy URL: sqlite:///…
    or postgresql+psycopg://…). Setup in __init__ (not timed); `run(n)` times n lifecycles."""

    def __init__(self, url: str):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.kind = parsed.get_backend_name()
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN_PATH))
        self.spec = parser.get_spec(PROCESS_ID)
        self.serializer = BpmnWorkflowSerializer()
        self.count = 0
        if self.kind == "sqlite":
            # isolation_level=None: transactions are controlled explicitly with BEGIN/COMMIT.
            self.conn = sqlite3.connect(parsed.database, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.begin = "BEGIN IMMEDIATE"
            self.insert = "INSERT INTO spiff_case(state, workflow_json) VALUES (?, ?) RETURNING id"
            self.load = "SELECT workflow_json FROM spiff_case WHERE id = ?"
            self.store = "UPDATE spiff_case SET state = ?, workflow_json = ? WHERE id = ?"
            self.conn.execute("CREATE TABLE IF NOT EXISTS spiff_case(id INTEGER PRIMARY KEY, state TEXT, "
                              "workflow_json TEXT)")
        elif self.kind == "postgresql":
            import psycopg

            self.conn = psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
            self.begin = None  # psycopg begins the transaction with the first statement
            self.insert = "INSERT INTO spiff_case(state, workflow_json) VALUES (%s, %s) RETURNING id"
            self.load = "SELECT workflow_json FROM spiff_case WHERE id = %s FOR UPDATE"
            self.store = "UPDATE spiff_case SET state = %s, workflow_json = %s WHERE id = %s"
            self.conn.execute("CREATE TABLE IF NOT EXISTS spiff_case(id serial PRIMARY KEY, state text, "
                              "workflow_json text)")
            self.conn.commit()
        else:
            raise ValueError(f"SpiffCases runs on SQLite or PostgreSQL, not {self.kind}")

    def run(self, n: int) -> float:
        """n full lifecycles, each step its own transaction; elapsed seconds (perf_counter)."""
        conn, spec, serializer = self.conn, self.spec, self.serializer
        cur = conn.cursor()
        execute, commit, begin = cur.execute, conn.commit, self.begin
        start = time.perf_counter()
        for _ in range(n):
            self.count += 1
            # open from a signal
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            first = _ready_user_task(workflow)
            first.data.update({"signal": {"source": "school", "case_no": self.count}})
            if begin:
                execute(begin)
            (case_id,) = execute(self.insert, ("signaal", serializer.serialize_json(workflow))).fetchone()
            commit()

            # five transitions
            for _ in range(STEPS):
                if begin:
                    execute(begin)
                (wf_json,) = execute(self.load, (case_id,)).fetchone()
                workflow = serializer.deserialize_json(wf_json)
                task = _ready_user_task(workflow)
                task.data.update({"report": f"{task.task_spec.name} afgerond voor casus {case_id}"})
                task.run()
                workflow.do_engine_steps()
                execute(self.store, (STATUS_AFTER[task.task_spec.name], serializer.serialize_json(workflow), case_id))
                commit()
            assert workflow.is_completed()
        elapsed = time.perf_counter() - start
        cur.close()
        return elapsed

    def close(self) -> None:
        self.conn.close()


def run_spiff(url: str, n: int) -> float:
    """n lifecycles on the database at `url`; elapsed seconds of the lifecycles only (not setup)."""
    cases = SpiffCases(url)
    try:
        return cases.run(n)
    finally:
        cases.close()


if __name__ == "__main__":
    N = 200
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "spiff.db")
        secs = run_spiff(f"sqlite:///{db}", N)
        conn = sqlite3.connect(db)
        done = conn.execute("SELECT count(*) FROM spiff_case WHERE state = 'afgesloten'").fetchone()[0]
        size = conn.execute("SELECT avg(length(workflow_json)) FROM spiff_case").fetchone()[0]
        conn.close()
    assert done == N, done
    print(f"SpiffWorkflow: {N} cases in {secs:.3f}s = {secs / N * 1000:.2f} ms/case "
          f"({secs / N / (STEPS + 1) * 1000:.2f} ms/transaction, ~{size:.0f} B JSON per case)")
    sys.exit(0)
