"""Policy objects of the milvus-zones pack (built into a PolicyPack only in policies/__main__.py)."""
