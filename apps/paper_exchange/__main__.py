"""``python -m apps.paper_exchange``: run the server without Django (see cli.py)."""

import sys

from apps.paper_exchange.cli import main

sys.exit(main())
