"""Stage 6, operations: changes to a running deployment planned offline (switchover, ...).

Rule: may import every earlier stage but components; nothing imports it except the CLI.
"""
