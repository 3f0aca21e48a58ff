"""The test suite's own promises: what pyproject.toml's pytest settings say happens does happen."""

from __future__ import annotations

import os

import pytest


@pytest.mark.xdist_group("suite")
def test_tests_of_one_xdist_group_are_sent_to_one_process_together(request: pytest.FixtureRequest):
    """Tests that share something costly (one Chromium, one printed review) are marked with one
    ``xdist_group``; with ``--dist loadgroup`` pytest-xdist sends them to one process by adding the
    group to their node ids. When it cannot (pytest-dev/pytest-xdist#1386), they are spread over
    the processes and what they share is made in each, silently: this test says so."""
    if "PYTEST_XDIST_WORKER" not in os.environ or request.config.getoption("dist", "no") != "no":
        pytest.skip("run in one process (-n 0): there is nothing to group")
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("run without --dist loadgroup")
    assert request.node.nodeid.endswith("@suite"), request.node.nodeid
