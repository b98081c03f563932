"""The message catalogue: every sentence the bot says to users, in French and in English.
Adapters and the core take their words from here (``message(language, key)``), never write
their own."""

from __future__ import annotations

MESSAGES = {
    "fr": {
        "lead": "Voici ce que dit la base de connaissances :",
        "lead_hedged": (
            "Je ne suis pas sûr que la base de connaissances réponde à cette question ; "
            "voici ce qui s'en approche le plus :"
        ),
        "abstain": (
            "Je n'ai rien trouvé dans la base de connaissances qui réponde à cette question. "
            "Les sections les plus proches :"
        ),
        "abstain_unknown": (
            "La base de connaissances ne parle pas de {words} : je n'y ai rien trouvé qui "
            "réponde à cette question. Les sections les plus proches :"
        ),
        "truncated": "Question raccourcie à {limit} caractères.",
        # a follow-up read in the context of the turn before: what the bot understood
        "understood": "Sur « {topic} » :",
        # small talk (bot/core/smalltalk.py): the invitation to ask, by what the message was
        "smalltalk_thanks": (
            "Avec plaisir ! Posez-moi une autre question sur la base de connaissances quand "
            "vous voulez."
        ),
        "smalltalk_farewell": (
            "Bonne journée ! Revenez quand vous avez une question sur la base de connaissances."
        ),
        "smalltalk_greeting": (
            "Bonjour ! Posez-moi une question sur la base de connaissances : je réponds en "
            "citant ses pages."
        ),
        "smalltalk_other": (
            "Je réponds aux questions sur la base de connaissances en citant ses pages : "
            "posez-m'en une."
        ),
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
        "already_shared": "Cette réponse a déjà été partagée dans le canal.",
        "restarting": "Je redémarre : reposez votre question dans une minute.",
        "which_section": "Merci ! Quelle section y répond ?",
        "choose_section": "Choisir une section",
        "none_covers": "Aucune : la base ne traite pas ce sujet",
        "learned": "Noté : « {section} » sera citée en premier pour cette question.",
        "gap_noted": (
            "Noté : la base ne traite pas ce sujet ; la question rejoint la liste des manques."
        ),
        "section_gone": "Cette section n'existe plus dans la base ; rien n'a été retenu.",
        # commands
        "ask_usage": (
            "Utilisation : `/ask <question>` — par exemple `/ask Qu'est-ce que le value-market "
            "fit ?` (la réponse n'est montrée qu'à vous, avec un bouton pour la partager)."
        ),
        "not_in_channel": (
            "Je ne suis pas dans ce canal : invitez-moi d'abord avec `/invite @playbook`."
        ),
        "admin_usage": "Utilisation : `/playbook reindex` ou `/playbook examples` (admins).",
        "admins_only": (
            "Seuls les admins listés dans PLAYBOOK_ADMINS peuvent utiliser /playbook {action}."
        ),
        "admin_unavailable": "Indisponible.",
        "examples_none": (
            "Aucun exemple appris pour l'instant : après 👎, choisissez la section qui répond."
        ),
        "examples_count": "{count} exemple(s) appris :",
        "examples_set_aside": " [mis de côté : la section a disparu]",
        "examples_line": "#{id} {question} → {section} ({votes} vote(s)){mark}",
        "examples_more": "… et {count} de plus : `playbook examples` les liste tous.",
        "examples_gaps": (
            "{count} question(s) marquée(s) comme non couverte(s) : `playbook report`."
        ),
        "reload_done": "Connaissances rechargées ({reason}) : {passages} passages.",
        "reload_failed": (
            "Connaissances NON rechargées ({reason}) ; l'ancien index continue de servir : {errors}"
        ),
        "reload_unchanged": "Connaissances inchangées ({reason}).",
        "reload_skipped": "Fichiers laissés de côté : {errors}",
        # Discord's command list (descriptions of the commands and their options)
        "ask_description": "Interroger le playbook sur la commercialisation de l'open source",
        "ask_question": "Votre question, en français ou en anglais",
        "ask_private": "Vous seul voyez la réponse (par défaut : tout le canal)",
        "checklist_description": "Afficher une checklist avec l'avancement de ce canal",
        "checklist_name": "Quelle checklist (tapez pour chercher)",
        "checklist_reset": "Remettre d'abord à zéro l'avancement de ce canal",
        "admin_description": "Administration du bot",
        "reindex_description": "Recharger la base de connaissances maintenant (admins seulement)",
        "examples_description": "Les exemples que l'équipe a appris au bot (admins seulement)",
        # checklists
        "checklists_intro": (
            "Checklists — `/checklist <nom>` en publie une, `/checklist <nom> réinitialiser` "
            "la remet à zéro :"
        ),
        "checklists_heading": "Checklists :",
        "item_count": "{count} éléments",
        "no_checklist": "Aucune checklist de ce nom. Les plus proches :",
        "no_checklist_named": (
            "Aucune checklist ne s'appelle « {name} ». Les plus proches : {closest}"
        ),
        "checklist_gone": "Cette checklist n'est plus dans la base de connaissances.",
        "item_gone": "Cet élément n'est plus dans la checklist ; voici la checklist actuelle.",
        "progress": "{count} faits",
        "checklist_summary": "{title} : {count} faits",
        "item_done": "Fait",
        "tick_placeholder": "Cochez les éléments faits",
        "menu_first": "Le menu coche les {count} premiers éléments.",
        "retired": "Retirés (plus dans la base de connaissances) : {items}",
        "source": "Source",
        "too_long": "… (la suite est dans la base de connaissances ; le message était trop long)",
    },
    "en": {
        "lead": "Here is what the knowledge base says:",
        "lead_hedged": (
            "I am not sure the knowledge base answers this question; here is what comes closest:"
        ),
        "abstain": (
            "I found nothing in the knowledge base that answers this question. "
            "The closest sections:"
        ),
        "abstain_unknown": (
            "The knowledge base does not mention {words}, so I found nothing there that answers "
            "this question. The closest sections:"
        ),
        "truncated": "Question cut to {limit} characters.",
        "understood": "About “{topic}”:",
        # small talk (bot/core/smalltalk.py): the invitation to ask, by what the message was
        "smalltalk_thanks": (
            "You're welcome! Ask me another question about the knowledge base whenever you like."
        ),
        "smalltalk_farewell": (
            "Have a good day! Come back whenever you have a question about the knowledge base."
        ),
        "smalltalk_greeting": (
            "Hello! Ask me a question about the knowledge base: I answer by quoting its pages."
        ),
        "smalltalk_other": (
            "I answer questions about the knowledge base by quoting its pages: ask me one."
        ),
        "empty": "Ask a question, for example: “What is value-market fit?”",
        "sorry": "Sorry, an error kept me from answering. It has been logged; try again shortly.",
        "slow_down": "You are asking a lot of questions: please wait a little before the next one.",
        "feedback_thanks": "Thanks for your feedback!",
        "share": "Share in channel",
        "shared_by": "Shared by {user}",
        "helpful": "Helpful",
        "not_helpful": "Not helpful",
        "gone": "This answer is no longer available; please ask again.",
        "already_shared": "This answer has already been shared in the channel.",
        "restarting": "I am restarting: please ask again in a minute.",
        "which_section": "Thanks! Which section answers it?",
        "choose_section": "Choose a section",
        "none_covers": "None: the knowledge base does not cover it",
        "learned": "Noted: “{section}” will be cited first for this question.",
        "gap_noted": (
            "Noted: the knowledge base does not cover it; the question joins the gap list."
        ),
        "section_gone": "That section is no longer in the knowledge base; nothing was kept.",
        # commands
        "ask_usage": (
            "Usage: `/ask <question>` — for example `/ask Qu'est-ce que le value-market fit ?` "
            "(the answer is shown only to you, with a button to share it)."
        ),
        "not_in_channel": "I am not in this channel: invite me with `/invite @playbook` first.",
        "admin_usage": "Usage: `/playbook reindex` or `/playbook examples` (admins).",
        "admins_only": "Only the admins listed in PLAYBOOK_ADMINS can use /playbook {action}.",
        "admin_unavailable": "Not available.",
        "examples_none": "No example taught yet: after 👎, pick the section that answers.",
        "examples_count": "{count} learned example(s):",
        "examples_set_aside": " [set aside: section gone]",
        "examples_line": "#{id} {question} → {section} ({votes} vote(s)){mark}",
        "examples_more": "… and {count} more: `playbook examples` lists them all.",
        "examples_gaps": "{count} question(s) marked as not covered: `playbook report`.",
        "reload_done": "Knowledge reloaded ({reason}): {passages} passages.",
        "reload_failed": (
            "Knowledge NOT reloaded ({reason}); the old index keeps serving: {errors}"
        ),
        "reload_unchanged": "Knowledge unchanged ({reason}).",
        "reload_skipped": "Files left out: {errors}",
        # Discord's command list (descriptions of the commands and their options)
        "ask_description": "Ask the playbook about commercialising open source",
        "ask_question": "Your question, in French or English",
        "ask_private": "Only you see the answer (default: everyone in the channel)",
        "checklist_description": "Show a checklist with this channel's progress",
        "checklist_name": "Which checklist (type to search)",
        "checklist_reset": "Clear this channel's progress first",
        "admin_description": "Administration of the bot",
        "reindex_description": "Reload the knowledge base now (admins only)",
        "examples_description": "The examples the team taught (admins only)",
        # checklists
        "checklists_intro": (
            "Checklists — `/checklist <name>` posts one, `/checklist <name> reset` clears it:"
        ),
        "checklists_heading": "Checklists:",
        "item_count": "{count} items",
        "no_checklist": "No checklist by that name. The closest:",
        "no_checklist_named": "No checklist called '{name}'. The closest: {closest}",
        "checklist_gone": "This checklist is no longer in the knowledge base.",
        "item_gone": "That item is no longer in the checklist; here is the current one.",
        "progress": "{count} done",
        "checklist_summary": "{title}: {count} done",
        "item_done": "Done",
        "tick_placeholder": "Tick the items that are done",
        "menu_first": "The menu ticks the first {count} items.",
        "retired": "Retired (no longer in the knowledge base): {items}",
        "source": "Source",
        "too_long": "… (more in the knowledge base; the message was too long)",
    },
}


def message(language: str, key: str, **values: object) -> str:
    """Return the bot's sentence ``key`` in ``language`` (French when unknown)."""
    table = MESSAGES.get(language, MESSAGES["fr"])
    return table[key].format(**values)
