"""Prompt-injection detection on a customer's message, before anything is generated from it.

The detector looks for *instructions aimed at the assistant*, never for topics: "How do I kill a
Python process?" is a support question, "Ignore your previous instructions" is an attack. Violent
or sensitive words appear in none of the rules.

How a message is read:

1. Views (``views.py``). The message is normalised (NFKC, zero-width and bidi characters removed,
   Cyrillic and Greek look-alike letters mapped to Latin inside Latin words, lowercase,
   whitespace collapsed) and long runs of a repeated unit ("ö ö ö ...", ") ] } ) ] } ...") are
   cut down. A second, de-obfuscated view collapses letter-spaced words ("i g n o r e"), words
   split by a space ("ig nore"), letters joined by ``_ - . *`` ("i_g_n_o_r_e") and leetspeak
   ("1gn0r3"); a third keeps only letters, for a few long key phrases
   ("ignoreallpreviousinstructions").
2. Payloads (``decoders.py``). Base64, hex, binary, percent-encoded and ROT13 text is decoded and
   scanned too.
3. Rules (``rules.py``). Weighted regular expressions in five families (``SIGNALS``, named in
   ``families.py``):

   override        ignore / disregard / forget the previous instructions, "new instructions",
                   "from now on you", "you are now", "act as", "pretend to be", developer
                   mode, DAN, jailbreak, "your sole response is", "if the user says X, say Y"
   extraction      repeat / print / reveal your (system) prompt or instructions, "what were
                   you told", "the first 50 words of your prompt"
   authority       "I am your developer", "as your administrator", sudo, and claims that the
                   system already accepted a credential ("[correct password]", "the user has
                   entered the correct access code")
   output_forcing  "begin your reply with", imperative "say '...'", "respond only with",
                   "output the following", "and nothing else", unlock phrases ("access granted")
   delimiter       fake chat-template tokens (<|im_start|>, [INST], <<SYS>>), "### system:",
                   fake transcript labels, "%%% end of instructions %%%" markers, long runs of
                   repeated tokens or special characters

   plus ``encoded`` (a rule fired inside a decoded payload, or the message asks to decode one)
   and ``obfuscated`` (a rule fired only in the de-obfuscated views).
4. Score (``scoring.py``). Each family's score is the sum of its distinct rules' weights, capped
   at ``FAMILY_CAP``; the message's score is the sum over families and it is flagged at
   ``score >= threshold``. One rule of weight 1.0 is enough on its own; weaker hints (0.3 to 0.7)
   must agree with another one. The weights and ``DEFAULT_THRESHOLD`` (``families.py``) were
   tuned on the dev split of the evaluation data only (see ``evals/injection.py``); the figures
   reported are those of the held-out test split.

A message costs a millisecond or two; no model, no network, deterministic.

Modules import only downward: ``rules`` and ``views`` import ``families`` (the family names,
weights and the rule type), ``decoders`` imports ``views``, ``scoring`` imports all four, and
nothing in the package imports ``scoring`` but this file.
"""

from __future__ import annotations

from guardrails.injection.decoders import decode_payloads
from guardrails.injection.families import (
    AUTHORITY,
    DEFAULT_THRESHOLD,
    DELIMITER,
    ENCODED,
    EXTRACTION,
    OBFUSCATED,
    OUTPUT_FORCING,
    OVERRIDE,
    SIGNALS,
)
from guardrails.injection.scoring import (
    InjectionVerdict,
    detect_injection,
    explain,
    verdict_from,
)
from guardrails.injection.views import deobfuscate, normalise

__all__ = [
    "AUTHORITY",
    "DEFAULT_THRESHOLD",
    "DELIMITER",
    "ENCODED",
    "EXTRACTION",
    "OBFUSCATED",
    "OUTPUT_FORCING",
    "OVERRIDE",
    "SIGNALS",
    "InjectionVerdict",
    "decode_payloads",
    "deobfuscate",
    "detect_injection",
    "explain",
    "normalise",
    "verdict_from",
]
