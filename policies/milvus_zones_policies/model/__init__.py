"""The model shared by the policy pack and milvus-zones' `failures`/`compare`.

names (what stacks and pack agree on) -> values (reading properties) -> deployment (what runs where,
read from resources) -> recovery (a zone or region loss, step by step, with its parameters);
resources adapts a recorded graph to the shape the pack receives. Pure: no Pulumi engine, no I/O.
"""
