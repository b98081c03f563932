"""Prometheus metrics of one bot process (a private registry, not the global one)."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Questions by platform and outcome, errors, latency, feedback, index size and age."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.questions = Counter(
            "playbook_questions",
            "Questions, by platform and outcome",
            ["platform", "outcome"],
            registry=r,
        )
        self.errors = Counter(
            "playbook_errors", "Errors while answering, by platform", ["platform"], registry=r
        )
        self.latency = Histogram(
            "playbook_answer_latency_seconds",
            "Time to compose an answer",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.feedback = Counter(
            "playbook_feedback", "Feedback on answers, by vote", ["vote"], registry=r
        )
        self.passages = Gauge("playbook_index_passages", "Passages in the index", registry=r)
        self.index_age = Gauge(
            "playbook_index_age_seconds", "Seconds since the loaded index was built", registry=r
        )
        self.connected = Gauge(
            "playbook_platform_connected",
            "1 when the platform is connected",
            ["platform"],
            registry=r,
        )
        self.reloads = Counter(
            "playbook_index_reloads", "Knowledge reloads, by result", ["result"], registry=r
        )

    def track_index(self, passages: Callable[[], int], built_at: Callable[[], float]) -> None:
        """Report the index size and age from callbacks (read at each scrape)."""
        self.passages.set_function(lambda: float(passages()))
        self.index_age.set_function(lambda: max(0.0, time.time() - built_at()))

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
