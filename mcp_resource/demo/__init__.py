"""The demo shop-and-blog domain, so the main job runs out of the box: its models, seed data and
tools (demo/tools/, registered as `drawbridge.tools` entry points in pyproject.toml)."""
