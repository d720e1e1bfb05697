"""The demo shop-and-blog domain that the tools work on, so the main job runs out of the box."""
