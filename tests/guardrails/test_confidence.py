import math
from pathlib import Path

import pytest

from core.embeddings import HashingEmbedder
from core.errors import ConfigurationError
from guardrails.confidence import (
    DEFAULT_PATH,
    AnswerSignals,
    ConfidenceModel,
    load_confidence_model,
    question_similarity,
    save_confidence_model,
)

MODEL = ConfidenceModel(
    decline_log_odds=-1.0, question_similarity=4.0, retrieval_best=2.0, bias=-3.0, threshold=0.5
)


def test_the_confidence_is_the_logistic_of_the_weighted_signals() -> None:
    read = AnswerSignals(decline_probability=0.2, question_similarity=0.5, retrieval_best=0.6)
    score = -3.0 - math.log(0.2 / 0.8) + 4.0 * 0.5 + 2.0 * 0.6
    assert MODEL.confidence(read) == pytest.approx(1 / (1 + math.exp(-score)))
    assert MODEL.shows(read)


def test_a_likelier_decline_or_an_answer_further_from_the_question_lowers_it() -> None:
    base = AnswerSignals(decline_probability=0.05, question_similarity=0.6, retrieval_best=0.6)
    doubt = base.model_copy(update={"decline_probability": 0.5})
    far = base.model_copy(update={"question_similarity": 0.1})
    assert MODEL.confidence(doubt) < MODEL.confidence(base)
    assert MODEL.confidence(far) < MODEL.confidence(base)
    assert not MODEL.shows(far.model_copy(update={"decline_probability": 0.9}))


def test_a_certain_probability_of_declining_stays_finite() -> None:
    for p in (0.0, 1.0):
        read = AnswerSignals(decline_probability=p, question_similarity=0.5, retrieval_best=0.5)
        assert 0.0 < MODEL.confidence(read) < 1.0


def test_similarity_to_the_question_is_the_mean_cosine_of_the_sentences() -> None:
    embedder = HashingEmbedder()
    question = "How do I reset my password?"
    same = question_similarity(question, [question], embedder)
    mixed = question_similarity(question, [question, "Deliveries arrive on Tuesdays."], embedder)
    assert same == pytest.approx(1.0, abs=1e-6)
    assert mixed < same
    assert question_similarity(question, [], embedder) == 0.0


def test_the_model_round_trips_through_its_file(tmp_path: Path) -> None:
    path = tmp_path / "confidence.yaml"
    save_confidence_model(MODEL.model_copy(update={"fitted_on": "80 dev cases"}), path)
    assert load_confidence_model(path).fitted_on == "80 dev cases"
    assert load_confidence_model(path).confidence(
        AnswerSignals(decline_probability=0.1, question_similarity=0.4, retrieval_best=0.5)
    ) == pytest.approx(
        MODEL.confidence(
            AnswerSignals(decline_probability=0.1, question_similarity=0.4, retrieval_best=0.5)
        )
    )


@pytest.mark.parametrize(
    ("text", "problem"), [("bias: [", "while parsing"), ("bias: 1.0\n", "threshold")]
)
def test_a_broken_model_file_is_a_configuration_error(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "confidence.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=problem):
        load_confidence_model(path)


def test_the_bundled_model_was_fitted_on_the_dev_sets() -> None:
    bundled = load_confidence_model(DEFAULT_PATH)
    assert "dev" in bundled.fitted_on
    assert bundled.decline_log_odds < 0  # a likelier decline never raises the confidence
