"""A new business profile: a folder with a short example of every file (``tether init DIR``).

The example files are in ``template/`` next to this module: ``profile.yaml`` (the business's
name and customers filled in), two articles, a taxonomy, priorities, a compliance policy and
two golden questions. Replace them with the business's own and run ``tether check DIR``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from string import Template

from core.errors import ConfigurationError
from core.profile import PROFILE_FILE

TEMPLATE = Path(__file__).resolve().parent / "template"


def _quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def scaffold(directory: Path, *, name: str, customers: str) -> list[Path]:
    """Write the example profile into ``directory`` (new, or empty); the files written."""
    if not name.strip() or not customers.strip():
        raise ConfigurationError("a profile needs a business name and who its customers are")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConfigurationError(f"{directory} already exists and is not an empty folder")
    shutil.copytree(TEMPLATE, directory, dirs_exist_ok=True)
    profile = directory / PROFILE_FILE
    one_line = " ".join(name.split())
    text = Template(profile.read_text(encoding="utf-8")).substitute(
        name=one_line, customers=_quoted(customers.strip()), directory=directory
    )
    # The name as a value, and inside the decline message's quotes.
    text = text.replace(f"name: {one_line}\n", f"name: {_quoted(one_line)}\n", 1)
    text = text.replace(f"about {one_line}.", f"about {_quoted(one_line)[1:-1]}.", 1)
    profile.write_text(text, encoding="utf-8")
    return sorted(p for p in directory.rglob("*") if p.is_file())
