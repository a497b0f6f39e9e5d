"""Prometheus metrics of one running app: requests, per-stage latency, answers and escalations by
reason, tier-2 share, tokens, and the queue (size by status, age of the oldest waiting case).

Each app has a registry of its own, so tests (and several apps in one process) never share
counters. The queue figures are read from the database when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from assistant.escalations.models import QueueCounts
from assistant.pipeline.reply import Reply

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120)


class _QueueCollector(Collector):
    def __init__(self, counts: Callable[[], QueueCounts]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._counts()
        except Exception:
            return
        size = GaugeMetricFamily("tether_queue_cases", "Escalations by status", labels=["status"])
        for status, n in counts.by_status.items():
            size.add_metric([status], n)
        yield size
        yield GaugeMetricFamily(
            "tether_queue_waiting", "Cases waiting for an agent", value=counts.waiting
        )
        yield GaugeMetricFamily(
            "tether_queue_overdue", "Open or claimed cases past their SLA", value=counts.overdue
        )
        yield GaugeMetricFamily(
            "tether_queue_oldest_waiting_seconds",
            "Age of the oldest waiting case",
            value=(counts.oldest_waiting_minutes or 0.0) * 60,
        )


class Metrics:
    def __init__(self, queue_counts: Callable[[], QueueCounts] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "tether_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.stage_seconds = Histogram(
            "tether_stage_seconds",
            "Time per message-path stage",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.messages = Counter(
            "tether_messages", "Customer messages by outcome", ["outcome"], registry=r
        )
        self.escalations = Counter(
            "tether_escalations", "Escalations by reason code", ["reason"], registry=r
        )
        self.checked = Counter(
            "tether_checked_answers",
            "Answers checked by the guardrails, by deciding tier",
            ["tier"],
            registry=r,
        )
        self.tokens = Counter("tether_tokens", "Model tokens", ["kind"], registry=r)
        if queue_counts is not None:
            r.register(_QueueCollector(queue_counts))

    def observe_reply(self, reply: Reply) -> None:
        for stage, ms in reply.latency_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000)
        outcome = "answered" if reply.answered else "declined" if reply.declined else "escalated"
        self.messages.labels(outcome).inc()
        if outcome == "escalated":
            for reason in reply.verdict.codes:
                self.escalations.labels(reason).inc()
        if reply.verdict.tier in (1, 2):
            self.checked.labels(str(reply.verdict.tier)).inc()
        self.tokens.labels("prompt").inc(reply.prompt_tokens)
        self.tokens.labels("completion").inc(reply.completion_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
