"""Queue names, highest priority first: a worker drains `high` before it looks at `default`."""

from webapp.services.topics import Queue

HIGH, DEFAULT, LOW = Queue.HIGH.value, Queue.DEFAULT.value, Queue.LOW.value
WEBHOOKS = Queue.WEBHOOKS.value

ALL = (HIGH, DEFAULT, LOW, WEBHOOKS)
