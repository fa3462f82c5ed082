"""SpiffWorkflow baseline: the thuiszitter lifecycle as a five-user-task BPMN process.

Every step is what a persisted SpiffWorkflow engine has to do: load the workflow JSON
from SQLite, deserialise it, complete the ready user task, run engine steps, serialise
it and write it back, all in one transaction.

Written against SpiffWorkflow 3.x (BpmnParser, BpmnWorkflow, BpmnWorkflowSerializer,
TaskState, task.run()).
"""

from __future__ import annotations

import os
import sqlite3
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


def _connect(db_path: str) -> sqlite3.Connection:
    # isolation_level=None: transactions are controlled explicitly with BEGIN/COMMIT.
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def run_spiff(db_path: str, n: int) -> float:
    """Run n case lifecycles on a SQLite file at db_path (WAL, synchronous=NORMAL, like the
    other arms), return elapsed seconds (time.perf_counter around the lifecycles only, not setup)."""
    # --- setup (not timed) ---
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN_PATH))
    spec = parser.get_spec(PROCESS_ID)
    serializer = BpmnWorkflowSerializer()
    conn = _connect(db_path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS spiff_case("
        "id INTEGER PRIMARY KEY, state TEXT, workflow_json TEXT)"
    )

    # --- timed: n full lifecycles, each step its own transaction ---
    start = time.perf_counter()
    for i in range(n):
        # open from a signal
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        first = _ready_user_task(workflow)
        first.data.update({"signal": {"source": "school", "case_no": i}})
        conn.execute("BEGIN IMMEDIATE")
        case_id = conn.execute(
            "INSERT INTO spiff_case(state, workflow_json) VALUES (?, ?)",
            ("signaal", serializer.serialize_json(workflow)),
        ).lastrowid
        conn.execute("COMMIT")

        # five transitions
        for _ in range(STEPS):
            conn.execute("BEGIN IMMEDIATE")
            (wf_json,) = conn.execute(
                "SELECT workflow_json FROM spiff_case WHERE id = ?", (case_id,)
            ).fetchone()
            workflow = serializer.deserialize_json(wf_json)
            task = _ready_user_task(workflow)
            task.data.update({"report": f"{task.task_spec.name} afgerond voor casus {case_id}"})
            task.run()
            workflow.do_engine_steps()
            conn.execute(
                "UPDATE spiff_case SET state = ?, workflow_json = ? WHERE id = ?",
                (STATUS_AFTER[task.task_spec.name], serializer.serialize_json(workflow), case_id),
            )
            conn.execute("COMMIT")
        assert workflow.is_completed()
    elapsed = time.perf_counter() - start

    conn.close()
    return elapsed


if __name__ == "__main__":
    N = 200
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "spiff.db")
        secs = run_spiff(db, N)
        conn = sqlite3.connect(db)
        done = conn.execute("SELECT count(*) FROM spiff_case WHERE state = 'afgesloten'").fetchone()[0]
        size = conn.execute("SELECT avg(length(workflow_json)) FROM spiff_case").fetchone()[0]
        conn.close()
    assert done == N, done
    print(f"SpiffWorkflow: {N} cases in {secs:.3f}s = {secs / N * 1000:.2f} ms/case "
          f"({secs / N / (STEPS + 1) * 1000:.2f} ms/transaction, ~{size:.0f} B JSON per case)")
