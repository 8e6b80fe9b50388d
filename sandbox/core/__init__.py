"""The platform-neutral sandbox every emulator is built on; it imports no platform package.

``server`` (the ``Emulator`` base: loopback HTTP server, dispatch, faults, rate limits, push records) serves
``http_types`` (``Request``, ``Response``, ``Route``) and mounts ``control`` (the ``/_sandbox/`` API, which
names what it drives with a Protocol instead of importing the server). ``clock`` (sandbox time),
``buckets`` (token buckets, call counters), ``faults`` (injected errors, hang-ups, delays), ``orders`` (the
neutral order: lines, events, the state they fold to), ``generator`` and ``world`` (the seeded order book
and the catalogue and addresses it draws from), ``listings`` (the SKUs a stock push may name),
``webhooks`` (posting one to a receiver) and ``demo_accounts`` (the demo shops and their credentials,
mirrored in ``sandbox/demo-secrets.toml``).
"""
