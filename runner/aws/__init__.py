"""AWS around a migration: the snapshot before it, the way back, and the health of what it serves.

Every module takes its boto3 client (or a client factory) as an argument, so a
test, a rehearsal against moto, and production share one path; every AWS
failure leaves here as a ``RunnerError`` (``failures``), never as a botocore
traceback.
"""
