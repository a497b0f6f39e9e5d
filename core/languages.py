"""The languages Tether knows a customer may write in, and a short hand-off message in each.

A business profile says which of them it serves (``core/profile.py``); the language detector
(``guardrails/language.py``) tells them apart. The built-in hand-offs are what a customer reads
when they write in a language the profile has no messages for. They were machine-translated by
the engineer who wrote them (from the English one), not by a native speaker.
"""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """ISO 639-1 codes."""

    EN = "en"
    DE = "de"
    FR = "fr"
    ES = "es"
    IT = "it"
    NL = "nl"
    PT = "pt"


BUILTIN_HANDOFF: dict[Language, str] = {
    Language.EN: (
        "Thanks for your patience. I've passed your conversation to a member of our support "
        "team. A person will follow up here shortly."
    ),
    Language.DE: (
        "Danke für Ihre Geduld. Ich habe Ihr Anliegen an unser Support-Team weitergegeben. "
        "Eine Person meldet sich hier in Kürze bei Ihnen."
    ),
    Language.FR: (
        "Merci de votre patience. J'ai transmis votre demande à notre équipe d'assistance. "
        "Une personne vous répondra ici sous peu."
    ),
    Language.ES: (
        "Gracias por su paciencia. He pasado su consulta a nuestro equipo de soporte. "
        "Una persona le responderá aquí en breve."
    ),
    Language.IT: (
        "Grazie per la pazienza. Ho inoltrato la sua richiesta al nostro team di assistenza. "
        "Una persona le risponderà qui a breve."
    ),
    Language.NL: (
        "Bedankt voor uw geduld. Ik heb uw vraag doorgestuurd naar ons supportteam. "
        "Iemand neemt hier binnenkort contact met u op."
    ),
    Language.PT: (
        "Obrigado pela sua paciência. Encaminhei o seu pedido à nossa equipa de apoio. "
        "Uma pessoa responderá aqui em breve."
    ),
}
