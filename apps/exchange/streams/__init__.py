"""Stream building blocks that need no connection: the local order book, closed-kline
gap tracking with REST backfill, and the plan of which streams go on which connection.

The asyncio supervisor that feeds them from WebSockets waits for the paper exchange's
streams (issue 4), so that it can be tested against a real peer.
"""
