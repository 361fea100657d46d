"""Stage 4, engine: runs a Pulumi program under the SDK's mock runtime and records its resource graph.

Rule: imports nothing of milvus_zones; any Pulumi Python program can be recorded.
"""
