"""Browser tests.

A package, so that its conftest is ``browser.conftest`` and never shadows ``tests/conftest.py``.
"""
