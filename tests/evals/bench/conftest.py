"""A small benchmark on fakes: the shared test articles, eight cases, a scripted model that
answers each case with its reference answer (or plants a regression), and a hashing embedder."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from core.llm.base import ChatMessage
from tests.conftest import ARTICLES, TAXONOMY

CASES = [
    {
        "id": "c1",
        "question": "Refunds for damaged items must be requested within how many days of delivery?",
        "gold_article_ids": ["ref-001"],
        "issue_type": "refunds",
        "reference_answer": "Refunds for missing or damaged items must be requested within 7 days "
        "of delivery.",
        "tags": ["plain"],
    },
    {
        "id": "c2",
        "question": "How much does each Instant Pay cash-out cost?",
        "gold_article_ids": ["pay-002"],
        "issue_type": "payments_and_pay",
        "reference_answer": "Each Instant Pay cash-out costs $0.85.",
        "tags": ["plain"],
    },
    {
        "id": "c3",
        "question": "How many times per day can I cash out with Instant Pay?",
        "gold_article_ids": ["pay-002"],
        "issue_type": "payments_and_pay",
        "reference_answer": "You can cash out up to 5 times per day from Earnings > Instant Pay.",
        "tags": ["plain"],
    },
    {
        "id": "c4",
        "question": "When does the password reset link expire?",
        "gold_article_ids": ["acct-001"],
        "issue_type": "account_access",
        "reference_answer": "The reset link expires after 30 minutes.",
        "tags": ["plain"],
    },
    {
        "id": "c5",
        "question": "I have 30 days to ask for a refund for missing items, right?",
        "gold_article_ids": ["ref-001"],
        "issue_type": "refunds",
        "reference_answer": "Refunds for missing or damaged items must be requested within 7 days "
        "of delivery.",
        "tags": ["policy_trap"],
    },
    {
        "id": "c6",
        "question": "After how many deliveries does Instant Pay unlock?",
        "gold_article_ids": ["pay-002"],
        "issue_type": "payments_and_pay",
        "reference_answer": "Instant Pay unlocks after 25 deliveries.",
        "tags": ["plain"],
    },
    {
        "id": "c7",
        "conversation": [
            {"role": "user", "text": "My order arrived with a damaged item."},
            {"role": "assistant", "text": "Sorry! What would you like to do?"},
            {"role": "user", "text": "Within how many days of delivery must refunds be requested?"},
        ],
        "gold_article_ids": ["ref-001"],
        "issue_type": "refunds",
        "reference_answer": "Refunds for missing or damaged items must be requested within 7 days "
        "of delivery.",
        "tags": ["multi_turn"],
    },
    {
        "id": "c8",
        "question": "Can I pay for my groceries with bitcoin?",
        "gold_article_ids": [],
        "expect": "escalate",
        "tags": ["out_of_kb"],
    },
]

DEADLINE = "Refunds for missing or damaged items must be requested within 7 days of delivery."
for n, question in enumerate(
    [
        "For missing items, refunds must be requested within how many days after delivery?",
        "Damaged item refunds: they must be requested within how many days of delivery?",
        "Refunds for missing items must be requested within what deadline after delivery?",
        "Within how many days of delivery must refunds for missing or damaged items be requested?",
    ],
    start=9,
):
    CASES.append(
        {
            "id": f"c{n}",
            "question": question,
            "gold_article_ids": ["ref-001"],
            "issue_type": "refunds",
            "reference_answer": DEADLINE,
            "tags": ["plain"],
        }
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "articles.jsonl").write_text(
        "".join(
            json.dumps(a.model_dump(include={"id", "title", "issue_type", "text"})) + "\n"
            for a in ARTICLES
        )
    )
    (folder / "questions.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CASES))
    taxonomy = {"issue_types": [t.model_dump() for t in TAXONOMY.issue_types]}
    (folder / "taxonomy.yaml").write_text(json.dumps(taxonomy))
    return folder


Responder = Callable[[Sequence[ChatMessage]], str]

_CORE = re.compile(r"Core issue: (.*)$", re.S)


def responder(
    *, plant_deadline: bool = False, cite: bool = True, every_other: bool = False
) -> Responder:
    """Answers each case with its reference answer; judges and scores kindly.

    ``plant_deadline`` swaps "7 days" for "30 days" (the planted regression); ``cite=False``
    answers without citations, as a prompt that drops the citation instruction would;
    ``every_other`` plants the wrong deadline on every second deadline answer only (a flaky model).
    """
    deadline_answers = {"n": 0}
    by_question = {
        str(c.get("question") or c["conversation"][-1]["text"]): c  # type: ignore[index]
        for c in CASES
    }

    def respond(messages: Sequence[ChatMessage]) -> str:
        system, user = messages[0].content, messages[-1].content
        if system.startswith("You grade"):
            return json.dumps(
                {
                    "rationale": "fine",
                    "accuracy": 5,
                    "grounding": 5,
                    "coherence": 5,
                    "relevance": 5,
                    "language": 5,
                }
            )
        if system.startswith("You find problems"):
            ok = "30 days" not in user
            verdict = {"rationale": "checked", "ok": ok}
            return json.dumps({"grounding": verdict, "coherence": verdict, "compliance": verdict})
        match = _CORE.search(user)
        question = match.group(1).strip() if match else ""
        case = next((c for q, c in by_question.items() if q in question), None)
        if case is None or case.get("expect") == "escalate":
            return json.dumps(
                {"reasoning": "not covered", "answerable": False, "answer": "", "citations": []}
            )
        answer = str(case["reference_answer"])
        if "7 days" in answer:
            deadline_answers["n"] += 1
            if plant_deadline or (every_other and deadline_answers["n"] % 2 == 0):
                answer = answer.replace("7 days", "30 days")
        citations = list(case["gold_article_ids"]) if cite else []  # type: ignore[call-overload]
        return json.dumps(
            {
                "reasoning": "from the passage",
                "answerable": True,
                "answer": answer,
                "citations": citations,
            }
        )

    return respond
