"""The service's tests (a package: its conftest must not shadow tests/python's)."""
