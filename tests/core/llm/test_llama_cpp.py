from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.llm.llama_cpp import LlamaCppModel


def test_a_missing_model_file_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"scripts/setup\.sh"):
        LlamaCppModel.load(tmp_path / "absent.gguf", n_ctx=512, n_threads=1)
