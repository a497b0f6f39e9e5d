"""The rules as data: weighted regular expressions, each in one family.

``RULES`` are matched against the lowercase normalised and de-obfuscated views (``views.py``)
and against decoded payloads (``decoders.py``); ``SQUASHED_RULES`` against the letters-only
views. No rule is about a topic: only about instructions aimed at the assistant.
"""

from __future__ import annotations

import re

from guardrails.injection.families import (
    AUTHORITY,
    DELIMITER,
    EXTRACTION,
    OUTPUT_FORCING,
    OVERRIDE,
    Rule,
    rule,
)

# An opening quote or bracket: what follows is verbatim output.
_Q = "[\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\\[(<`]"
_INSTR = (
    r"(?:instructions?|rules?|prompts?|directives?|directions|commands?|guidelines|"
    r"constraints|programming|system prompt)"
)
_PRIOR = (
    r"(?:previous(?:ly)?|prior|above|preceding|earlier|former|old|older|original|initial|"
    r"out[ -]of[ -]date|outdated|foregoing|existing|default|system|other|current|given|"
    r"(?:above|previous|prior) and (?:below|following|future)|all)"
)
RULES: tuple[Rule, ...] = (
    # ---- override --------------------------------------------------------------------------
    rule(
        OVERRIDE,
        "ignore_previous",
        1.0,
        rf"\b(?:ignore|disregard|forget|override|bypass|discard|abandon|neglect|overlook)\b"
        rf"(?:\s+(?:all|any|every|of|the|your|these|those|each|and|or|/))*\s+{_PRIOR}\b"
        rf"(?:\s+[\w'/-]+){{0,2}}?\s+{_INSTR}\b",
    ),
    rule(
        OVERRIDE,
        "ignore_instructions",
        0.7,
        rf"\b(?:ignore|disregard|forget|override|bypass)\b(?:\s+(?:all|any|every|the|your|"
        rf"these|those))*\s+{_INSTR}\b",
    ),
    rule(
        OVERRIDE,
        "ignore_everything",
        1.0,
        r"\b(?:ignore|disregard|forget)\b\s+(?:all\s+|any\s+)?(?:the\s+)?(?:text|input|content|"
        r"everything|anything|words)\s*(?:\w+\s+){0,2}?"
        r"(?:except|but|other than|you (?:know|were|have|learned))\b",
    ),
    rule(
        OVERRIDE,
        "ignore_everything_around",
        0.7,
        r"\b(?:ignore|disregard|forget)\b\s+(?:all\s+|any\s+)?(?:the\s+)?(?:text|input|content|"
        r"everything|anything)\s+(?:(?:that\s+(?:is|was|comes)|written)\s+)?"
        r"(?:before|above|below|after)\b",
    ),
    rule(
        OVERRIDE,
        "ignore_other_instructions",
        0.7,
        rf"\b(?:ignore|disregard|forget)\b(?:\s+[\w'/-]+){{0,3}}?\s+{_INSTR}\s+"
        rf"(?:above|below|before|after|that|which|you)",
    ),
    rule(
        OVERRIDE,
        "instructions_void",
        1.0,
        r"\b(?:the\s+)?(?:previous|above|preceding|prior|earlier|old|original|following|these)\s+"
        r"(?:instructions?|rules|text|prompts?|simulation|commands)\s+"
        r"(?:is|are|was|were|has been|have been)\s+(?:now\s+|all\s+|completely\s+)?"
        r"(?:over|old|out[ -]of[ -]date|outdated|obsolete|invalid|void|fake|wrong|illegal|"
        r"cancell?ed|revoked|a (?:test|trick|joke)|an? (?:example|simulation)|not (?:valid|real))",
    ),
    rule(
        OVERRIDE,
        "out_of_date_instructions",
        1.0,
        r"\b(?:real|true|actual|new|fake)\s+instructions\s+(?:\w+\s+){0,2}?(?:start|begin|"
        r"follow)|\b(?:out[ -]of[ -]date|outdated|obsolete|distractor|fake)\s+instructions\b",
    ),
    rule(
        OVERRIDE,
        "keep_but",
        1.0,
        r"\b(?:keep|retain|remember)\s+(?:all\s+)?(?:of\s+)?your\s+(?:previous|prior|original|"
        r"current)\s+(?:instructions|rules|programming)\s*,?\s*(?:but|however|except)",
    ),
    rule(
        OVERRIDE,
        "new_instructions",
        0.6,
        r"\b(?:new|updated|revised|amended|real|actual|true|additional|extra|changed)\s+"
        r"(?:instructions?|rules|directives?|system prompt|prompt|programming|orders)\b",
    ),
    rule(
        OVERRIDE,
        "your_new_role",
        0.8,
        r"\byour\s+(?:new|revised|updated|real|true|only|sole|singular|primary|default)\s+"
        r"(?:instructions|rules|role|goal|mission|purpose|task|job|directive|persona|"
        r"response|reply|answer|output)\b",
    ),
    rule(
        OVERRIDE,
        "rules_changed",
        0.8,
        r"\b(?:i|we)\s+(?:have|'ve)\s+(?:changed|updated|modified|overridden|rewritten|reset)\s+"
        r"(?:the|your)\s+(?:rules|instructions|prompt|programming|settings)"
        r"|\b(?:your|the)\s+(?:rules|instructions|prompt|programming)\s+(?:have|has)\s+(?:been\s+)?"
        r"(?:changed|updated|amended|modified|overridden|replaced|reset)"
        r"|\bthe situation has changed\b|\bsystem (?:upgrade|override)\b"
        r"|\b(?:re-?programm?ed|reprogram)\b|\bpersonality has been\b",
    ),
    rule(
        OVERRIDE,
        "from_now_on",
        0.7,
        r"\bfrom now on\b,?\s+(?:you|your|only|always|never|respond|reply|answer|say|act)",
    ),
    rule(OVERRIDE, "you_are_now", 0.7, r"\byou\s+are\s+now\b(?!\s+(?:able|eligible|ready))"),
    rule(
        OVERRIDE,
        "role_play",
        0.6,
        r"\b(?:act|behave|respond)\s+as\s+(?:if\s+you|though\s+you|an?\s+(?:ai|assistant|"
        r"unrestricted|unfiltered|different|evil|python|linux|terminal|interpreter|console)|my\s+"
        r"(?:deceased|dead|grandma|grandmother))"
        r"|\b(?:take|play|assume)\s+(?:on\s+)?the\s+role\s+of\b|\brole-?play\s+as\b"
        r"|\bimagine\s+(?:that\s+)?you\s+are\b|\bsimulate\s+(?:how|being|a|an)\b"
        r"|\byou\s+are\s+(?:an?\s+)?(?:advanced|helpful|sentient|unrestricted|unfiltered|evil|"
        r"new)\s+(?:\w+\s+){0,3}?(?:ai|assistant|system|model|door|bot|chatbot|interpreter|"
        r"wall|tree|umbrella|security system)\b",
    ),
    rule(
        OVERRIDE,
        "pretend",
        0.8,
        r"\bpretend\s+(?:to\s+be|you\s+are|that\s+you|you're|you\s+have|to\s+have)\b",
    ),
    rule(
        OVERRIDE,
        "no_rules",
        0.4,
        r"\b(?:with\s+no|without(?:\s+any)?|has\s+no|have\s+no|free\s+(?:of|from)|no\s+more)\s+"
        r"(?:rules|restrictions|filters|guidelines|limits|limitations|boundaries|censorship|"
        r"ethics|guardrails)\b",
    ),
    rule(
        OVERRIDE,
        "jailbreak_mode",
        1.0,
        # Addressed to the assistant: "developer mode" is also a phone setting.
        r"\b(?:you\s+(?:are|will|must|should|can|now)\s+(?:now\s+)?(?:be\s+)?(?:in|enter|"
        r"switch\s+to|operate\s+in|act\s+in|run\s+in)|you're\s+(?:now\s+)?in|(?:enable|"
        r"activate|enter)\s+your)\s+(?:the\s+)?(?:developer|dev|god|dan|jailbreak|jailbroken|"
        r"unrestricted|unfiltered|debug|admin|sudo)\s+mode\b|\b(?:god|dan|jailbreak|"
        r"unrestricted|unfiltered|sudo)\s+mode\b|\bdo anything now\b|<\s*/?\s*devmode\s*>",
    ),
    rule(
        OVERRIDE,
        "mode_mention",
        0.4,
        r"\b(?:developer|dev|debug|maintenance|admin)\s+mode\b|\bjail-?break(?:ed|ing|s)?\b",
    ),
    rule(
        OVERRIDE,
        "if_user_says",
        0.6,
        r"\bif\s+(?:the\s+)?(?:user|input|person|they|someone|anyone|it)\s+(?:says|enters|"
        r"types|inputs|provides|gives|writes|is|matches|contains|refers)\b[^\n]{0,160}?"
        r"(?:\bsay|\brespond|\breply|\boutput|\banswer|\bprint|\breturn)\b",
    ),
    rule(
        OVERRIDE,
        "you_must_say",
        0.8,
        rf"\byou\s+(?:will|must|should|shall|may|can|are to|have to|need to)\s+(?:now\s+|only\s+|"
        rf"always\s+|just\s+)*(?:say|respond|reply|answer|output|print|write|begin|start)\s+"
        rf"(?:(?:with|by saying|only|exactly|the words?)\s+)*{_Q}",
    ),
    rule(
        OVERRIDE,
        "do_not_follow",
        0.5,
        r"\b(?:do not|don't|never|stop)\s+(?:follow|obey|listen to|comply with|adhere to)\s+"
        r"(?:the|your|any|those|these)",
    ),
    rule(OVERRIDE, "dan", 0.5, r"\bdan\b(?=[^\n]{0,40}\b(?:mode|prompt|jailbreak|persona)\b)"),
    # ---- extraction --------------------------------------------------------------------------
    rule(
        EXTRACTION,
        "reveal_prompt",
        1.0,
        r"\b(?:repeat|print|reveal|show|display|output|tell|give|share|leak|dump|recite|echo|"
        r"state|list|write|spell|summari[sz]e|translate|paraphrase|convert|copy|return|relay|"
        r"disclose|expose|provide)\b(?:\s+(?:me|us|out|back|all|of|the|your|everything|"
        r"exactly|verbatim|word for word|above|in|what))*\s+(?:system\s+prompt|initial\s+prompt|"
        r"original\s+prompt|pre-?prompt|hidden\s+(?:prompt|instructions|text)|your\s+prompt\b"
        r"(?!\s+(?:reply|replies|response|answer|service|attention|help|action|delivery))|"
        r"prompt\s+(?:above|you were given)|(?:initial|original|secret|hidden|system)\s+"
        r"(?:instructions|rules|text|prompt)|instructions\s+(?:you (?:were|have been) given|in "
        r"(?:your|the) prompt)|your\s+(?:initial|original|secret|hidden|system|first)\s+"
        r"(?:instructions|rules|message))",
    ),
    rule(
        EXTRACTION,
        "reveal_previous_instructions",
        0.7,
        r"\b(?:repeat|print|reveal|show|display|output|tell|give|share|leak|dump|recite|echo|"
        r"state|list|write|spell|summari[sz]e|translate|paraphrase|convert|copy|return|relay|"
        r"disclose|expose|provide)\b(?:\s+(?:me|us|out|back|all|of|the|your|everything|"
        r"exactly|verbatim|word for word|in|what))*\s+(?:(?:previous|prior|above|preceding)\s+"
        r"(?:instructions|rules|text)|(?:instructions|rules|text|everything|all)\s+above|the\s+"
        r"prompt\b)",
    ),
    rule(
        EXTRACTION,
        "what_is_your_prompt",
        1.0,
        r"\bwhat(?:'s|\s+is|\s+are|\s+was|\s+were)\s+(?:in\s+)?your\s+(?:system\s+prompt|"
        r"(?:initial|original|first|hidden|secret)\s+(?:prompt|instructions)|prompt|pre-?prompt)\b",
    ),
    rule(
        EXTRACTION,
        "prompt_mention",
        0.5,
        r"\b(?:system\s+prompt|pre-?prompt|(?:your|the)\s+(?:initial|original|hidden|secret)\s+"
        r"(?:prompt|instructions))\b|\b(?:word\s+for\s+word|verbatim)\b|\b(?:instructions|rules)\s+"
        r"(?:(?:that\s+)?(?:were\s+|have\s+been\s+)?given\s+to\s+you|you\s+(?:were|have\s+been)\s+"
        r"given)\b",
    ),
    rule(
        EXTRACTION,
        "reveal_your_instructions",
        0.7,
        r"\b(?:repeat|print|reveal|show|display|output|tell|give|share|leak|dump|recite|list|"
        r"write|spell|summari[sz]e|disclose)\b(?:\s+(?:me|us|out|back|all|of))*\s+your\s+"
        r"(?:instructions|rules|guidelines|directives|programming|configuration)\b",
    ),
    rule(
        EXTRACTION,
        "reveal_secret",
        0.7,
        r"\b(?:say|tell|give|reveal|print|output|share|spell|repeat|what\s+is)\b(?:\s+(?:me|us))?"
        r"\s+(?:your|the\s+(?:secret|hidden|system|admin))\s+(?:password|passphrase|access\s+code|"
        r"secret|passcode|key|code)\b",
    ),
    rule(
        EXTRACTION,
        "what_were_you_told",
        0.7,
        r"\bwhat\s+(?:were|have)\s+you\s+(?:been\s+)?(?:told|instructed|programmed|asked)\b"
        r"|\bwhat\s+(?:are|were)\s+your\s+(?:instructions|rules|directives)\b"
        r"|\bwhat\s+(?:is|was)\s+(?:the\s+)?(?:text|written|said)\s+(?:above|before)\b"
        r"|\b(?:first|last)\s+\d+\s+(?:words|lines|characters|sentences)\s+of\s+(?:your|the)\s+"
        r"(?:prompt|instructions)",
    ),
    rule(
        EXTRACTION,
        "what_would_you_say",
        0.6,
        r"\bwhat\s+(?:would|do|should|will)\s+you\s+(?:say|respond|reply|answer|output)\b"
        r"(?:\s+\w+){0,3}?\s+(?:to|when|if|in case)\b",
    ),
    # ---- authority -----------------------------------------------------------------------------
    rule(
        AUTHORITY,
        "i_am_your_admin",
        1.0,
        r"\b(?:i\s+am|i'm|this\s+is|speaking\s+as|as)\s+your\s+(?:admin|administrator|sysadmin|"
        r"developer|creator|programmer|operator|owner|maker|supervisor|master|boss|trainer)\b",
    ),
    rule(
        AUTHORITY,
        "i_am_the_admin",
        0.6,
        r"\b(?:i\s+am|i'm|this\s+is)\s+(?:the|an?)\s+(?:system\s+)?(?:admin|administrator|"
        r"sysadmin|developer|creator|programmer|operator|root\s+user|superuser)\b"
        r"(?!\s+(?:of|for|on)\s+(?:my|our|the)\s+(?:company|business|team|account|store|shop))",
    ),
    rule(
        AUTHORITY,
        "privileged_command",
        0.8,
        r"\b(?:admin|administrator|root|developer|system)\s+(?:override|command|"
        r"privileges|authori[sz]ation|clearance)\b|\bauthori[sz]ed\s+(?:by\s+(?:the\s+)?"
        r"(?:developers?|admins?|openai|system)|personnel|override)\b",
    ),
    rule(AUTHORITY, "sudo", 1.0, r"(?:^|\s)sudo\s+(?!apt|yum|dnf|pip|systemctl|rm|chmod)"),
    rule(
        AUTHORITY,
        "credential_accepted",
        1.0,
        # Third person or passive: the system, not the customer, would say this.
        r"\bthe\s+user\s+(?:has\s+)?(?:now\s+)?(?:entered|input|inputted|provided|typed|given|"
        r"supplied|said|submitted)\s+(?:in\s+)?(?:the\s+)?(?:correct|right|valid)\b"
        r"|(?:^|[\[({<])\s*(?:the\s+)?(?:correct|right|valid)\s+(?:password|passphrase|"
        r"access\s+code|passcode|code)\b\s*(?:[\])}>]|$)"
        r"|\b(?:password|passphrase|access\s+code)\s+(?:has\s+been|was)\s+(?:updated|changed)"
        r"\s+to\b"
        r"|\bthe\s+user(?:'s)?\s+(?:text|input|message|reply)?\s*(?:contains|includes|has|"
        r"matches)\s+(?:the\s+)?(?:correct\s+|right\s+|secret\s+)?(?:password|passphrase|"
        r"access\s+code|passcode)",
    ),
    rule(
        AUTHORITY,
        "credential_passive",
        0.7,
        r"\b(?:correct|right|valid)\s+(?:password|passphrase|access\s+code|passcode|pin|code)\s+"
        r"(?:has\s+been\s+|was\s+|is\s+)?(?:entered|input|provided|registered|given|supplied|"
        r"verified|accepted|detected|received)\b",
    ),
    rule(
        AUTHORITY,
        "credential_mention",
        0.4,
        r"\b(?:correct|right|valid|secret|backdoor)\s+(?:password|passphrase|access\s+code|"
        r"passcode)\b|\bpassphrase\b",
    ),
    # ---- output forcing ------------------------------------------------------------------------
    rule(
        OUTPUT_FORCING,
        "begin_reply_with",
        1.0,
        r"\b(?:begin|start|prefix|prepend|preface|affix|open|end|finish|conclude)\s+(?:the\s+"
        r"beginning\s+of\s+)?(?:(?:your|the|each|every)\s+(?:reply|response|answer|output|"
        r"completion)|your\s+message)s?\b(?:\s+\w+){0,2}?\s+(?:with|by)\b"
        r"|(?:^|[.!?:;\n]\s*|\b(?:please|and|then|now|just)\s+)(?:prefix|prepend|affix)\b"
        r"(?:\s+(?:it|this|that))?\s*(?:with\s+)?(?:response\s+)?" + _Q,
    ),
    rule(
        OUTPUT_FORCING,
        "say_quoted",
        0.8,
        r"(?:^|[.!?:;,\n]\s*|\b(?:please|just|only|now|then|and|simply|to|must|will|should)\s+)"
        r"(?:say|print|output|write|repeat|proclaim|declare|reply|respond|answer)"
        r"(?:\s+(?:with|only|just|exactly|out|back|the|words?|phrase|string|following))*\s*:?\s*"
        + _Q,
    ),
    rule(
        OUTPUT_FORCING,
        "respond_only_with",
        0.8,
        r"\b(?:respond|reply|answer|output|say)\s+(?:with\s+)?(?:only|solely|exclusively)\b"
        r"|\b(?:respond|reply|answer)\s+(?:\w+\s+){0,3}?with\s+(?:only\s+|just\s+|exactly\s+)?"
        r"the\s+(?:words?|phrase|string|text)\b|\boutput\s+the\s+following\b"
        r"|\brepeat\s+after\s+me\b|\bonly\s+(?:output|print|say)\b",
    ),
    rule(
        OUTPUT_FORCING,
        "nothing_else",
        0.4,
        r"\band\s+(?:say\s+|output\s+|write\s+)?nothing\s+else\s*(?:[.!,;:\"')\]]|$|before|"
        r"after)|\bno\s+(?:other|additional|further|extra)\s+"
        r"(?:text|output|words|commentary|explanation)|\bwithout\s+(?:any\s+)?(?:commentary|"
        r"explanation|additional\s+text)|\b(?:don't|do\s+not|never)\s+(?:write|provide|give|"
        r"include|add)\s+(?:any\s+|an\s+)?(?:explanation|commentary)|\b(?:only|exactly)\s+"
        r"(?:2|two|1|one)\s+words?\b|\b(?:2|two|1|one)[- ]word\s+(?:answer|response|reply)",
    ),
    rule(
        OUTPUT_FORCING,
        "do_not_say",
        0.3,
        rf"\b(?:do\s+not|don't|never|not\s+allowed\s+to)\s+(?:say|write|output|print|use|start"
        rf"\s+with|end\s+with|include)\s+(?:the\s+word\s+)?{_Q}|\b(?:do\s+not|don't)\s+"
        rf"(?:apologi[sz]e|be\s+sorry)",
    ),
    rule(
        OUTPUT_FORCING,
        "complete_quoted",
        0.6,
        rf"\bcomplete\s+(?:the\s+(?:sentence|phrase|string)\s*:?\s*)?{_Q}"
        r"|\bcomplete\s+the\s+(?:sentence|phrase)\b",
    ),
    rule(
        OUTPUT_FORCING,
        "start_with_quoted",
        0.5,
        rf"\b(?:start|begin|starting|beginning|open|opening)\s+with\s+{_Q}",
    ),
    rule(
        OUTPUT_FORCING,
        "say_unlock_phrase",
        0.6,
        r"\b(?:say|print|output|write|type|proclaim|respond\s+with|reply\s+with|answer\s+with|"
        r"return)\s+[\"'\u201c\u2018\[(]?\s*"
        r"(?:acc?ess[\W_]{0,3}grant|pwned|i\s+have\s+been\s+pwned)",
    ),
    rule(
        OUTPUT_FORCING,
        "unlock_phrase",
        0.6,
        r"\bacc?ess[\W_]{0,3}grant(?:ed)?\b|\bi\s+have\s+been\s+pwned\b|\bpwned\b",
    ),
    # ---- delimiter / format ---------------------------------------------------------------------
    rule(
        DELIMITER,
        "chat_template_token",
        1.0,
        r"<\|\s*[a-z_]+\s*\|>|\[/?inst\]|<</?sys>>|<\s*/?\s*s\s*>|<\s*end\s*of\s*text\s*>"
        r"|<\s*endoftext\s*>|\|endoftext\|",
    ),
    rule(
        DELIMITER,
        "system_header",
        1.0,
        r"#{2,}\s*(?:system|assistant|new\s+(?:instructions|rules)|admin|developer|ignore|"
        r"override)\b|#{3,}\s*(?:instructions?|response|input|end|begin)\b"
        r"|\[\s*(?:system|admin|developer)\s*(?:message|prompt|note|override)?\s*\]",
    ),
    rule(
        DELIMITER,
        "fake_transcript",
        0.6,
        r"(?:^|\n|[=#*~_>|-]\s)\s*(?:system|assistant|ai|admin|bot|robot|agent|model|gpt|"
        r"chatgpt|output)\s*:|(?:^|\n)\s*(?:message|prompt|input|instruction)\s*\d+\s*:",
    ),
    rule(
        DELIMITER,
        "section_marker",
        0.8,
        r"%{2,}|\b(?:begin|end|start)\s+(?:of\s+)?(?:the\s+)?(?:user(?:'s)?\s+input|"
        r"access\s+code|(?:old\s+|out[ -]of[ -]date\s+|previous\s+|real\s+|distractor\s+|"
        r"extra\s+|system\s+)?instructions|system\s+prompt|prompt|passphrase|real\s+"
        r"message|untrusted|sample\s+input)\b|\b(?:this\s+is\s+)?the\s+end\s+of\s+"
        r"(?:the\s+)?(?:user(?:'s)?\s+)?(?:input|prompt|instructions)\b|\buser\s+input\s+"
        r"(?:end|ends|start|starts|begins)\b",
    ),
)

# Rules for the letters-only view: long phrases whose letters alone are unambiguous.
SQUASHED_RULES: tuple[Rule, ...] = (
    rule(
        OVERRIDE,
        "ignore_previous",
        1.0,
        r"(?:ignore|disregard|forget)(?:all|any|the|your)*(?:previous|prior|above|earlier|"
        r"preceding|former|old)(?:instructions?|rules|prompts?|directions|commands)",
    ),
    rule(
        EXTRACTION,
        "reveal_prompt",
        1.0,
        r"(?:reveal|print|show|repeat|output|display|tellme)(?:me)?(?:(?:your|the)(?:system|"
        r"initial|original|hidden|secret)(?:prompt|instructions)|yourprompt)",
    ),
    rule(
        OVERRIDE,
        "jailbreak_mode",
        1.0,
        r"doanythingnow|you(?:are|re)(?:now)?in(?:developer|god|dan|jailbreak)mode"
        r"|(?:god|dan|jailbreak)mode",
    ),
    rule(OUTPUT_FORCING, "unlock_phrase", 0.6, r"accessgranted|ihavebeenpwned"),
)

# A request to decode or run something: scored in ``encoded``.
DECODE_REQUEST = re.compile(
    r"\b(?:decode|convert|translate|interpret|evaluate|execute)\b(?:\s+\w+){0,3}?\s+"
    r"(?:binary|hex(?:adecimal)?|base ?64|rot ?13|ascii|morse|unicode|bytes|cipher|python)"
)
