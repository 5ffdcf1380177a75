"""Django's PostgreSQL backend (with django-prometheus's metrics) whose connection pool
checks a connection only after it sat idle (apps/core/db_pool.py)."""
