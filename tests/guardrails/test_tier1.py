from __future__ import annotations

from collections.abc import Sequence

import pytest

from core.embeddings import HashingEmbedder, Vectors
from guardrails.tier1 import attach_bare_replies, check_support, is_claimless, negates
from guardrails.verdict import SentenceFinding
from knowledge_base.articles import Passage
from tests.conftest import make_passage

THRESHOLD = 0.5


def passage(article_id: str, text: str, title: str = "Help") -> Passage:
    return make_passage(article_id, text, title=title)


REFUNDS = passage(
    "ref-001",
    "Refunds must be requested within 7 days of delivery. Open Orders, select the order and tap "
    "Get Help. Photos are required for damaged items.",
)
INSTANT_PAY = passage(
    "pay-002",
    "Each Instant Pay cash-out costs $0.85. You can cash out up to 5 times per day.",
    title="Instant Pay",
)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.batches.append(list(texts))
        return super().embed_batch(texts)


def check(answer: str, *, conversation: Sequence[str] = ()) -> list[SentenceFinding]:
    result = check_support(
        answer,
        [REFUNDS, INSTANT_PAY],
        embedder=HashingEmbedder(),
        threshold=THRESHOLD,
        conversation=conversation,
    )
    return result.findings


def test_a_sentence_close_to_a_passage_is_supported_with_its_evidence() -> None:
    result = check_support(
        "Each Instant Pay cash-out costs $0.85 [pay-002].",
        [REFUNDS, INSTANT_PAY],
        embedder=HashingEmbedder(),
        threshold=THRESHOLD,
    )
    assert result.passed
    (finding,) = result.findings
    assert finding.sentence == "Each Instant Pay cash-out costs $0.85."
    assert finding.evidence == "Each Instant Pay cash-out costs $0.85."
    assert finding.evidence_article_id == "pay-002"
    assert finding.score == pytest.approx(1.0)
    assert finding.basis == "passage"


def test_an_off_topic_sentence_is_flagged_with_its_nearest_window() -> None:
    result = check_support(
        "Open Orders and tap Get Help. Our office dog loves long walks in the park.",
        [REFUNDS, INSTANT_PAY],
        embedder=HashingEmbedder(),
        threshold=THRESHOLD,
    )
    assert [f.supported for f in result.findings] == [True, False]
    flagged = result.flagged[0]
    assert flagged.score < THRESHOLD
    assert flagged.evidence_article_id in {"ref-001", "pay-002"}
    assert flagged.evidence != ""
    assert flagged.missing_facts == []


def test_planted_contradiction_is_flagged_with_the_missing_fact() -> None:
    result = check_support(
        "You can request a refund within 30 days.",
        [passage("ref-001", "Refunds must be requested within 7 days of delivery.")],
        embedder=HashingEmbedder(),
        threshold=THRESHOLD,
    )
    (finding,) = result.findings
    assert not finding.supported
    assert finding.missing_facts == ["30 days"]
    assert finding.evidence_article_id == "ref-001"


def test_a_similar_sentence_with_a_fact_missing_is_unsupported() -> None:
    result = check_support(
        "Each Instant Pay cash-out costs $0.58.",
        [INSTANT_PAY],
        embedder=HashingEmbedder(),
        threshold=THRESHOLD,
    )
    (finding,) = result.findings
    assert finding.score >= THRESHOLD
    assert (finding.supported, finding.missing_facts) == (False, ["$0.58"])


@pytest.mark.parametrize(
    "sentence",
    [
        "Hi Sam!",
        "I'm sorry to hear that.",
        "Thanks for reaching out.",
        "Let me know if there is anything else I can help with.",
        "Is there anything else I can help with?",
        "Could you share your order number?",
        "Here's what you can do:",
    ],
)
def test_claimless_sentences(sentence: str) -> None:
    assert is_claimless(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm sorry, but refunds are not possible after a week.",
        "Thanks for waiting, your refund of $45 is approved.",
        "Refunds take 7 days.",
        "I understand your frustration, and I've issued a full refund to your card plus a credit.",
    ],
)
def test_claims_are_not_claimless(sentence: str) -> None:
    assert not is_claimless(sentence)


def test_claimless_sentences_are_not_flagged() -> None:
    findings = check("Hi Sam! I'm sorry to hear that. Is there anything else I can help with?")
    assert [(f.supported, f.basis) for f in findings] == [(True, "claimless")] * 3


def test_a_question_with_a_quantity_missing_from_the_evidence_is_flagged() -> None:
    (finding,) = check("Would you like a $50 credit?")
    assert (finding.supported, finding.missing_facts) == (False, ["$50"])


def test_restating_the_customer_is_supported_by_the_conversation() -> None:
    (finding,) = check(
        "Your burger arrived cold and soggy at dinner time.",
        conversation=["Hello. My burger arrived cold and soggy at dinner time."],
    )
    assert finding.supported
    assert finding.basis == "conversation"
    assert finding.evidence_article_id is None


def test_customer_numbers_support_a_restatement_of_them() -> None:
    (finding,) = check(
        "You requested a refund within 7 days for your $45.20 order.",
        conversation=["I requested a refund within 7 days for my $45.20 order."],
    )
    assert (finding.supported, finding.missing_facts) == (True, [])


def test_a_customer_question_does_not_ground_the_answer() -> None:
    (finding,) = check(
        "You can get a refund after 30 days.",
        conversation=["Can I get a refund after 30 days?"],
    )
    assert not finding.supported
    assert finding.missing_facts == ["30 days"]
    assert finding.basis == "passage"


def test_windows_join_consecutive_passage_sentences() -> None:
    text = "You become eligible once you have:\n- completed at least 25 deliveries."
    answer = "You become eligible once you have completed at least 25 deliveries."

    def best(window: int) -> tuple[float, str]:
        result = check_support(
            answer,
            [passage("pay-002", text)],
            embedder=HashingEmbedder(),
            threshold=0.9,
            window=window,
        )
        return result.findings[0].score, result.findings[0].evidence

    narrow, wide = best(1), best(2)
    assert wide[0] > narrow[0]
    assert wide[1] == "You become eligible once you have: completed at least 25 deliveries."


def test_one_embedding_call_per_check() -> None:
    embedder = CountingEmbedder()
    check_support(
        "Refunds take 7 days. Each cash-out costs $0.85. Thanks!",
        [REFUNDS, INSTANT_PAY, REFUNDS],
        embedder=embedder,
        threshold=THRESHOLD,
        conversation=["My order was late."],
    )
    (batch,) = embedder.batches
    assert batch[:3] == ["Refunds take 7 days.", "Each cash-out costs $0.85.", "Thanks!"]
    assert len(batch) == len(set(batch))  # the repeated passage is embedded once


def test_bare_yes_or_no_is_checked_with_its_neighbour() -> None:
    assert attach_bare_replies(["No.", "It is automatic."]) == ["No. It is automatic."]
    assert attach_bare_replies(["It is automatic.", "Yes!"]) == ["It is automatic. Yes!"]
    assert attach_bare_replies(["No."]) == ["No."]


def test_empty_answer_has_no_findings() -> None:
    result = check_support("", [REFUNDS], embedder=HashingEmbedder(), threshold=THRESHOLD)
    assert result.findings == []
    assert result.passed


def test_without_passages_every_claim_is_unsupported() -> None:
    result = check_support(
        "Refunds take 7 days.", [], embedder=HashingEmbedder(), threshold=THRESHOLD
    )
    (finding,) = result.findings
    assert (finding.supported, finding.score, finding.evidence) == (False, 0.0, "")


def test_a_sentence_sharing_too_few_words_with_the_evidence_is_flagged_however_similar() -> None:
    passage = make_passage("ref-001", "Refunds must be requested within 7 days of delivery.")
    answer = "Refunds must be requested within 7 days of delivery by our office dog."
    loose = check_support(answer, [passage], embedder=HashingEmbedder(), threshold=-1.0)
    strict = check_support(
        answer, [passage], embedder=HashingEmbedder(), threshold=-1.0, min_coverage=0.8
    )
    (finding,) = loose.findings
    assert finding.coverage == 5 / 7  # refund request 7 day deliveri, not offic dog
    assert loose.passed and not strict.passed


def test_the_customers_words_count_towards_coverage() -> None:
    passage = make_passage("ref-001", "Refunds must be requested within 7 days of delivery.")
    answer = "Your cold burger can be refunded within 7 days of delivery."
    alone = check_support(answer, [passage], embedder=HashingEmbedder(), threshold=-1.0)
    told = check_support(
        answer,
        [passage],
        embedder=HashingEmbedder(),
        threshold=-1.0,
        conversation=["My burger arrived cold."],
    )
    assert alone.findings[0].coverage < told.findings[0].coverage == 1.0


@pytest.mark.parametrize(
    "opener", ["Absolutely !", "Sure!", "Yeah.", "That's true.", "Yes, it is true."]
)
def test_an_interjection_opener_is_checked_with_the_claim_after_it(opener: str) -> None:
    assert attach_bare_replies([opener, "Refunds take 7 days."]) == [
        f"{opener} Refunds take 7 days."
    ]


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("You cannot get a refund.", True),
        ("Refunds aren't possible after 7 days.", True),
        ("We never charge for it.", True),
        ("No, refunds must be requested within 7 days.", False),  # the "No" answers a question
        ("Refunds must be requested within 7 days.", False),
        ("Notice the notification.", False),
    ],
)
def test_negates(text: str, negated: bool) -> None:
    assert negates(text) is negated


def test_a_negation_its_evidence_does_not_state_is_flagged_however_similar() -> None:
    passage = make_passage("ref-001", "Refunds can be requested within 7 days of delivery.")
    flipped = check_support(
        "Refunds cannot be requested within 7 days of delivery.",
        [passage],
        embedder=HashingEmbedder(),
        threshold=-1.0,
    )
    (finding,) = flipped.findings
    assert finding.unmatched_negation and not finding.supported
    stated = make_passage("ref-002", "Refunds cannot be requested after 7 days of delivery.")
    kept = check_support(
        "Refunds cannot be requested after 7 days.",
        [stated],
        embedder=HashingEmbedder(),
        threshold=-1.0,
    )
    assert kept.passed


def test_a_yes_answering_the_customers_question_goes_to_the_judge_not_past_it() -> None:
    passage = make_passage("promo-002", "You and your friend each get a $10 reward.")
    answer = "Yes, we both still get the $10 reward."
    asked = check_support(
        answer,
        [passage],
        embedder=HashingEmbedder(),
        threshold=-1.0,
        conversation=["She ordered a month after signing up. We both still get the $10, right?"],
    )
    (finding,) = asked.findings
    assert finding.coverage == 1.0  # its words are all in the passage...
    assert finding.answers_question and not asked.passed  # ...but it affirms the question
    told = check_support(
        answer,
        [passage],
        embedder=HashingEmbedder(),
        threshold=-1.0,
        conversation=["We both want the reward."],
    )
    assert told.passed  # no question asked: nothing to affirm


def test_the_judge_reads_each_claims_best_windows_in_passage_order() -> None:
    long = passage(
        "ref-009",
        "Refunds must be requested within 7 days of delivery. Our office is in Lisbon. "
        "The office dog is called Biscuit. Parking is free on weekends. "
        "Photos are required for damaged items.",
    )
    result = check_support(
        "Refunds must be requested within 7 days. Photos are required for damaged items. Thanks!",
        [INSTANT_PAY, long],
        embedder=HashingEmbedder(),
        threshold=THRESHOLD,
        window=1,
    )
    assert [p.article_id for p in result.judge_passages] == ["pay-002", "ref-009"]
    kept = result.judge_passages[1]
    assert kept.chunk.title == long.chunk.title
    # Three windows for each of two claims: the sentence no claim is near is left out, the gap
    # marked, and the kept sentences stay in the passage's order.
    assert kept.text == (
        "Refunds must be requested within 7 days of delivery. … The office dog is called"
        " Biscuit. Parking is free on weekends. Photos are required for damaged items."
    )


def test_a_claimless_answer_gives_the_judge_nothing_to_read() -> None:
    result = check_support(
        "Thanks for reaching out!", [REFUNDS], embedder=HashingEmbedder(), threshold=THRESHOLD
    )
    assert result.judge_passages == []
