"""Reading one sample out of a Prometheus text exposition."""

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> str:
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.text


def sample(text: str, name: str, **labels) -> float:
    """The value of the sample `name` with exactly these labels (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return 0.0


def total(text: str, name: str) -> float:
    """The sum of every sample named `name`, whatever its labels."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )
