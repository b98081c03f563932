import pytest

from bot.config import MAX_QUESTION_CHARS, Settings
from bot.core.knowledge.build import build_index
from bot.core.knowledge.index import load_index
from bot.core.knowledge.passages import split_sentences
from bot.core.retrieval.answers import make_quote
from bot.core.retrieval.engine import EmptyQuestion, KnowledgeEngine
from bot.core.retrieval.quotes import QuoteShape
from bot.core.retrieval.search import FusionParams, Hit
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


# A page whose first section holds one long paragraph (cut into two passages at about 900
# characters), a list with its lead-in, then a second section.
_LONG = [
    f"Phrase {n} du long paragraphe, qui parle de la strategie numero {n} en detail et longuement."
    for n in range(1, 17)
]
PAGE = (
    "---\ntitle: Essai\n---\n\n## Premiere section\n\n"
    + " ".join(_LONG)
    + "\n\nLes trois regles de la maison :\n\n"
    + "- Regle une, toujours relire son code avant de le publier.\n"
    + "- Regle deux, ecrire les tests avant de corriger un bogue.\n"
    + "- Regle trois, ne jamais publier le vendredi soir.\n\n"
    + "## Seconde section\n\nCe texte appartient a une autre section et ne doit pas suivre.\n"
)


@pytest.fixture
def page_index(tmp_path, fake_embedder):
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "essai.md").write_text(PAGE, encoding="utf-8")
    build_index(tmp_path / "kb", tmp_path / "idx", fake_embedder)
    return load_index(tmp_path / "idx")


def _hit(index, sentence):
    """A hit whose highlight is the sentence that starts with ``sentence``."""
    number = next(i for i, s in enumerate(index.sentences[:]) if s.startswith(sentence))
    return Hit(int(index.sentence_owner[number]), 1.0, 1.0, 1.0, 1.0, number)


def _ends_a_sentence(text):
    return text.rstrip().endswith((".", ":", "!", "?"))


def test_the_quote_runs_on_into_the_next_passage_of_its_section(page_index):
    """The paragraph is cut into two passages; a highlight at the end of the first one is
    followed by the next sentences, from the second passage, cut between sentences."""
    owners = {
        int(page_index.sentence_owner[i])
        for i, s in enumerate(page_index.sentences[:])
        if s.startswith("Phrase")
    }
    assert len(owners) == 2  # the paragraph straddles two passages
    first_passage = page_index.passages[min(owners)].text
    last = [s for s in _LONG if s in first_passage][-1]
    following = _LONG[_LONG.index(last) + 1]
    quote = make_quote(page_index, _hit(page_index, last[:12]))
    assert quote.highlight == last
    assert following in quote.after  # the answer goes on in the next passage: shown
    assert len(quote.text) <= QuoteShape().chars
    assert _ends_a_sentence(quote.text) and quote.text[0].isupper()
    assert "…" not in quote.text
    assert all(s in _LONG for s in split_sentences(quote.text.replace(". ", ".\n")))


def test_a_list_is_quoted_with_its_lead_in(page_index):
    quote = make_quote(page_index, _hit(page_index, "Regle deux"))
    assert quote.highlight == "- Regle deux, ecrire les tests avant de corriger un bogue."
    assert quote.before.startswith("Les trois regles de la maison :\n- Regle une")
    assert quote.after == "\n- Regle trois, ne jamais publier le vendredi soir."


def test_a_lead_in_highlight_shows_its_items(page_index):
    quote = make_quote(page_index, _hit(page_index, "Les trois regles"))
    assert quote.text.startswith("Les trois regles de la maison :\n- Regle une")
    assert quote.text.endswith("- Regle trois, ne jamais publier le vendredi soir.")


def test_a_quote_never_crosses_into_another_section(page_index):
    for sentence in ("Regle trois", "Phrase 16", "Ce texte"):
        quote = make_quote(page_index, _hit(page_index, sentence))
        own_section = "Ce texte" in quote.text
        assert own_section is (sentence == "Ce texte")
        assert not own_section or ("Phrase" not in quote.text and "Regle" not in quote.text)


@pytest.mark.parametrize("chars", [120, 200, 300, 480])
def test_a_quote_is_cut_between_sentences_only(page_index, chars):
    """Whatever the room, every sentence shown is whole and the highlight is kept."""
    shape = QuoteShape(chars=chars, list_chars=chars)
    whole = set(page_index.sentences[:])
    for number, sentence in enumerate(page_index.sentences[:]):
        hit = Hit(int(page_index.sentence_owner[number]), 1.0, 1.0, 1.0, 1.0, number)
        quote = make_quote(page_index, hit, shape)
        assert sentence in quote.highlight
        shown = [
            s.removeprefix("- ") for line in quote.text.split("\n") for s in split_sentences(line)
        ]
        assert all(s in whole for s in shown), shown
        assert len(quote.text) <= max(chars, len(quote.highlight))
