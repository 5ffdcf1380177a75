"""ORM work from async tests."""

from asgiref.sync import sync_to_async
from django.db import connection


def in_worker_thread(function):
    """`function` as a coroutine run in a worker thread that closes its database
    connection afterwards (a test's event loop must not hold one)."""

    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    return sync_to_async(run, thread_sensitive=False)
