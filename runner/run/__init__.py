"""One guarded run: the executor's state machine, the steps it hands Alembic, the guards on env.py's
connection, the gate before each step, the decisions, and how a run ends."""
