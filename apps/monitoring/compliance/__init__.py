"""Compliance reporting (seed item 85): per organization and period, what was traded,
what it cost and earned, money moved in and out, and who did what (halts, kill
switches, go-live approvals, key changes, access). Generation and downloads are audited."""
