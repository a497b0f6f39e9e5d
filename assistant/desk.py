"""The agents' use cases: take a case, hand it back, answer the customer, note, close the loop.

A resolution can also feed the knowledge base (a KB-gap item for admins) and the benchmark (a
regression case in the benchmark format, so the prompt suite reruns this conversation).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from assistant.escalations.drafts import compare
from assistant.escalations.models import EscalationRecord, NewEscalation
from assistant.escalations.priority import PriorityRules
from assistant.storage.conversations import StoredMessage
from assistant.storage.database import Database
from core.cases import BenchmarkCase, CaseTurn, Expectation, case_id_for


class RegressionRequest(BaseModel):
    """What the agent says a correct outcome would have been."""

    expect: Expectation = "answer"
    gold_article_ids: list[str] = Field(default_factory=list)
    issue_type: str | None = None
    tags: list[str] = Field(default_factory=list)


class AgentDesk:
    def __init__(self, database: Database, rules: PriorityRules) -> None:
        self.database = database
        self.rules = rules

    def escalate(self, new: NewEscalation) -> EscalationRecord:
        assignment = self.rules.assign(issue_type=new.issue_type, reasons=new.reasons)
        return self.database.escalations.add(new, level=assignment.level, rule=assignment.rule)

    def claim(self, escalation_id: str, agent: str) -> EscalationRecord:
        return self.database.escalations.claim(escalation_id, agent)

    def give_back(self, escalation_id: str, agent: str, note: str = "") -> EscalationRecord:
        return self.database.escalations.give_back(escalation_id, agent, note=note)

    def note(self, escalation_id: str, agent: str, text: str) -> EscalationRecord:
        return self.database.escalations.add_note(escalation_id, agent, text)

    def resolve(
        self,
        escalation_id: str,
        agent: str,
        *,
        reply: str,
        kb_gap: bool = False,
        regression: RegressionRequest | None = None,
    ) -> tuple[EscalationRecord, StoredMessage]:
        """Answer the customer and close the case; the audit trail records whether the reply
        sent the withheld draft unchanged, edited it or replaced it (assistant/escalations/
        drafts.py)."""
        record = self.database.escalations.get(escalation_id)
        case = regression_case(record, reply, regression) if regression is not None else None
        return self.database.escalations.resolve(
            escalation_id,
            agent,
            reply=reply,
            kb_gap=kb_gap,
            regression_case=case,
            draft=compare(record.evidence.withheld_answer, reply),
        )


def regression_case(
    record: EscalationRecord, reply: str, request: RegressionRequest
) -> BenchmarkCase:
    turns = [CaseTurn(role=t.role, text=t.text) for t in record.transcript if t.text.strip()]
    return BenchmarkCase(
        id=case_id_for(record.id),
        # A transcript without customer text (it should not happen) falls back to the core issue.
        conversation=turns or None,
        question=None if turns else record.core_issue,
        issue_type=request.issue_type or record.issue_type,
        gold_article_ids=request.gold_article_ids,
        reference_answer=reply,
        expect=request.expect,
        tags=list(dict.fromkeys(["regression", *record.reasons, *request.tags])),
        source=f"escalation:{record.id}",
    )
