"""Alert notifications: routes per organization, channels, deduplication, delivery.

`routing` turns an alert into deliveries (one open message per route and alert key:
repeats join it as a count, and a key sends at most once per rate-limit window);
`delivery` sends one delivery through its `channels` sender with retries and backoff;
`signing` signs outbound webhooks; `services` saves routes for the admin.
"""
