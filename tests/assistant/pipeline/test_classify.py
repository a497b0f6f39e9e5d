from pathlib import Path

import pytest

from assistant.pipeline.classify import UNKNOWN, IssueClassifier, load_taxonomy
from assistant.settings import SAMPLE_KB
from core.embeddings import HashingEmbedder
from core.errors import ConfigurationError
from tests.conftest import TAXONOMY


def test_classifies_a_message_into_its_issue_type(classifier: IssueClassifier) -> None:
    result = classifier.classify("I forgot my password and can't log in")
    assert result.issue_type == "account_access"
    assert result.known
    assert 0.0 < result.confidence <= 1.0


def test_below_the_threshold_the_type_is_unknown(embedder: HashingEmbedder) -> None:
    strict = IssueClassifier.from_taxonomy(TAXONOMY, embedder, threshold=0.99)
    result = strict.classify("something about the weather")
    assert result.issue_type == UNKNOWN
    assert result.best_guess in TAXONOMY.names


def test_the_sample_taxonomy_loads_with_examples_for_every_type() -> None:
    taxonomy = load_taxonomy(SAMPLE_KB / "taxonomy.yaml")
    assert len(taxonomy.issue_types) >= 10
    assert all(len(t.examples) >= 8 for t in taxonomy.issue_types)


def test_an_invalid_taxonomy_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text("issue_types:\n  - name: only\n")
    with pytest.raises(ConfigurationError, match="invalid"):
        load_taxonomy(path)


def test_one_label_cannot_train_a_classifier(embedder: HashingEmbedder) -> None:
    with pytest.raises(ConfigurationError, match="two issue types"):
        IssueClassifier(embedder).fit(["a", "b"], ["x", "x"])


def test_classify_before_fit_is_a_usage_error(embedder: HashingEmbedder) -> None:
    with pytest.raises(ConfigurationError, match="before fit"):
        IssueClassifier(embedder).classify("hello")
