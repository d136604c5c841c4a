"""Waking workers for outbox work once the transaction that recorded it has committed.

A wake-up sent before the commit could reach a worker that does not see the row yet; one sent for a
transaction that then rolls back wakes a worker for nothing (see after_commit). A lost wake-up costs only
time: the relay wakes workers for every due outbox row.
"""

from __future__ import annotations

from webapp.services import after_commit


def wake_after_commit(topic: str) -> None:
    after_commit.defer("wake", topic)


def _wake(topics: dict) -> None:
    from workers import enqueue  # workers import the services; the services only reach back at run time

    for topic in sorted(topics):
        enqueue.wake(topic)


after_commit.register("wake", _wake)
