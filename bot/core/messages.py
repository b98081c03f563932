"""The message catalogue: every sentence the bot says to users, in French and in English.
Adapters and the core take their words from here (``message(language, key)``), never write
their own."""

from __future__ import annotations

MESSAGES = {
    "fr": {
        "lead": "Voici ce que dit la base de connaissances :",
        "abstain": (
            "Je n'ai rien trouvé dans la base de connaissances qui réponde à cette question. "
            "Les sections les plus proches :"
        ),
        "abstain_unknown": (
            "La base de connaissances ne parle pas de {words} : je n'y ai rien trouvé qui "
            "réponde à cette question. Les sections les plus proches :"
        ),
        "truncated": "Question raccourcie à {limit} caractères.",
        "empty": "Posez une question, par exemple : « Qu'est-ce que le value-market fit ? »",
        "sorry": (
            "Désolé, une erreur m'a empêché de répondre. Elle est enregistrée ; "
            "réessayez dans un instant."
        ),
        "slow_down": "Vous posez beaucoup de questions : attendez un peu avant la suivante.",
        "feedback_thanks": "Merci pour votre avis !",
        "share": "Partager dans le canal",
        "shared_by": "Partagé par {user}",
        "helpful": "Utile",
        "not_helpful": "Pas utile",
        "gone": "Cette réponse n'est plus disponible ; posez la question à nouveau.",
        "restarting": "Je redémarre : reposez votre question dans une minute.",
        "which_section": "Merci ! Quelle section y répond ?",
        "choose_section": "Choisir une section",
        "none_covers": "Aucune : la base ne traite pas ce sujet",
        "learned": "Noté : « {section} » sera citée en premier pour cette question.",
        "gap_noted": (
            "Noté : la base ne traite pas ce sujet ; la question rejoint la liste des manques."
        ),
        "section_gone": "Cette section n'existe plus dans la base ; rien n'a été retenu.",
    },
    "en": {
        "lead": "Here is what the knowledge base says:",
        "abstain": (
            "I found nothing in the knowledge base that answers this question. "
            "The closest sections:"
        ),
        "abstain_unknown": (
            "The knowledge base does not mention {words}, so I found nothing there that answers "
            "this question. The closest sections:"
        ),
        "truncated": "Question cut to {limit} characters.",
        "empty": "Ask a question, for example: “What is value-market fit?”",
        "sorry": "Sorry, an error kept me from answering. It has been logged; try again shortly.",
        "slow_down": "You are asking a lot of questions: please wait a little before the next one.",
        "feedback_thanks": "Thanks for your feedback!",
        "share": "Share in channel",
        "shared_by": "Shared by {user}",
        "helpful": "Helpful",
        "not_helpful": "Not helpful",
        "gone": "This answer is no longer available; please ask again.",
        "restarting": "I am restarting: please ask again in a minute.",
        "which_section": "Thanks! Which section answers it?",
        "choose_section": "Choose a section",
        "none_covers": "None: the knowledge base does not cover it",
        "learned": "Noted: “{section}” will be cited first for this question.",
        "gap_noted": (
            "Noted: the knowledge base does not cover it; the question joins the gap list."
        ),
        "section_gone": "That section is no longer in the knowledge base; nothing was kept.",
    },
}


def message(language: str, key: str, **values: object) -> str:
    """Return the bot's sentence ``key`` in ``language`` (French when unknown)."""
    table = MESSAGES.get(language, MESSAGES["fr"])
    return table[key].format(**values)
