import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.core.db import (
    SCHEMA_VERSION,
    feedback_table,
    meta_table,
    progress_table,
    questions_table,
)
from bot.core.team.checklists import load_checklists
from bot.core.team.progress import checklist_state
from bot.core.team.report import build_report, plot_report
from bot.core.team.store import Store, conversation_key
from tests.conftest import KNOWLEDGE

RAW_USER = "U0RAWUSER4242"


def test_progress_survives_a_restart(db_url):
    conv = conversation_key("slack", "T1", "C1")
    store = Store(db_url)
    store.tick(conv, "walk-the-funnel", "i-1", "First item", "alice")
    store.close()
    reopened = Store(db_url)
    ticks = reopened.progress(conv, "walk-the-funnel")
    assert list(ticks) == ["i-1"]
    assert ticks["i-1"].by == "alice"
    assert ticks["i-1"].at.tzinfo is not None
    assert reopened.progress(conversation_key("slack", "T1", "C2"), "walk-the-funnel") == {}


def test_ticking_twice_keeps_the_first_tick_and_untick_reset(db_url):
    store = Store(db_url)
    first = store.tick("c", "x", "i-1", "Item", "alice")
    second = store.tick("c", "x", "i-1", "Item", "bob")
    assert second.by == "alice" and second.at == first.at
    store.tick("c", "x", "i-2", "Item 2", "bob")
    assert store.untick("c", "x", "i-1") is True
    assert store.untick("c", "x", "i-1") is False
    assert store.reset("c", "x") == 1
    assert store.progress("c", "x") == {}


def test_32_concurrent_ticks_from_8_threads_are_all_recorded(db_url):
    store = Store(db_url)
    Store(db_url).close()  # a second process-like opener does not disturb the schema
    barrier = threading.Barrier(8)
    errors = []

    def worker(thread: int) -> None:
        try:
            barrier.wait()
            for n in range(4):
                item = f"i-{thread}-{n}"
                store.tick("conv", "walk-the-funnel", item, f"Item {item}", f"user{thread}")
                store.tick("conv", "walk-the-funnel", "i-shared", "Shared", f"user{thread}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    ticks = store.progress("conv", "walk-the-funnel")
    assert len(ticks) == 33  # 32 distinct items + the shared one, ticked by all, kept once
    assert {ticks[f"i-{t}-{n}"].by for t in range(8) for n in range(4)} == {
        f"user{t}" for t in range(8)
    }


def test_an_item_removed_from_the_knowledge_base_is_reported_retired(db_url, tmp_path):
    import shutil

    kb = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, kb)
    checklists, _ = load_checklists(kb)
    pmf = next(c for c in checklists if c.id == "product-market-fit")
    store = Store(db_url)
    conv = conversation_key("discord", "G1", "C9")
    for item in pmf.items[:2]:
        store.tick(conv, pmf.id, item.id, item.text, "carol")
    page = kb / "commercialisation.md"
    page.write_text(
        page.read_text()
        .replace("- Quelles sont les alternatives sur le marché ?\n", "")
        .replace(
            "- Quel est le problème que le logiciel open source aide à résoudre ?",
            "- Quel problème le logiciel résout-il ?",
        )
    )
    checklists, _ = load_checklists(kb)
    pmf = next(c for c in checklists if c.id == "product-market-fit")
    state = checklist_state(store, conv, pmf)
    assert [s.item.text for s in state.items] == [
        "Quel problème le logiciel résout-il ?",
        "Pour qui résout-il ce problème ?",
    ]
    assert [s.done for s in state.items] == [False, True]  # progress stays on its item
    assert [t.item_text for t in state.retired] == [
        "Quel est le problème que le logiciel open source aide à résoudre ?"
    ]
    assert state.retired[0].by == "carol"


def _stored_bytes(store: Store, url: str) -> bytes:
    """Everything the database holds: the files for SQLite, every row for PostgreSQL."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob("playbook.db*"))
    with store.engine.connect() as conn:
        rows = [
            row
            for table in (questions_table, feedback_table, progress_table, meta_table)
            for row in conn.execute(select(table))
        ]
    return repr(rows).encode()


def test_no_raw_user_id_in_log_or_feedback(db_url):
    store = Store(db_url, salt="pepper")
    store.log_question(
        platform="slack",
        channel="C1",
        user=RAW_USER,
        question="Qu'est-ce que l'open core ?",
        abstained=False,
        top_section="Le modèle Open core",
        latency_ms=2.5,
    )
    store.record_feedback(
        platform="slack",
        channel="C1",
        user=RAW_USER,
        question="Qu'est-ce que l'open core ?",
        passages=[{"section": "Le modèle Open core"}],
        vote=1,
        comment="clear",
    )
    store.tick("slack:T:C1", "walk-the-funnel", "i-1", "Item", "U0TICKER77")
    if db_url.startswith("sqlite"):
        store.close()  # checkpoint the write-ahead log into the file
    stored = _stored_bytes(store, db_url)
    assert RAW_USER.encode() not in stored
    assert store.user_hash(RAW_USER).encode() in stored
    assert b"U0TICKER77" in stored  # progress shows who ticked
    other = Store(db_url, salt="salt2")
    assert other.user_hash(RAW_USER) != store.user_hash(RAW_USER)


def test_a_generated_salt_is_kept_in_its_own_file_never_in_the_database(db_url, tmp_path):
    salt_file = tmp_path / "secret" / "user-salt"
    store = Store(db_url, salt_file=salt_file)
    first = store.user_hash("U1")
    assert "PLAYBOOK_USER_SALT is not set" in store.warnings[0]
    assert salt_file.stat().st_mode & 0o777 == 0o600
    again = Store(db_url, salt_file=salt_file)
    assert again.user_hash("U1") == first and not again.warnings
    with again.engine.connect() as conn:
        keys = set(conn.execute(select(meta_table.c.key)).scalars())
    assert "salt" not in keys


def test_a_salt_an_older_version_kept_in_the_database_moves_out(db_url, tmp_path):
    store = Store(db_url, salt="")
    with store.engine.begin() as conn:  # as versions before 0.1 kept it
        conn.execute(meta_table.insert().values(key="salt", value="old-salt"))
    moved = Store(db_url, salt_file=tmp_path / "user-salt")
    assert (tmp_path / "user-salt").read_text().strip() == "old-salt"
    assert moved.user_hash("U1") == Store(db_url, salt="old-salt").user_hash("U1")
    with moved.engine.connect() as conn:
        assert "salt" not in set(conn.execute(select(meta_table.c.key)).scalars())


def test_retention_purges_old_rows(db_url):
    store = Store(db_url, retention_days=30)
    now = datetime.now(UTC)
    for days in (1, 29, 31, 200):
        store.log_question(
            platform="cli",
            channel="t",
            user="u",
            question=f"q{days}",
            abstained=False,
            top_section=None,
            latency_ms=1.0,
            at=now - timedelta(days=days),
        )
    assert store.purge(now) == 2
    assert [r["question"] for r in store.questions()] == ["q29", "q1"]


def test_newer_schema_is_refused(db_url):
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(
            meta_table.update()
            .where(meta_table.c.key == "schema_version")
            .values(value=str(SCHEMA_VERSION + 1))
        )
    with pytest.raises(RuntimeError, match="newer than this playbook"):
        Store(db_url)


@pytest.fixture
def seeded(db_url):
    store = Store(db_url)
    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    rows = [
        (0, "Qu'est-ce que l'open core ?", False, "Le modèle Open core", 2.0),
        (2, "Combien coûte un stand au FOSDEM ?", None, "Sensibilisation et intérêt", 5.0),
        (0, "What is open core?", False, "Le modèle Open core", 4.0),
        (0, "Quel temps fait-il ?", True, None, 3.0),
        (1, "Red Hat ?", False, "Le modèle de support", 6.0),
        (1, "quel temps fait-il ?", True, None, 8.0),
        (
            3,
            "Comment convertir les utilisateurs ?",
            False,
            "Évaluation et intention - Génération de prospects et développement commercial",
            10.0,
        ),
        (40, "Too old to count", False, "Le modèle SaaS", 100.0),
    ]
    for days, question, abstained, section, latency in rows:
        store.log_question(
            platform="slack",
            channel="C1",
            user="u1",
            question=question,
            abstained=bool(abstained),
            top_section=section,
            latency_ms=latency,
            at=now - timedelta(days=days),
            hedged=abstained is None,  # None: answered unsure
        )
    for vote in (1, 1, 1, -1):
        store.record_feedback(
            platform="slack",
            channel="C1",
            user="u2",
            question="q",
            passages=[],
            vote=vote,
            at=now - timedelta(hours=1),
        )
    return store, now


def test_report_figures_on_a_seeded_log(seeded):
    store, now = seeded
    report = build_report(store, days=7, now=now)
    assert report["period"] == {"from": "2026-11-21", "to": "2026-11-27", "days": 7}
    assert report["questions"] == 7 and report["abstained"] == 2 and report["hedged"] == 1
    per_day = {d["day"]: (d["questions"], d["abstained"]) for d in report["questions_per_day"]}
    assert per_day["2026-11-27"] == (3, 1)
    assert per_day["2026-11-26"] == (2, 1)
    assert per_day["2026-11-25"] == (1, 0)
    assert per_day["2026-11-24"] == (1, 0)
    assert per_day["2026-11-23"] == (0, 0)
    assert report["top_sections"][0] == {"section": "Le modèle Open core", "questions": 2}
    weather, stand = report["gaps"]
    assert weather["question"] in ("Quel temps fait-il ?", "quel temps fait-il ?")
    assert (weather["count"], weather["unsure"]) == (2, 0)
    assert stand["question"] == "Combien coûte un stand au FOSDEM ?"
    assert (stand["count"], stand["unsure"], stand["not_covered"]) == (1, 1, 0)
    assert report["feedback"] == {"up": 3, "down": 1, "ratio": 0.75}
    assert report["latency_ms"] == {"p50": 5.0, "p95": 9.4, "max": 10.0}


def test_report_plot_writes_a_png(seeded, tmp_path):
    store, now = seeded
    target = tmp_path / "report.png"
    plot_report(build_report(store, days=7, now=now), target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000


def test_a_version_1_database_is_migrated(db_url):
    store = Store(db_url)
    store.tick("c", "x", "i-1", "Old tick", "U1")
    store.log_question(
        platform="slack", channel="C", user="U", question="old", abstained=False,
        top_section="s", latency_ms=1.0,
    )  # fmt: skip
    with store.engine.begin() as conn:  # make it look like a version 1 database
        conn.execute(text("ALTER TABLE question_log DROP COLUMN hedged"))
        conn.execute(text("ALTER TABLE checklist_progress DROP COLUMN done_by_name"))
        conn.execute(text("DROP INDEX ix_feedback_answer_id"))
        conn.execute(text("ALTER TABLE feedback DROP COLUMN answer_id"))
        conn.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="1")
        )
    store.close()
    migrated = Store(db_url)
    assert migrated.progress("c", "x")["i-1"].name is None  # old rows kept
    migrated.tick("c", "x", "i-2", "New tick", "U2", "Grace")
    assert migrated.progress("c", "x")["i-2"].name == "Grace"
    with migrated.engine.connect() as conn:
        version = conn.execute(
            select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).scalar()
    assert version == str(SCHEMA_VERSION)
    migrated.record_feedback(
        platform="slack", channel="C", user="U", question="q", passages=[], vote=1, answer_id="a"
    )
    assert migrated.feedback_counts() == {"up": 1, "down": 0}
    migrated.log_question(
        platform="slack", channel="C", user="U", question="new", abstained=False,
        top_section="s", latency_ms=1.0, hedged=True,
    )  # fmt: skip
    assert [(q["question"], q["hedged"]) for q in migrated.questions()] == [
        ("old", False),
        ("new", True),
    ]


def test_one_vote_per_user_and_answer_the_latest_counts(db_url):
    store = Store(db_url)
    vote = dict(platform="slack", channel="C1", question="q", passages=[])
    for _ in range(5):
        store.record_feedback(user="U1", vote=1, answer_id="ans-1", **vote)
    assert store.feedback_counts() == {"up": 1, "down": 0}
    store.record_feedback(user="U1", vote=-1, answer_id="ans-1", **vote)  # changed their mind
    store.record_feedback(user="U2", vote=1, answer_id="ans-1", **vote)
    store.record_feedback(user="U1", vote=1, answer_id="ans-2", **vote)
    assert store.feedback_counts() == {"up": 2, "down": 1}


def test_mentions_never_reach_the_question_log(db_url):
    from bot.core.db import questions_table
    from bot.core.team.taught_rows import strip_mentions

    assert (
        strip_mentions("<@U0BOB> et <#C1|général>, quel modèle ? <!here>") == "et , quel modèle ?"
    )
    assert strip_mentions("hey <@!1234> <@&99> pricing?") == "hey pricing?"
    store = Store(db_url)
    store.log_question(
        platform="slack",
        channel="C1",
        user="U1",
        question="/ask <@U0BOB|bob> quel modèle pour Bob ?",
        abstained=False,
        top_section=None,
        latency_ms=1.0,
    )
    with store.engine.connect() as conn:
        (stored,) = conn.execute(select(questions_table.c.question)).scalars()
    assert "U0BOB" not in stored and stored == "/ask quel modèle pour Bob ?"


def test_taught_rows_one_per_user_and_question_with_their_version(db_url):
    store = Store(db_url, salt="s")
    kb = f"kb-{secrets.token_hex(4)}"
    assert store.taught_version(kb) == (0, 0)
    store.teach(
        knowledge=kb,
        question="<@U1> Où est X ?",
        section="p.md#A",
        section_title="A",
        weight=1.0,
        user="U1",
        platform="slack",
    )
    store.teach(
        knowledge=kb,
        question="où est x",
        section="p.md#B",
        section_title="B",
        weight=1.0,
        user="U1",
        platform="slack",
    )  # the same user, the same question
    store.teach(
        knowledge=kb,
        question="Où est X ?",
        section="",
        section_title="",
        weight=1.0,
        user="U2",
        platform="discord",
    )
    rows = store.taught(kb)
    assert [(r.question, r.section, r.platform) for r in rows] == [
        ("où est x", "p.md#B", "slack"),
        ("Où est X ?", "", "discord"),
    ]
    assert rows[0].user_hash not in ("U1", "U2") and rows[0].question_key == "où est x"
    count, top = store.taught_version(kb)
    assert count == 2 and top == rows[-1].id
    assert store.forget_rows([rows[0].id]) == 1
    assert store.forget_rows([rows[1].id]) == 1
    assert store.taught(kb) == [] and store.taught(f"{kb}-other") == []
