"""Helpers shared by the tests (no tests here): sample data, catalogs, servers, worker jobs.

``tests/`` is on ``sys.path`` (``pythonpath`` in pyproject.toml), so a test imports ``support.ingest``,
``support.report``, ``support.sesame``, ``support.network``, ``support.kill``, ``support.products`` and
``support.worker_jobs`` wherever it lives.
"""
