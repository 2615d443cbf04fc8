"""Pure decisions: (snapshot, state, params, now) -> intents. No I/O, no await, no clock reads.

Imports only the domain model and pricing in `broker`, the standard library, numpy, pandas,
and pydantic for the parameter models (tests/test_architecture.py enforces this).
"""
