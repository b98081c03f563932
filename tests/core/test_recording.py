"""The recorder's memory of delivered events: one event, seen by several handlers at once in
one process, is first for exactly one of them (a Slack click retried or clicked five times)."""

from __future__ import annotations

import threading

from bot.core.team.recording import Recorder


def test_one_of_two_simultaneous_sightings_wins_whichever_reaches_the_database_first():
    recorder = Recorder()
    database: set[str] = set()
    first_writing, second_done = threading.Event(), threading.Event()

    def insert(key: str) -> bool:  # what the events table says: whether the row is new
        new = key not in database
        database.add(key)
        return new

    def first_store() -> bool:  # the first sighting's write is the slower one
        first_writing.set()
        assert second_done.wait(30)
        return insert("slack:share:a1")

    results: dict[str, bool] = {}
    first = threading.Thread(
        target=lambda: results.update(first=recorder.first_delivery("slack:share:a1", first_store))
    )
    first.start()
    assert first_writing.wait(30)  # the first sighting is noted and writing
    results["second"] = recorder.first_delivery("slack:share:a1", lambda: insert("slack:share:a1"))
    second_done.set()
    first.join(30)
    assert sorted(results.values()) == [False, True]  # exactly one is first
