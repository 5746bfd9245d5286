"""Loaded by every Python process the tests start: the same loopback fence as the test process."""
from tests.loopback_guard import install

install()
