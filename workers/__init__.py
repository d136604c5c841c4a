"""Background work on RQ. Jobs are hints that rows are waiting in a table; each is idempotent."""
