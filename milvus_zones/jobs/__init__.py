"""In-cluster scripts, mounted by the components into their Jobs and Deployments and run there.

Rule: standard library (plus what a job's image installs) only, and nothing of milvus_zones: each
file runs alone in a pod.
"""
