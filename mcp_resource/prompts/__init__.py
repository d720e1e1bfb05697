"""The prompt mechanism: one class per prompt (base.py), found through the `drawbridge.prompts`
entry points (registry.py). The demo's own prompts are in mcp_resource/demo/prompts.py."""
