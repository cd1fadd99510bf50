"""The local stack behind `make dev` and the test suite: PostgreSQL, moto, gateway, workers, dev IdP."""
