"""The backend's two changes: timestamps read by psycopg's compiled loader
(apps/core/utc_timestamps.py), and the pool's check, with when a connection went back.

Django builds psycopg's pool itself and passes `check` (psycopg's check on every
checkout, or none), so the pool options cannot name another one; it is set on the pool
right after Django creates it, before the pool opens. The return time is noted when
Django hands a connection back, not with the pool's `reset` callback, which would move
every return onto the pool's worker thread.
"""

import datetime

from django.conf import settings
from django_prometheus.db.backends.postgresql.base import (
    DatabaseWrapper as PrometheusDatabaseWrapper,
)

from apps.core.db_pool import check_after_idle, mark_returned
from apps.core.utc_timestamps import with_utc_timestamps


class DatabaseWrapper(PrometheusDatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        template = params.get("context")
        if template is not None and settings.USE_TZ and self.timezone is datetime.UTC:
            params["context"] = with_utc_timestamps(template)
        return params

    @property
    def pool(self):
        created_now = self.alias not in self._connection_pools
        pool = super().pool
        if pool is not None and created_now:
            pool._check = check_after_idle
        return pool

    def _close(self):
        if self.connection is not None and self.pool:
            mark_returned(self.connection)
        super()._close()
