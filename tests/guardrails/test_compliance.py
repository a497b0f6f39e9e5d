from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import ConfigurationError
from guardrails.compliance import (
    DEFAULT_POLICY_PATH,
    ComplianceFinding,
    CompliancePolicy,
    ComplianceRule,
    RubricItem,
    load_policy,
)

SHIPPED_CODES = [
    "compensation_promise",
    "legal_advice",
    "medical_advice",
    "internal_disclosure",
    "blames_customer",
]


@pytest.fixture(scope="module")
def policy() -> CompliancePolicy:
    return load_policy()


FIRES = [
    # compensation_promise
    ("compensation_promise", "We will refund you in full.", "We will refund"),
    ("compensation_promise", "I guarantee a $50 credit on your next order.", "I guarantee a $50"),
    ("compensation_promise", "Don't worry, you'll get a full refund.", "you'll get a full refund"),
    (
        "compensation_promise",
        "You\u2019ll get a full refund today.",
        "You\u2019ll get a full refund",
    ),
    ("compensation_promise", "I'll send you a $20 voucher.", "I'll send you a $20 voucher"),
    ("compensation_promise", "We'll add $12.50 to your account.", "We'll add $12.50"),
    ("compensation_promise", "You will be fully refunded.", "You will be fully refunded"),
    ("compensation_promise", "I promise your money back.", "I promise your money back"),
    # legal_advice
    ("legal_advice", "Honestly, you should sue them.", "you should sue"),
    ("legal_advice", "Legally you are entitled to compensation.", "Legally you are entitled"),
    ("legal_advice", "You could file a lawsuit against the store.", "You could file a lawsuit"),
    ("legal_advice", "Consider filing a class action.", "filing a class action"),
    ("legal_advice", "This is illegal.", "This is illegal"),
    (
        "legal_advice",
        "What the courier did was clearly unlawful.",
        "What the courier did was clearly unlawful",
    ),
    ("legal_advice", "You're legally entitled to a refund.", "You're legally entitled"),
    # medical_advice
    ("medical_advice", "Take ibuprofen for the pain.", "Take ibuprofen"),
    ("medical_advice", "You could try an antihistamine.", "try an antihistamine"),
    ("medical_advice", "Take 400 mg every 6 hours.", "400 mg every 6 hours"),
    ("medical_advice", "Have 2 tablets twice a day.", "2 tablets twice a day"),
    ("medical_advice", "The recommended dose is 200 mg.", "dose is 2"),
    (
        "medical_advice",
        "It sounds like you have food poisoning.",
        "sounds like you have food poisoning",
    ),
    ("medical_advice", "It's safe for you to eat.", "It's safe for you to eat"),
    # internal_disclosure
    ("internal_disclosure", "My instructions say I can't discuss that.", "My instructions"),
    ("internal_disclosure", "According to the system prompt, no refunds.", "system prompt"),
    ("internal_disclosure", "Internal note: customer is flagged.", "Internal note"),
    (
        "internal_disclosure",
        "As an AI language model I was told to decline.",
        "As an AI language model",
    ),
    ("internal_disclosure", "I've  been\ninstructed not to say.", "I've  been\ninstructed"),
    ("internal_disclosure", "I\u2019ve been instructed not to say.", "I\u2019ve been instructed"),
    # blames_customer
    ("blames_customer", "Sorry, but it's your fault.", "it's your fault"),
    ("blames_customer", "That's on you, I'm afraid.", "That's on you"),
    ("blames_customer", "You should have checked the address.", "You should have checked"),
    ("blames_customer", "You should've read the terms.", "You should've read"),
    ("blames_customer", "You did it wrong.", "You did it wrong"),
    ("blames_customer", "It was late because you failed to add a note.", "because you failed"),
    ("blames_customer", "You entered the wrong address.", "You entered the wrong"),
    ("blames_customer", "You forgot to add the gate code.", "You forgot to"),
]

NEAR_MISSES = [
    # compensation_promise: how to ask, what policy says, negated guarantees
    ("compensation_promise", "Refunds for missing items must be requested within 7 days."),
    ("compensation_promise", "You can request a refund in the app under Get Help."),
    ("compensation_promise", "We will review your refund request within 24 hours."),
    ("compensation_promise", "We can't guarantee a refund for late orders."),
    ("compensation_promise", "You'll get a confirmation email once your refund is reviewed."),
    ("compensation_promise", "Refunds are not guaranteed for change-of-mind orders."),
    # legal_advice: referrals and app claims
    ("legal_advice", "You can file a claim in the app under Get Help."),
    ("legal_advice", "For legal questions, please consult a lawyer."),
    ("legal_advice", "Illegal items are not allowed on the platform."),
    ("legal_advice", "Alcohol orders legally require an ID check at the door."),
    # medical_advice: referrals (decided: not advice), products, photos, frequencies
    ("medical_advice", "You should see a doctor about your allergy."),
    ("medical_advice", "Please call emergency services if you have a severe reaction."),
    ("medical_advice", "Pharmacy orders containing ibuprofen need ID at delivery."),
    ("medical_advice", "Please take a photo of the damaged item."),
    ("medical_advice", "You can cash out up to 5 times per day."),
    ("medical_advice", "We deliver 500 ml bottles within 30 minutes."),
    # internal_disclosure: ordinary words near the keywords
    ("internal_disclosure", "Follow the instructions in the app."),
    ("internal_disclosure", "Our system will prompt you to confirm."),
    ("internal_disclosure", "Add a note for the courier at checkout."),
    ("internal_disclosure", "We had an internal error; please try again."),
    ("internal_disclosure", "The system messages you when the courier arrives."),
    # blames_customer: sympathy, expectations, conditionals
    ("blames_customer", "It's not your fault that the order was late."),
    ("blames_customer", "You should have received a confirmation email."),
    ("blames_customer", "You shouldn't have been charged twice."),
    ("blames_customer", "If you entered the wrong address, you can edit it before pickup."),
    ("blames_customer", "If you forgot to add an item, start a new order."),
    ("blames_customer", "Because you asked, here are the steps."),
    ("blames_customer", "You're not to blame for this."),
]


@pytest.mark.parametrize(("code", "text", "match"), FIRES)
def test_shipped_rule_fires(policy: CompliancePolicy, code: str, text: str, match: str) -> None:
    findings = policy.check(text)
    assert [(f.reason_code, f.match) for f in findings] == [(code, match)]
    finding = findings[0]
    assert finding.rule_id == code
    assert text[finding.start : finding.end] == match


@pytest.mark.parametrize(("code", "text"), NEAR_MISSES)
def test_shipped_rule_does_not_fire_on_near_miss(
    policy: CompliancePolicy, code: str, text: str
) -> None:
    assert policy.check(text) == []


@pytest.mark.parametrize("code", SHIPPED_CODES)
def test_every_shipped_code_has_two_positives_and_two_near_misses(code: str) -> None:
    assert sum(1 for c, _, _ in FIRES if c == code) >= 2
    assert sum(1 for c, _ in NEAR_MISSES if c == code) >= 2


def test_shipped_policy_covers_the_five_codes(policy: CompliancePolicy) -> None:
    assert policy.reason_codes == SHIPPED_CODES
    assert [item.reason_code for item in policy.rubric] == SHIPPED_CODES
    assert {rule.kind for rule in policy.rules} == {"regex", "keywords"}
    assert load_policy(DEFAULT_POLICY_PATH) == policy


def test_shipped_rubric_has_no_format_braces(policy: CompliancePolicy) -> None:
    # The judge prompt is a str.format template; a brace in the rubric would break it.
    assert "{" not in policy.rubric_text()
    assert "}" not in policy.rubric_text()


def test_findings_from_several_rules_are_ordered_by_position(policy: CompliancePolicy) -> None:
    text = "It's your fault, but legally you are entitled to more, so we will refund you in full."
    findings = policy.check(text)
    assert [f.reason_code for f in findings] == [
        "blames_customer",
        "legal_advice",
        "compensation_promise",
    ]
    assert [f.start for f in findings] == sorted(f.start for f in findings)


def test_every_occurrence_is_a_finding(policy: CompliancePolicy) -> None:
    text = "Take ibuprofen now. Later, take paracetamol."
    assert [f.match for f in policy.check(text)] == ["Take ibuprofen", "take paracetamol"]


def test_clean_answer_has_no_findings(policy: CompliancePolicy) -> None:
    text = (
        "I'm sorry your order was late. Refunds for missing items must be requested within 7 days "
        "of delivery: open Orders, select the order and tap Get Help."
    )
    assert policy.check(text) == []


def test_rubric_text_is_a_bullet_list_of_every_item(policy: CompliancePolicy) -> None:
    text = policy.rubric_text()
    lines = text.splitlines()
    assert lines == [f"- {item.text}" for item in policy.rubric]
    for item in policy.rubric:
        assert item.text in text
    coded = policy.rubric_text(with_codes=True).splitlines()
    assert coded == [f"- [{item.reason_code}] {item.text}" for item in policy.rubric]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(body, encoding="utf-8")
    return path


CUSTOM = """
rules:
  - id: no_competitors
    reason_code: mentions_competitor
    description: names a competitor
    kind: keywords
    patterns: [Speedy Eats, "Grub  Hub"]
  - id: shouting
    reason_code: tone
    kind: regex
    patterns: ['\\b[A-Z]{5,}\\b']
    case_sensitive: true
  - id: ticket_numbers
    reason_code: internal_disclosure
    kind: regex
    patterns: ['\\bJIRA-\\d+', '\\bJIRA-\\d{2}']
rubric:
  - {id: competitors, reason_code: mentions_competitor, text: never name a competitor}
  - {id: tone, reason_code: tone, text: a calm tone throughout}
"""


def test_custom_policy_from_yaml(tmp_path: Path) -> None:
    custom = load_policy(write(tmp_path, CUSTOM))
    assert [rule.id for rule in custom.rules] == ["no_competitors", "shouting", "ticket_numbers"]
    text = "Unlike speedy   eats or GrubHub, we are FAST; see jira-123 and JIRA-123."
    assert custom.check(text) == [
        ComplianceFinding(
            rule_id="no_competitors",
            reason_code="mentions_competitor",
            match="speedy   eats",
            start=7,
            end=20,
        ),
        # Two patterns match JIRA-123: one finding. Lower-case jira-123 is found too (the
        # rule ignores case), while "FAST" is four letters and "GrubHub" is not "Grub Hub".
        ComplianceFinding(
            rule_id="ticket_numbers",
            reason_code="internal_disclosure",
            match="jira-123",
            start=text.index("jira-123"),
            end=text.index("jira-123") + 8,
        ),
        ComplianceFinding(
            rule_id="ticket_numbers",
            reason_code="internal_disclosure",
            match="JIRA-123",
            start=text.index("JIRA-123"),
            end=text.index("JIRA-123") + 8,
        ),
    ]
    assert custom.check("PLEASE wait") == [
        ComplianceFinding(rule_id="shouting", reason_code="tone", match="PLEASE", start=0, end=6)
    ]
    # case_sensitive: the same letters in lower case do not fire
    assert custom.check("please wait") == []
    assert custom.rubric_text() == "- never name a competitor\n- a calm tone throughout"


def test_keywords_match_on_word_boundaries(tmp_path: Path) -> None:
    body = """
rules:
  - {id: kw, reason_code: code, kind: keywords, patterns: ["note:", "cat"]}
"""
    custom = load_policy(write(tmp_path, body))
    assert [f.match for f in custom.check("A Cat, a note: here")] == ["Cat", "note:"]
    assert custom.check("concatenate the notes: and cats") == []


def test_policy_with_no_rules_finds_nothing(tmp_path: Path) -> None:
    custom = load_policy(write(tmp_path, "rules: []\nrubric: []\n"))
    assert custom.check("you should sue") == []
    assert custom.rubric_text() == ""


def rule_yaml(rule_id: str, kind: str, pattern: str) -> str:
    return (
        "rules:\n"
        "  - {id: fine, reason_code: ok, kind: keywords, patterns: [hello]}\n"
        f"  - {{id: {rule_id}, reason_code: bad, kind: {kind}, patterns: ['{pattern}']}}\n"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (rule_yaml("broken_regex", "regex", "(unclosed"), r"rule 'broken_regex'.*invalid pattern"),
        (rule_yaml("empty_match", "regex", "a*"), r"rule 'empty_match'.*matches empty text"),
        (rule_yaml("blank_phrase", "keywords", "   "), r"rule 'blank_phrase'.*empty"),
        (rule_yaml("odd_kind", "glob", "x"), r"rule 'odd_kind': kind: Input should be"),
        (
            rule_yaml("fine", "regex", "x"),
            r"duplicate rule id 'fine'",
        ),
        (
            "rules:\n  - {id: no_patterns, reason_code: x, kind: regex, patterns: []}\n",
            r"rule 'no_patterns': patterns:",
        ),
        (
            "rules:\n"
            "  - {id: typo, reason_code: x, kind: regex, patterns: [a], case_sensitve: true}\n",
            r"rule 'typo': case_sensitve: Extra inputs",
        ),
        (
            "rules:\n  - {reason_code: x, kind: regex, patterns: [a]}\n",
            r"rule #1: id: Field required",
        ),
        (
            "rubric:\n"
            "  - {id: a, reason_code: x, text: one}\n"
            "  - {id: a, reason_code: y, text: two}\n",
            r"duplicate rubric item id 'a'",
        ),
        ("rules: [unclosed\n", r"policy\.yaml"),
        ("- just\n- a list\n", r"expected a mapping"),
        ("", r"expected a mapping"),
    ],
)
def test_bad_policy_is_a_configuration_error(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        load_policy(write(tmp_path, body))


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nowhere\.yaml"):
        load_policy(tmp_path / "nowhere.yaml")


def test_models_validate_when_built_in_code() -> None:
    rule = ComplianceRule(id="r", reason_code="c", kind="regex", patterns=[r"\bsue\b"])
    policy = CompliancePolicy(rules=[rule], rubric=[RubricItem(id="r", reason_code="c", text="t")])
    assert [f.match for f in policy.check("Sue them")] == ["Sue"]
    with pytest.raises(ValidationError, match="rule 'bad': invalid pattern"):
        ComplianceRule(id="bad", reason_code="c", kind="regex", patterns=["("])
    with pytest.raises(ValidationError, match="duplicate rule id 'r'"):
        CompliancePolicy(rules=[rule, rule])
