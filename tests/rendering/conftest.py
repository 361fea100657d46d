"""Session fixtures over the real chart renders (tests/rendering/chart.py); skipped where they cannot run."""

from __future__ import annotations

import pytest
from support.chart import available, render_stack, stack_graph


@pytest.fixture(scope="session")
def rendered():
    """render_stack(stack, **setting_changes) -> the stack's Milvus releases, rendered and post-rendered."""
    reason = available()
    if reason:
        pytest.skip(reason)
    return render_stack


@pytest.fixture(scope="session")
def graph():
    """stack_graph(stack, **setting_changes) -> the recorded resource graph the renders came from."""
    return stack_graph
