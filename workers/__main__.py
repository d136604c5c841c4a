"""`python -m workers`: an RQ worker (with RQ's scheduler) for every queue, inside the Flask app."""

from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, Worker

from webapp import create_app
from workers.queues import ALL


def main() -> None:
    app = create_app()
    connection = Redis.from_url(app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in ALL]
    logging.getLogger(__name__).info("worker listening on %s", ", ".join(ALL))
    Worker(queues, connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main()
