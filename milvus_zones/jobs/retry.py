"""Connect to Milvus from an in-cluster Job, waiting while it (or the route to it) comes up."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


def connect_with_retry(uri: str, token: str, wait_seconds: float, factory: Callable[..., Any],
                       probe: str = "list_databases", sleep: Callable[[float], None] = time.sleep,
                       probe_timeout: float = 30.0) -> Any:
    """A client whose `probe` call answered; SystemExit with a message once `wait_seconds` have passed.

    The probe carries a deadline: a pymilvus call without `timeout=` waits as long as the server does.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            client = factory(uri=uri, token=token)
            getattr(client, probe)(timeout=probe_timeout)
            return client
        except Exception as e:  # noqa: BLE001 - any failure here means "not reachable yet"
            if time.monotonic() >= deadline:
                raise SystemExit(f"Milvus at {uri} did not answer within {wait_seconds:.0f} s: {e}") from None
            print(f"waiting for Milvus at {uri}: {e}", file=sys.stderr)
            sleep(5)
