from __future__ import annotations

import numpy as np
import pytest

from assistant.monitoring.gaps import GapItem, GapSource, cluster_gaps, cluster_label, words
from core.embeddings import HashingEmbedder

TOPICS = {
    "crypto": [
        "Crypto payment with bitcoin?",
        "Is crypto payment accepted?",
        "Crypto payment via ethereum wallet",
        "Paying by crypto payment possible?",
        "Crypto payment refused today",
        "Crypto payment in USDT",
    ],
    "pet": [
        "Pet delivery for dogs?",
        "Pet delivery on Saturday",
        "Pet delivery price",
        "Pet delivery in a crate",
        "Live pet delivery allowed?",
        "Pet delivery tracking for my cat",
    ],
    "gift": [
        "Gift wrapping with ribbon?",
        "Is gift wrapping free?",
        "Gift wrapping and a card",
        "Gift wrapping for a birthday",
        "Add gift wrapping later",
        "Gift wrapping paper colours",
    ],
}
SINGLETONS = [
    "Reset password link expired",
    "App crashes on startup",
    "Warranty on a broken blender",
    "Newsletter language French",
]
SOURCES: tuple[GapSource, ...] = ("escalation", "low_judge_score", "low_retrieval")


def _items() -> list[GapItem]:
    items: list[GapItem] = []
    for topic, texts in TOPICS.items():
        for i, text in enumerate(texts):
            items.append(
                GapItem(
                    id=f"{topic}-{i}",
                    text=text,
                    source=SOURCES[i % 3],
                    answer=f"Agent answer about {topic} #{i}" if i < 2 else None,
                )
            )
    # Interleave the singletons so order in the input does not matter.
    for i, text in enumerate(SINGLETONS):
        items.insert(4 * i + 1, GapItem(id=f"single-{i}", text=text, source="escalation"))
    return items


def test_planted_topics_are_found_and_singletons_dropped() -> None:
    items = _items()
    vectors = HashingEmbedder().embed_batch([item.text for item in items])
    # The hashing embedder is much coarser than a sentence model: paraphrases sit about
    # 0.45-0.66 apart in cosine distance, so the cut is placed higher than the default.
    clusters = cluster_gaps(items, vectors, distance_threshold=0.65)
    assert len(clusters) == 3
    by_topic = {}
    for cluster in clusters:
        topics = {item.id.split("-")[0] for item in cluster.items}
        assert len(topics) == 1, cluster.label
        by_topic[topics.pop()] = cluster
    assert set(by_topic) == {"crypto", "pet", "gift"}
    for topic, cluster in by_topic.items():
        assert [item.id for item in cluster.items] == [f"{topic}-{i}" for i in range(6)]
        assert cluster.size == 6
        assert topic in cluster.label.split()
        assert len(cluster.label.split()) == 3
        assert cluster.examples == TOPICS[topic][:5]
        assert cluster.answers == [f"Agent answer about {topic} #{i}" for i in range(2)]
        assert cluster.sources == {"escalation": 2, "low_judge_score": 2, "low_retrieval": 2}
    assert by_topic["crypto"].label.startswith("crypto payment ")
    assert by_topic["pet"].label.startswith("pet delivery ")
    assert by_topic["gift"].label.startswith("gift wrapping ")
    clustered = {item.id for cluster in clusters for item in cluster.items}
    assert not any(cid.startswith("single") for cid in clustered)


def _unit(rows: list[list[float]]) -> np.ndarray:
    arr = np.asarray(rows, dtype=np.float64)
    unit: np.ndarray = arr / np.linalg.norm(arr, axis=1, keepdims=True)
    return unit


def test_hand_made_vectors_cluster_at_the_default_threshold_largest_first() -> None:
    texts = ["refund late", "refund slow", "refund delayed", "lost parcel", "lost box", "odd one"]
    items = [GapItem(id=str(i), text=t, source="low_retrieval") for i, t in enumerate(texts)]
    vectors = _unit(
        [
            [1.0, 0.1, 0.0, 0.0],
            [1.0, 0.0, 0.1, 0.0],
            [1.0, 0.05, 0.05, 0.0],
            [0.0, 1.0, 0.0, 0.1],
            [0.1, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    clusters = cluster_gaps(items, vectors)
    assert [[item.id for item in c.items] for c in clusters] == [["0", "1", "2"], ["3", "4"]]
    assert clusters[0].label.split()[0] == "refund"
    assert clusters[1].label.split()[0] == "lost"
    assert clusters[0].answers == []
    assert clusters[0].sources == {"low_retrieval": 3}
    singles = cluster_gaps(items, vectors, min_size=1)
    assert [c.size for c in singles] == [3, 2, 1]


def test_examples_are_capped_and_answers_deduplicated() -> None:
    items = [
        GapItem(id=str(i), text=f"voucher code {i}", source="escalation", answer=answer)
        for i, answer in enumerate(["Use it at checkout", "Use it at checkout", " ", None] * 2)
    ]
    vectors = np.tile(_unit([[1.0, 0.0]]), (len(items), 1))
    (cluster,) = cluster_gaps(items, vectors)
    assert cluster.size == 8
    assert cluster.examples == [f"voucher code {i}" for i in range(5)]
    assert cluster.answers == ["Use it at checkout"]
    assert cluster.label.startswith("voucher code")


def test_fewer_than_two_items() -> None:
    assert cluster_gaps([], np.zeros((0, 4))) == []
    one = [GapItem(id="1", text="Refund for a gift card", source="escalation")]
    vector = _unit([[1.0, 0.0]])
    assert cluster_gaps(one, vector) == []
    (cluster,) = cluster_gaps(one, vector, min_size=1)
    assert cluster.size == 1
    assert cluster.label == "refund gift card"


def test_labels_skip_stopwords_and_rank_by_how_many_texts_use_a_word() -> None:
    assert words("Can I pay with my card? It's 2 weeks late, the order's stuck") == [
        "pay",
        "card",
        "weeks",
        "late",
        "order",
        "stuck",
    ]
    texts = ["where is my parcel", "parcel lost in transit", "parcel never arrived, lost"]
    # parcel: 3 texts; lost: 2; then one text each, first seen wins: transit before arrived.
    assert cluster_label(texts) == "parcel lost transit"
    assert cluster_label(texts, size=1) == "parcel"
    assert cluster_label([]) == ""


def test_bad_vectors_are_rejected() -> None:
    items = [GapItem(id=str(i), text="x", source="escalation") for i in range(2)]
    with pytest.raises(ValueError, match="one vector per item"):
        cluster_gaps(items, _unit([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="2-d"):
        cluster_gaps(items, np.ones(2))
    with pytest.raises(ValueError, match="non-zero"):
        cluster_gaps(items, np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        cluster_gaps(items, np.array([[1.0, 0.0], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="distance_threshold"):
        cluster_gaps(items, _unit([[1.0, 0.0], [0.0, 1.0]]), distance_threshold=0.0)
    with pytest.raises(ValueError, match="min_size"):
        cluster_gaps(items, _unit([[1.0, 0.0], [0.0, 1.0]]), min_size=0)
