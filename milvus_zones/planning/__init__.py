"""Stage 1, planning: stack settings -> validated spec -> topology plan, where every zone decision is made.

Rule: pure Python on validated models; imports nothing of milvus_zones outside this package (the
pack's shared names in milvus_zones_policies excepted), and neither Pulumi nor Kubernetes.
"""
