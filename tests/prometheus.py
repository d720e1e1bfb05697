"""Reading Prometheus' text exposition in tests."""

from __future__ import annotations

METRICS_TOKEN = "metrics-secret"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the series `name` whose labels include `labels` (0 when there is none)."""
    for line in text.splitlines():
        if (line.startswith(name + "{") or line.startswith(name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
