"""YAML parsed by libyaml, PyYAML's C parser (part of its wheels), with the safe constructor and
resolver of ``yaml.safe_load``: the same values, about 15 times faster. The bundled compliance
policy (11 kB) took 4.7 ms with the pure-Python parser and 0.3 ms with libyaml, 2026-12-02; it
is read each time an assistant is built, and the profile each time the settings are."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader as Loader  # type: ignore[assignment]


def safe_load(text: str) -> Any:
    """What ``yaml.safe_load(text)`` gives; raises ``yaml.YAMLError`` for a text that is no YAML."""
    return yaml.load(text, Loader=Loader)
