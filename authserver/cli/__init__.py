"""The operator commands of `drawbridge`: one module per group (clients, users, grants, keys, registration-tokens)."""
