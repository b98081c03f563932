import io

from bot.adapters.console import answer_to_dict, chat, render_text


def test_render_text_shows_quote_highlight_citation_and_link(engine):
    answer = engine.ask("Red Hat, quel modèle ?")
    text = render_text(answer)
    assert text.startswith("Voici ce que dit la base de connaissances :")
    quote = answer.quotes[0]
    assert f"1. « {quote.before}**{quote.highlight}**{quote.after}" in text
    assert "Redhat est le plus ancien et le spécialiste de ce modèle." in text
    assert "— Commercialisation › Les modèles de commercialisation › Le modèle de support" in text
    assert "knowledge/commercialisation.md#le-mod%C3%A8le-de-support" in text
    coloured = render_text(answer, color=True)
    assert f"\x1b[1m{quote.highlight}\x1b[0m" in coloured


def test_answer_to_dict_shape(engine):
    data = answer_to_dict(engine.ask("What is the open core model?"))
    assert data["language"] == "en" and data["abstained"] is False
    assert data["quotes"][0]["section"] == "Le modèle Open core"
    assert set(data["quotes"][0]) == {"text", "highlight", "section", "breadcrumb", "link", "score"}


def test_chat_answers_handles_commands_and_quits(engine):
    lines = iter(["", "/help", "/oops", "Qu'est-ce que le modèle open core ?", "/quit"])
    out = io.StringIO()
    code = chat(engine, read=lambda _prompt: next(lines), out=out, color=False)
    text = out.getvalue()
    assert code == 0
    assert "Unknown command '/oops'" in text
    assert "Le modèle open core consiste à proposer une version open source" in text
    assert "#le-mod%C3%A8le-open-core" in text


def test_chat_ends_on_end_of_input(engine):
    def read(_prompt):
        raise EOFError

    assert chat(engine, read=read, out=io.StringIO()) == 0
