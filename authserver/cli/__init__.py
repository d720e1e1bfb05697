"""The operator commands of `drawbridge`: one module per group (clients, users, keys, registration-tokens)."""
