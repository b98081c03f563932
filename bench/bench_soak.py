"""Soak: 1,000 questions over 60 s through the Slack HTTP endpoint of a real ``playbook serve``
(against the fake Slack on 127.0.0.1), with faults on a schedule:

- the SQLite database locked by another process for 10 s,
- the database read-only for 10 s (by mode; for root, whom modes do not stop, by the
  immutable attribute),
- the served index corrupted on disk, then a page edited (the edit must be served),
- SIGTERM right after the last question.

Prints how many questions were acknowledged, answered, apologised for (an apology or "I am
restarting"), lost (acknowledged, never replied to: target 0), replied to twice, and refused
(not acknowledged, so Slack sends them again); the p50/p95/max answer time (from the POST to
the reply reaching Slack); the seconds /healthz was 503; whether the edit was served; the
exit code and how long the exit took. Asserts nothing.

A burst instead (``--burst N``): N questions posted together through the Slack HTTP
endpoint; prints the time from the first POST to the last answer reaching Slack (and p50).
With ``--sigterm-after K`` the bot gets SIGTERM once K of them were answered, with a drain
of ``--drain`` seconds (PLAYBOOK_DRAIN_SECONDS): prints how many acknowledged questions got
no reply at all (target 0), besides the answers and "I am restarting" notices.
``--repeat R`` makes each question R times longer (dearer to answer: a drain that runs out).

Run: python bench/bench_soak.py [--questions N] [--seconds S]
     python bench/bench_soak.py --burst 200
     python bench/bench_soak.py --burst 200 --sigterm-after 50 --drain 2 --repeat 20
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.messages import message  # noqa: E402
from tests.adapters.fake_slack import (  # noqa: E402
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    event_body,
    mention,
    sign,
)
from tests.helpers import (  # noqa: E402
    Bot,
    ThreadedFake,
    copy_knowledge,
    http_get,
    http_post,
    wait_until,
)

APOLOGIES = {message(lang, key) for lang in ("fr", "en") for key in ("sorry", "restarting")}
EDIT = "\n\n## Le cabestan\n\nLe cabestan de l'équipe tourne chaque dimanche matin.\n"
EDIT_QUESTION = "Quand tourne le cabestan de l'équipe ?"


class Soak:
    """The bot, its fake Slack, and what was sent and seen."""

    def __init__(self, workdir: Path, slack: ThreadedFake, **extra: str) -> None:
        self.workdir, self.slack = workdir, slack.fake
        self.database = workdir / ".playbook" / "playbook.db"
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "PLAYBOOK_HEALTH_PORT": "auto",
            "PLAYBOOK_WATCH_SECONDS": "1",
            "PLAYBOOK_RATE_LIMIT_PER_MINUTE": "0",
            **extra,
        }
        # The bot binds its ports itself (port 0, auto) and names them in its log, which is
        # read as it comes (a pipe nobody read would fill and block the bot).
        self.proc = Bot(workdir, "serve", "--slack-http", "--port", "0", env=env)
        self.health = self.proc.port("health", 120)
        self.port = self.proc.port("slack", 120)
        wait_until(lambda: self._healthz() == 200, 120, "the bot")
        self.sent: dict[str, float] = {}  # thread ts -> when the POST left
        self.status: dict[str, int | str] = {}
        self.acked: dict[str, float] = {}  # thread ts -> seconds until the POST returned
        self.unhealthy: list[float] = []
        self.events: list[str] = []

    def _healthz(self) -> int:
        try:
            return http_get(f"http://127.0.0.1:{self.health}/healthz")[0]
        except OSError:
            return 0

    def ask(self, n: int, text: str) -> None:
        """Post question ``n`` as a signed mention from its own user."""
        ts = f"1800000000.{n:06d}"
        body = event_body(mention(text, ts=ts, user=f"U{n % 400:04d}"), f"EvSoak{n}")
        headers = {"Content-Type": "application/json", **sign(body)}
        self.sent[ts] = time.monotonic()
        try:
            self.status[ts] = http_post(f"http://127.0.0.1:{self.port}/slack/events", body, headers)
        except urllib.error.HTTPError as exc:
            self.status[ts] = exc.code
        except OSError as exc:
            self.status[ts] = type(exc).__name__
        self.acked[ts] = time.monotonic() - self.sent[ts]

    def watch_health(self, stop: threading.Event, every: float = 0.25) -> None:
        """Sample /healthz until ``stop``; each 503 counts ``every`` seconds."""
        while not stop.wait(every):
            if self._healthz() == 503:
                self.unhealthy.append(every)

    def stop(self) -> tuple[int, float, str]:
        """SIGTERM; ``(exit code, seconds to exit, stderr)``."""
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            _out, err = self.proc.communicate(timeout=120)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        took = time.monotonic() - began
        return self.proc.returncode, took, err


def _read_only(files: list[Path], on: bool) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", *map(str, files)], check=True)
    else:
        for path in files:
            path.chmod(0o444 if on else 0o644)


def _corrupt_served_index(workdir: Path) -> str:
    index = workdir / ".playbook" / "index"
    served = index / (index / "CURRENT").read_text().strip()
    biggest = max((p for p in served.iterdir() if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[-4096:] = bytes(min(4096, len(data)))
    biggest.write_bytes(bytes(data))
    return biggest.name


def faults(soak: Soak, began: float, seconds: float) -> None:
    """The fault schedule, scaled to ``seconds`` (60 s: lock 8-18 s, read-only 24-34 s,
    index corrupted at 40 s and a page edited at 42 s)."""
    scale = seconds / 60

    def at(t: float) -> None:
        time.sleep(max(0.0, began + t * scale - time.monotonic()))

    at(8)
    locker = sqlite3.connect(soak.database, isolation_level=None, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    soak.events.append("database locked")
    at(18)
    locker.execute("ROLLBACK")
    locker.close()
    soak.events.append("database unlocked")
    at(24)
    files = [soak.database, soak.database.with_name(soak.database.name + "-wal")]
    files = [p for p in files if p.exists()]
    _read_only(files, True)
    soak.events.append("database read-only")
    at(34)
    _read_only(files, False)
    soak.events.append("database writable")
    at(40)
    soak.events.append(f"index corrupted ({_corrupt_served_index(soak.workdir)})")
    at(42)
    page = soak.workdir / "knowledge" / "commercialisation.md"
    page.write_text(page.read_text(encoding="utf-8") + EDIT, encoding="utf-8")
    soak.events.append("page edited")


def main() -> None:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--log", type=Path, help="write the bot's log there")
    parser.add_argument("--burst", type=int, help="post this many questions together instead")
    parser.add_argument("--sigterm-after", type=int, help="in a burst: SIGTERM after K answers")
    parser.add_argument("--repeat", type=int, default=1, help="in a burst: questions R times")
    parser.add_argument("--drain", type=int, default=10, help="PLAYBOOK_DRAIN_SECONDS")
    args = parser.parse_args()
    items = yaml.safe_load((ROOT / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    questions = [item["question"] for item in items if item.get("sections")]
    workdir = copy_knowledge(Path(tempfile.mkdtemp(prefix="playbook-soak-")))
    try:
        with ThreadedFake(FakeSlack) as slack:
            if args.burst:
                soak = Soak(workdir, slack, PLAYBOOK_DRAIN_SECONDS=str(args.drain))
                longer = [" ".join([q] * args.repeat) for q in questions]
                err = burst(soak, longer, args.burst, args.sigterm_after)
            else:
                soak = Soak(workdir, slack)
                err = run(soak, questions, args.questions, args.seconds)
            if args.log:
                args.log.write_text(err, encoding="utf-8")
    finally:
        for path in (workdir / ".playbook").glob("playbook.db*"):
            _read_only([path], False)
        shutil.rmtree(workdir, ignore_errors=True)


def run(soak: Soak, questions: list[str], count: int, seconds: float) -> str:
    """Send ``count`` questions evenly over ``seconds`` with the faults, then SIGTERM, and
    print the figures. Returns the bot's log."""
    stop_watching = threading.Event()
    watcher = threading.Thread(target=soak.watch_health, args=(stop_watching,), daemon=True)
    began = time.monotonic()
    fault_thread = threading.Thread(target=faults, args=(soak, began, seconds), daemon=True)
    watcher.start()
    fault_thread.start()
    edit_asked: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        for n in range(count):
            time.sleep(max(0.0, began + n * seconds / count - time.monotonic()))
            late = n >= count - 20 and not fault_thread.is_alive()
            text = EDIT_QUESTION if late else questions[n % len(questions)]
            if late:
                edit_asked.append(f"1800000000.{n:06d}")
            pool.submit(soak.ask, n, text)
        fault_thread.join()
        code, exit_seconds, err = soak.stop()
    stop_watching.set()
    watcher.join()
    report(soak, edit_asked, code, exit_seconds, err)
    return err


def burst(soak: Soak, questions: list[str], count: int, sigterm_after: int | None) -> str:
    """Post ``count`` questions together (one client thread each, released at once), SIGTERM
    once ``sigterm_after`` were answered when given, and print the figures. Returns the bot's
    log."""
    start = threading.Barrier(count)

    def ask(n: int) -> None:
        start.wait()
        soak.ask(n, questions[n % len(questions)])

    code = exit_seconds = err = None
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        sent = [pool.submit(ask, n) for n in range(count)]
        if sigterm_after is not None:
            every = [f"1800000000.{n:06d}" for n in range(count)]
            wait_until(lambda: _replied(soak, every) >= sigterm_after, 120, "the answers")
            code, exit_seconds, err = soak.stop()
        for future in sent:
            future.result()
    if sigterm_after is None:
        acknowledged = [ts for ts, status in soak.status.items() if status == 200]
        wait_until(lambda: _replied(soak, acknowledged) == len(acknowledged), 300, "the answers")
        code, exit_seconds, err = soak.stop()
    report_burst(soak, code, exit_seconds, err)
    return err


def _replied(soak: Soak, threads: list[str]) -> int:
    got = {call.body.get("thread_ts") for call in soak.slack.of("chat.postMessage")}
    return sum(ts in got for ts in threads)


def report_burst(soak: Soak, code: int, exit_seconds: float, err: str) -> None:
    """Print a burst's figures: time to the last answer, acknowledged without a reply."""
    first: dict[str, float] = {}
    apologised = set()
    for call in soak.slack.of("chat.postMessage"):
        ts = call.body.get("thread_ts")
        first.setdefault(ts, call.at)
        if call.body.get("text", "") in APOLOGIES:
            apologised.add(ts)
    acknowledged = [ts for ts, status in soak.status.items() if status == 200]
    lost = [ts for ts in acknowledged if ts not in first]
    answered = [ts for ts in acknowledged if ts in first and ts not in apologised]
    began = min(soak.sent.values())
    times = [first[ts] - began for ts in answered]
    p50, top = np.percentile(times, [50, 100]) if times else (0, 0)
    refused = Counter(str(s) for s in soak.status.values() if s != 200)
    print(f"sent {len(soak.status)}, acknowledged {len(acknowledged)}, refused {dict(refused)}")
    print(f"answered {len(answered)}, restarting/apology {len(apologised)}, ", end="")
    print(f"acknowledged without a reply {len(lost)}")
    print(f"from the first POST: answer p50 {p50:.2f} s, last answer {top:.2f} s")
    acks = [soak.acked[ts] for ts in acknowledged]
    ack50, ack_top = np.percentile(acks, [50, 100]) if acks else (0, 0)
    print(f"acknowledgement (Slack allows 3 s): p50 {ack50:.2f} s, max {ack_top:.2f} s")
    print(f"exit code {code} after {exit_seconds:.1f} s; tracebacks: {err.count('Traceback')}")
    print(f"Web API calls: {dict(Counter(call.method for call in soak.slack.calls))}")


def report(soak: Soak, edit_asked: list[str], code: int, exit_seconds: float, err: str) -> None:
    """Print the figures."""
    replies: dict[str, list] = {}
    for call in soak.slack.of("chat.postMessage"):
        replies.setdefault(call.body.get("thread_ts"), []).append(call)
    acknowledged = [ts for ts, status in soak.status.items() if status == 200]
    answered = apologised = lost = twice = 0
    times = []
    for ts in acknowledged:
        got = replies.get(ts, [])
        if not got:
            lost += 1
            continue
        twice += len(got) > 1
        text = got[0].body.get("text", "")
        if text in APOLOGIES:
            apologised += 1
        else:
            answered += 1
            times.append((got[0].at - soak.sent[ts]) * 1000)
    refused = Counter(str(s) for s in soak.status.values() if s != 200)
    edit_answers = [
        json.dumps(replies[ts][0].body, ensure_ascii=False)
        for ts in edit_asked
        if ts in replies and replies[ts][0].body.get("text", "") not in APOLOGIES
    ]
    edit_served = sum("cabestan" in text for text in edit_answers)
    p50, p95, top = np.percentile(times, [50, 95, 100]) if times else (0, 0, 0)
    print(f"sent {len(soak.status)}, acknowledged {len(acknowledged)}, refused {dict(refused)}")
    print(f"answered {answered}, apologised {apologised}, lost {lost}, replied twice {twice}")
    print(f"answer time p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {top:.0f} ms")
    print(f"/healthz 503 for {sum(soak.unhealthy):.1f} s; faults: {', '.join(soak.events)}")
    print(
        f"the edited page quoted in {edit_served} of the {len(edit_answers)} answers to the "
        f"{len(edit_asked)} questions about it asked last"
    )
    if os.environ.get("SOAK_TIMELINE"):
        began = min(soak.sent.values())
        with open(os.environ["SOAK_TIMELINE"], "w") as out:
            for ts, sent in sorted(soak.sent.items()):
                got = replies.get(ts, [])
                at = f"{got[0].at - began:.2f}" if got else "-"
                kind = (got[0].body.get("text", "")[:20] if got else "LOST").replace(" ", "_")
                print(f"{sent - began:.2f} {at} {kind}", file=out)
    print(f"exit code {code} after {exit_seconds:.1f} s; tracebacks in the log: ", end="")
    print(err.count("Traceback"))
    for line in err.splitlines():
        if " WARNING " in line or " ERROR " in line:
            print("  log:", line[:160])


if __name__ == "__main__":
    main()
