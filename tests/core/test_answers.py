import pytest

from bot.config import MAX_QUESTION_CHARS, Settings
from bot.core.retrieval.answers import trim_around
from bot.core.retrieval.engine import EmptyQuestion, KnowledgeEngine
from bot.core.retrieval.search import FusionParams
from bot.core.serialize import answer_from_dict, answer_to_dict
from tests.conftest import KNOWLEDGE

SOURCE = " ".join((KNOWLEDGE / "commercialisation.md").read_text().split())


def _flat(text: str) -> str:
    return " ".join(text.replace("- ", " ").split())


def test_french_question_gets_french_lead_and_cited_quotes(engine):
    answer = engine.ask("Quels sont les trois piliers du succès d'un projet open source ?")
    assert answer.language == "fr"
    assert answer.lead == "Voici ce que dit la base de connaissances :"
    assert not answer.abstained
    first = answer.quotes[0]
    assert first.citation.section == "Les trois piliers du succès"
    assert first.citation.label == "Commercialisation › Les trois piliers du succès"
    assert first.citation.link.endswith("#les-trois-piliers-du-succ%C3%A8s")
    assert first.highlight and first.highlight in first.text
    assert 1 <= len(answer.quotes) <= 3
    assert len({q.citation.section for q in answer.quotes}) == len(answer.quotes)


def test_quotes_are_never_invented(engine):
    """Every quoted word comes from the page: the quote, without its cut marks, is in it."""
    for question in ["What is the open core model?", "Vente top-down ou libre-service ?"]:
        for quote in engine.ask(question).quotes:
            for piece in quote.text.split("…"):
                assert _flat(piece.replace("**", "")) in _flat(SOURCE.replace("**", ""))


def test_english_question_gets_english_lead_and_french_quote(engine):
    answer = engine.ask("Why do customers dislike vendor lock-in?")
    assert answer.language == "en"
    assert answer.lead == "Here is what the knowledge base says:"
    assert answer.quotes[0].citation.section == "Le modèle SaaS"
    assert "vendor lock-in" in answer.quotes[0].highlight


def test_out_of_scope_question_abstains_with_closest_sections(engine):
    answer = engine.ask("Quelle est la meilleure recette de crêpes ?")
    assert answer.abstained
    assert answer.quotes == ()
    assert answer.lead.startswith("Je n'ai rien trouvé dans la base de connaissances")
    assert 1 <= len(answer.suggestions) <= 3
    assert all("/knowledge/commercialisation.md" in s.link for s in answer.suggestions)
    english = engine.ask("How do I bake sourdough bread?")
    assert english.abstained
    assert english.lead.startswith("I found nothing in the knowledge base")


def test_an_answer_close_to_abstaining_says_it_may_not_answer(engine):
    """A question the page does not answer but scores just above the abstention threshold:
    the bot still quotes what comes closest, word for word, led by a warning in the
    question's language; a question the page answers plainly gets the plain lead."""
    answer = engine.ask("How do I fork a repository on GitHub?")
    assert not answer.abstained and answer.hedged
    assert answer.lead == (
        "I am not sure the knowledge base answers this question; here is what comes closest:"
    )
    assert answer.quotes and all(
        _flat(q.text.replace("…", "").replace("**", "")) in _flat(SOURCE.replace("**", ""))
        for q in answer.quotes
    )
    assert answer_from_dict(answer_to_dict(answer)).hedged
    plain = engine.ask("Quels sont les trois piliers du succès d'un projet open source ?")
    assert not plain.hedged and plain.lead == "Voici ce que dit la base de connaissances :"


@pytest.mark.parametrize(("margin", "hedged"), [(0.0, False), (10.0, True)])
def test_the_hedge_band_is_a_setting(tmp_path, default_embedder, margin, hedged):
    """``hedge_margin`` is the width of the band above the abstention threshold: none at 0,
    every answer at a band wider than any score; abstentions stay abstentions."""
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path / "index")
    engine = KnowledgeEngine.open(
        settings, embedder=default_embedder, params=FusionParams(hedge_margin=margin)
    )
    answer = engine.ask("Quels sont les trois piliers du succès d'un projet open source ?")
    assert answer.hedged is hedged and not answer.abstained
    assert answer.lead.startswith("Je ne suis pas sûr" if hedged else "Voici ce que dit")
    assert answer.quotes[0].citation.section == "Les trois piliers du succès"
    crepes = engine.ask("Quelle est la meilleure recette de crêpes ?")
    assert crepes.abstained and not crepes.hedged


def test_an_answer_stored_before_the_hedge_existed_loads_unhedged(engine):
    data = answer_to_dict(engine.ask("What is the open core model?"))
    del data["hedged"]
    assert answer_from_dict(data).hedged is False


def test_a_question_about_something_the_pages_never_mention_names_it(engine):
    """Near-topic questions score like related ones ("sales team", "bug", "code" are on the
    page); the word the page does not know at all is what gives them away, and it is named."""
    answer = engine.ask("What is the best CRM for a sales team?")
    assert answer.abstained and answer.quotes == ()
    assert answer.lead == (
        "The knowledge base does not mention “CRM”, so I found nothing there that answers this "
        "question. The closest sections:"
    )
    assert answer.suggestions
    french = engine.ask("Comment corriger un bug dans mon code Python ?")
    assert french.abstained
    assert french.lead.startswith("La base de connaissances ne parle pas de « Python » : ")
    # English words of an in-scope question are known through the glossary or the encoder.
    assert not engine.ask(
        "What are our advantages against hyperscalers hosting our code?"
    ).abstained


def test_k_and_all_passages(engine):
    one = engine.ask("Qu'est-ce que le value-market fit ?", k=1)
    assert len(one.quotes) == 1
    many = engine.ask("Qu'est-ce que le value-market fit ?", k=5, per_section=False)
    assert len(many.quotes) >= len(engine.ask("Qu'est-ce que le value-market fit ?", k=5).quotes)


def test_empty_and_huge_questions(engine):
    with pytest.raises(EmptyQuestion, match="value-market fit"):
        engine.ask("   \n ")
    huge = "Qu'est-ce que le modèle open core ? " + "blabla " * 600
    answer = engine.ask(huge)
    assert len(answer.question) == MAX_QUESTION_CHARS
    assert answer.notes == ("Question raccourcie à 2000 caractères.",)


def test_trim_around_keeps_the_highlight_and_marks_cuts():
    text = " ".join(f"mot{i}" for i in range(300))
    start = text.index("mot150")
    end = start + len("mot150 mot151")
    before, highlight, after = trim_around(text, start, end, limit=100)
    assert highlight == "mot150 mot151"
    assert before.startswith("…") and after.endswith("…")
    assert len(before + highlight + after) <= 104
    assert trim_around("short text", 0, 5) == ("", "short", " text")
