"""Every text of the maintainers' web pages, in English and French (the same keys in both),
and how dates, ages and numbers read in each language."""

from __future__ import annotations

from datetime import datetime

EN: dict[str, str] = {
    "title": "Playbook",
    "nav_overview": "Overview",
    "nav_gaps": "Gaps",
    "nav_feedback": "Feedback",
    "nav_examples": "Taught examples",
    "nav_try": "Try a question",
    "nav_checklists": "Checklists",
    "sign_out": "Sign out",
    "skip": "Skip to the content",
    # outcomes
    "answered": "answered",
    "unsure": "unsure",
    "declined": "declined",
    "smalltalk": "small talk",
    "empty": "empty question",
    # overview
    "overview_heading": "Overview",
    "overview_period": "The last {days} days ({first} to {last})",
    "period": "Period",
    "days_n": "{n} days",
    "questions": "Questions",
    "no_questions": "No question logged yet. Ask the bot something in Slack or Discord, "
    "or try a question here.",
    "per_day": "Questions per day",
    "chart_day": "Day",
    "chart_questions": "Questions",
    "chart_caption": "Questions per day, by platform and outcome (hover a bar for its count).",
    "shares": "Outcomes",
    "latency": "Answer time",
    "latency_none": "No answer timed yet.",
    "votes": "Votes",
    "up": "👍 helpful",
    "down": "👎 not helpful",
    "index": "Index",
    "pages": "Pages",
    "passages": "Passages",
    "built": "Built",
    "built_unknown": "unknown",
    "skipped": "Files left out",
    "skipped_none": "No file left out.",
    "ms": "{value} ms",
    # gaps
    "gaps_heading": "Gaps",
    "gaps_intro": "Questions the bot declined, answered unsure, or that askers said no "
    "section answers — most asked first. Write or fix the section that should answer them, "
    "then mark the gap handled (it comes back if asked again).",
    "no_gaps": "No gap: every question logged got an answer. Nothing to write for now.",
    "asked": "Asked",
    "times": "{count}×",
    "breakdown": "{declined} declined · {unsure} unsure · {not_covered} not covered",
    "last_asked": "Last asked",
    "asked_as": "How it was asked",
    "closest": "Closest sections",
    "closest_none": "No section comes close.",
    "mark_handled": "Mark handled",
    "handled_done": "{count} questions marked handled.",
    "handled_one": "1 question marked handled.",
    # feedback
    "feedback_heading": "Feedback",
    "feedback_intro": "Answers an asker marked 👎, newest first: what was asked, what the "
    "answer quoted, and the section the asker picked instead.",
    "no_feedback": "No 👎 yet. When an asker says an answer did not help, it shows here.",
    "question": "Question",
    "quoted": "Quoted",
    "passage_gone": "(this passage is no longer in the index)",
    "picked": "Section the asker picked",
    "picked_none": "none — no section answers it",
    "picked_nothing": "not given",
    "comment": "Comment",
    "on": "on {platform}",
    # examples
    "examples_heading": "Taught examples",
    "examples_intro": "Questions the team taught the bot to answer with a given section. "
    "Examples whose section left the pages are set aside.",
    "no_examples": "No taught example yet. After a 👎, askers can pick the section that "
    "answers; you can also teach one from “Try a question”.",
    "export": "Export (examples.yaml)",
    "section": "Section",
    "votes_col": "Votes",
    "platforms": "Platforms",
    "first": "First",
    "last": "Last",
    "set_aside": "set aside",
    "remove": "Remove",
    "removed": "Example {id} removed.",
    "remove_missing": "Example {id} was already gone.",
    # try
    "try_heading": "Try a question",
    "try_intro": "See the answer as the bot would give it (not logged) and why each "
    "section ranked where it did.",
    "try_label": "Question",
    "try_button": "Try",
    "try_empty": "Type a question to try.",
    "try_long": "This question is too long ({length} characters): keep it under {limit}.",
    "answer": "Answer",
    "outcome": "Outcome",
    "evidence": "Evidence {evidence} (the bot declines below {threshold})",
    "candidates": "Candidates",
    "no_candidates": "No candidate section.",
    "rank": "Rank",
    "dense": "Dense",
    "sentence": "Sentence",
    "lexical": "Lexical",
    "fused": "Fused",
    "final": "Final",
    "in_answer": "Quoted?",
    "yes": "yes",
    "no": "no",
    "teach": "Teach the section that answers it",
    "teach_button": "Teach",
    "teach_question": "Teaching for: {question}",
    "language": "Language",
    # checklists
    "checklists_heading": "Checklists",
    "checklists_intro": "Each checklist's progress in each conversation, and who ticked what.",
    "no_checklists": "No checklist item ticked yet. Start one in Slack or Discord with "
    "/playbook checklist.",
    "place": "Conversation",
    "progress": "{done} of {total} done",
    "item": "Item",
    "by": "By",
    "when": "When",
    "by_unknown": "—",
    # sign-in and errors
    "signin_heading": "Sign in",
    "signin_intro": "Enter the access token (PLAYBOOK_WEB_TOKEN) to see the pages.",
    "token": "Access token",
    "signin_button": "Sign in",
    "signin_wrong": "This token is not the right one.",
    "signin_locked": "Too many wrong tokens: wait a minute before trying again.",
    "forbidden_heading": "Refused",
    "forbidden": "This form was refused: it was not sent from this page, or your session "
    "changed. Nothing was changed. Go back, reload the page and try again.",
    "not_found_heading": "Page not found",
    "not_found": "There is no page here.",
    "error_heading": "Something went wrong",
    "error": "This page could not be read from the bot's data. The error is in the log; "
    "try again in a moment.",
    "back_home": "Back to the overview",
    "bad_request": "This form is incomplete.",
    "not_saved": "This change could not be saved (the database may be busy): nothing was "
    "changed. Try again in a moment; the error is in the log.",
    # ages
    "age_now": "just now",
    "age_minutes": "{n} minutes ago",
    "age_hours": "{n} hours ago",
    "age_days": "{n} days ago",
}

FR: dict[str, str] = {
    "title": "Playbook",
    "nav_overview": "Vue d’ensemble",
    "nav_gaps": "Lacunes",
    "nav_feedback": "Retours",
    "nav_examples": "Exemples appris",
    "nav_try": "Essayer une question",
    "nav_checklists": "Checklists",
    "sign_out": "Se déconnecter",
    "skip": "Aller au contenu",
    "answered": "répondu",
    "unsure": "incertain",
    "declined": "décliné",
    "smalltalk": "conversation",
    "empty": "question vide",
    "overview_heading": "Vue d’ensemble",
    "overview_period": "Les {days} derniers jours (du {first} au {last})",
    "period": "Période",
    "days_n": "{n} jours",
    "questions": "Questions",
    "no_questions": "Aucune question enregistrée pour l’instant. Posez une question au bot "
    "dans Slack ou Discord, ou essayez-en une ici.",
    "per_day": "Questions par jour",
    "chart_day": "Jour",
    "chart_questions": "Questions",
    "chart_caption": "Questions par jour, par plateforme et par issue (survolez une barre "
    "pour son nombre).",
    "shares": "Issues",
    "latency": "Temps de réponse",
    "latency_none": "Aucune réponse chronométrée pour l’instant.",
    "votes": "Votes",
    "up": "👍 utile",
    "down": "👎 pas utile",
    "index": "Index",
    "pages": "Pages",
    "passages": "Passages",
    "built": "Construit",
    "built_unknown": "inconnu",
    "skipped": "Fichiers écartés",
    "skipped_none": "Aucun fichier écarté.",
    "ms": "{value} ms",
    "gaps_heading": "Lacunes",
    "gaps_intro": "Les questions que le bot a déclinées, auxquelles il a répondu avec "
    "incertitude, ou dont le demandeur a dit qu’aucune section n’y répond — les plus posées "
    "d’abord. Écrivez ou corrigez la section qui devrait y répondre, puis marquez la lacune "
    "traitée (elle revient si la question est reposée).",
    "no_gaps": "Aucune lacune : chaque question enregistrée a reçu une réponse. Rien à "
    "écrire pour l’instant.",
    "asked": "Posée",
    "times": "{count} fois",
    "breakdown": "{declined} déclinée(s) · {unsure} incertaine(s) · {not_covered} sans section",
    "last_asked": "Dernière fois",
    "asked_as": "Comment elle a été posée",
    "closest": "Sections les plus proches",
    "closest_none": "Aucune section n’en est proche.",
    "mark_handled": "Marquer traitée",
    "handled_done": "{count} questions marquées traitées.",
    "handled_one": "1 question marquée traitée.",
    "feedback_heading": "Retours",
    "feedback_intro": "Les réponses marquées 👎, les plus récentes d’abord : la question, "
    "ce que la réponse citait et la section choisie à la place.",
    "no_feedback": "Aucun 👎 pour l’instant. Quand une réponse n’aide pas, elle apparaît ici.",
    "question": "Question",
    "quoted": "Cité",
    "passage_gone": "(ce passage n’est plus dans l’index)",
    "picked": "Section choisie par le demandeur",
    "picked_none": "aucune — aucune section n’y répond",
    "picked_nothing": "non indiquée",
    "comment": "Commentaire",
    "on": "sur {platform}",
    "examples_heading": "Exemples appris",
    "examples_intro": "Les questions auxquelles l’équipe a appris au bot à répondre par une "
    "section donnée. Les exemples dont la section a quitté les pages sont mis de côté.",
    "no_examples": "Aucun exemple appris pour l’instant. Après un 👎, le demandeur peut "
    "choisir la section qui répond ; vous pouvez aussi en apprendre une depuis « Essayer une "
    "question ».",
    "export": "Exporter (examples.yaml)",
    "section": "Section",
    "votes_col": "Votes",
    "platforms": "Plateformes",
    "first": "Premier",
    "last": "Dernier",
    "set_aside": "mis de côté",
    "remove": "Supprimer",
    "removed": "Exemple {id} supprimé.",
    "remove_missing": "L’exemple {id} n’existait déjà plus.",
    "try_heading": "Essayer une question",
    "try_intro": "Voyez la réponse telle que le bot la donnerait (sans l’enregistrer) et "
    "pourquoi chaque section est classée ainsi.",
    "try_label": "Question",
    "try_button": "Essayer",
    "try_empty": "Tapez une question à essayer.",
    "try_long": "Cette question est trop longue ({length} caractères) : restez sous {limit}.",
    "answer": "Réponse",
    "outcome": "Issue",
    "evidence": "Indice {evidence} (le bot décline en dessous de {threshold})",
    "candidates": "Candidats",
    "no_candidates": "Aucune section candidate.",
    "rank": "Rang",
    "dense": "Dense",
    "sentence": "Phrase",
    "lexical": "Lexical",
    "fused": "Fusionné",
    "final": "Final",
    "in_answer": "Cité ?",
    "yes": "oui",
    "no": "non",
    "teach": "Apprendre la section qui y répond",
    "teach_button": "Apprendre",
    "teach_question": "Apprentissage pour : {question}",
    "language": "Langue",
    "checklists_heading": "Checklists",
    "checklists_intro": "L’avancement de chaque checklist dans chaque conversation, et qui a "
    "coché quoi.",
    "no_checklists": "Aucun élément de checklist coché pour l’instant. Lancez-en une dans "
    "Slack ou Discord avec /playbook checklist.",
    "place": "Conversation",
    "progress": "{done} sur {total} faits",
    "item": "Élément",
    "by": "Par",
    "when": "Quand",
    "by_unknown": "—",
    "signin_heading": "Connexion",
    "signin_intro": "Saisissez le jeton d’accès (PLAYBOOK_WEB_TOKEN) pour voir les pages.",
    "token": "Jeton d’accès",
    "signin_button": "Se connecter",
    "signin_wrong": "Ce jeton n’est pas le bon.",
    "signin_locked": "Trop de jetons erronés : attendez une minute avant de réessayer.",
    "forbidden_heading": "Refusé",
    "forbidden": "Ce formulaire a été refusé : il n’a pas été envoyé depuis cette page, ou "
    "votre session a changé. Rien n’a été modifié. Revenez en arrière, rechargez la page et "
    "réessayez.",
    "not_found_heading": "Page introuvable",
    "not_found": "Il n’y a pas de page ici.",
    "error_heading": "Un problème est survenu",
    "error": "Cette page n’a pas pu lire les données du bot. L’erreur est dans le journal ; "
    "réessayez dans un instant.",
    "back_home": "Retour à la vue d’ensemble",
    "bad_request": "Ce formulaire est incomplet.",
    "not_saved": "Cette modification n’a pas pu être enregistrée (la base de données est peut-être "
    "occupée) : rien n’a changé. Réessayez dans un instant ; l’erreur est dans le journal.",
    "age_now": "à l’instant",
    "age_minutes": "il y a {n} minutes",
    "age_hours": "il y a {n} heures",
    "age_days": "il y a {n} jours",
}

TEXTS = {"en": EN, "fr": FR}

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}


def choose_language(accept: str | None, override: str | None) -> str:
    """The page language, ``"en"`` or ``"fr"``: ``override`` when it is one of them, else the
    first of French or English by quality weight in an ``Accept-Language`` header, else
    English."""
    if override in TEXTS:
        return str(override)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept or "").split(",")):
        fields = part.strip().split(";")
        code = fields[0].strip().lower().split("-")[0]
        weight = 1.0
        for field in fields[1:]:
            name, _, value = field.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if code in TEXTS and weight > 0:
            ranked.append((weight, -position, code))  # equal weights: the first listed wins
    return max(ranked)[2] if ranked else "en"


def readable_date(iso: str | None, lang: str) -> str:
    """An ISO 8601 date or time as a reader writes it: ``12 May 2024`` or ``12 May 2024,
    14:03`` (French month names in French); the text unchanged when it is not ISO 8601."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    day = f"{moment.day} {_MONTHS[lang][moment.month - 1]} {moment.year}"
    if len(iso) <= 10:
        return day
    return f"{day}, {moment:%H:%M}"


def readable_age(seconds: float | None, lang: str) -> str:
    """An age in words (``3 hours ago``, ``il y a 3 heures``); empty when unknown."""
    if seconds is None:
        return ""
    words = TEXTS[lang]
    if seconds < 60:
        return words["age_now"]
    if seconds < 3600:
        return words["age_minutes"].format(n=int(seconds // 60))
    if seconds < 86400 * 2:
        return words["age_hours"].format(n=int(seconds // 3600))
    return words["age_days"].format(n=int(seconds // 86400))


def percent(part: int, whole: int) -> str:
    """``part`` as a share of ``whole`` in whole percent (``"42%"``; ``"0%"`` of nothing)."""
    return f"{round(100 * part / whole) if whole else 0}%"
