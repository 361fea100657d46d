"""Helpers shared by the tests, imported explicitly as `support.<module>`:

- `graphs`: the project's stacks and hand-written programs run under the recording mock engine, once
  per session, and topology facts read straight from resource inputs;
- `policytest`: offline policy checks on hand-written programs, and graph edits for violating cases;
- `chart` and `render`: the real Milvus chart archives rendered (helm-python-sdk) and post-rendered;
- `etcd`: a real 3-member etcd on 127.0.0.1 (its fixtures are in tests/conftest.py);
- `failover_fakes`: a fake Kubernetes API that keeps the API server's Lease rules.
"""
