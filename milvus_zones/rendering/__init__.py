"""Stage 2, rendering: a topology plan -> Helm values, post-renderer patches and manifests, as plain data.

Rule: imports planning only; no Pulumi, so tests render without the engine.
"""
