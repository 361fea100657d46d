"""Stage 5, analysis: readers of a recorded graph and their reports (plan views, the offline policy
check, zone-loss figures, the comparison table).

Rule: imports engine, planning and the policy pack (milvus_zones_policies); never components.
"""
