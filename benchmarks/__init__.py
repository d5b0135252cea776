"""Benchmarks: callhooks against the endpoints a user would write by hand, over real HTTP and in-process.

``python -m benchmarks`` runs the HTTP comparison (``run.py``); ``python -m benchmarks.micro`` the in-process
figures. Neither is part of the installed package: they live next to it, like the tests.
"""
