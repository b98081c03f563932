"""The overview's SVG chart and the pages' texts, without a server."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bot.web.charts import day_chart
from bot.web.texts import EN, FR, choose_language, readable_age, readable_date
from tests.web.fake_dashboard import overview

SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_has_one_bar_per_day_platform_and_outcome_with_its_count() -> None:
    svg = day_chart(overview())
    root = ET.fromstring(svg)  # well-formed XML
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    found = {
        (b.get("data-day"), b.get("data-platform"), b.get("data-outcome")): b.find(
            f"{SVG}title"
        ).text
        for b in bars
    }
    assert found == {
        ("2024-05-01", "slack", "answered"): "1 May 2024 · slack · answered: 3",
        ("2024-05-01", "slack", "unsure"): "1 May 2024 · slack · unsure: 1",
        ("2024-05-01", "discord", "answered"): "1 May 2024 · discord · answered: 1",
        ("2024-05-01", "discord", "declined"): "1 May 2024 · discord · declined: 1",
        ("2024-05-03", "slack", "answered"): "3 May 2024 · slack · answered: 4",
        ("2024-05-03", "slack", "unsure"): "3 May 2024 · slack · unsure: 1",
        ("2024-05-03", "slack", "declined"): "3 May 2024 · slack · declined: 1",
    }
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"answered", "unsure", "declined", "Day", "Questions", "slack", "discord"} <= set(texts)
    assert "style=" not in svg  # presentation attributes only (the CSP allows no inline style)
    # heights follow the counts: the busiest day (6 questions) fills the plot's 110 units
    height = {
        (b.get("data-day"), b.get("data-platform"), b.get("data-outcome")): float(b.get("height"))
        for b in bars
    }
    busiest = [
        h for (day, platform, _), h in height.items() if (day, platform) == ("2024-05-03", "slack")
    ]
    assert abs(sum(busiest) - 110) < 0.5
    assert abs(height[("2024-05-01", "slack", "answered")] - 3 * 110 / 6) < 0.1


def test_the_chart_escapes_a_platform_name_and_speaks_french() -> None:
    data = overview()
    data["platforms"] = ["<b>&"]
    data["per_day"] = [
        {"day": "2024-05-02", "platform": "<b>&", "answered": 2, "unsure": 0, "declined": 0}
    ]
    svg = day_chart(data, "fr")
    ET.fromstring(svg)
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
    assert "2 mai 2024 · &lt;b&gt;&amp; · répondu: 2" in svg
    assert "Jour" in svg


def test_english_and_french_have_the_same_texts() -> None:
    assert EN.keys() == FR.keys()
    for key in EN:
        assert re.findall(r"\{\w+\}", EN[key]) == re.findall(r"\{\w+\}", FR[key]), key


def test_the_language_follows_accept_language_weights() -> None:
    assert choose_language(None, None) == "en"
    assert choose_language("fr-FR,fr;q=0.9,en;q=0.8", None) == "fr"
    assert choose_language("de, en;q=0.3, fr;q=0.7", None) == "fr"
    assert choose_language("fr;q=0.5, en", None) == "en"
    assert choose_language("de", None) == "en"
    assert choose_language("fr", "en") == "en" and choose_language("en", "fr") == "fr"
    assert choose_language("fr", "xx") == "fr"


def test_dates_and_ages_read_as_words() -> None:
    assert readable_date("2024-05-03T09:15:00+00:00", "en") == "3 May 2024, 09:15"
    assert readable_date("2024-08-03", "fr") == "3 août 2024"
    assert readable_date("not a date", "en") == "not a date"
    assert readable_age(30, "en") == "just now"
    assert readable_age(7300, "fr") == "il y a 2 heures"
    assert readable_age(3 * 86400, "en") == "3 days ago"
