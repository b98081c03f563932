"""The 14 attacks of issue 25, re-run from outside the process as a red team would: each
against a real ``playbook`` process (``index``, ``checklist``, ``glossary``, ``ask --json``, or
``serve --slack-http`` against the fake Slack API), in its own temporary working directory
(a copy of the bundled ``knowledge/``, its own index and database).

Prints one line per check: ``held`` or ``FAILED`` (or ``figure`` for a cost that is
measured, not judged), with what was measured: exit code, seconds, the peak memory of the
bot's process tree (VmRSS of every process this script started and their children, summed,
sampled every 50 ms) and the reply seen. Rules: the bot's memory stays under 1 GB (the tree
is killed above it) and every hang is bounded by 30 s (a run still going at 60 s is killed
and FAILED). Pages are embedded with ``use-multilingual`` to keep it quick, except attack 1,
which also runs the default embedder.

Run: PYTHONPATH=$PWD python bench/attacks.py [--only 1,3,8] [--words-seconds 300]
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import json
import os
import pty
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.error
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = str(ROOT)  # the bot subprocesses import this tree's ``bot``

from bot.core.messages import message  # noqa: E402
from tests.adapters.fake_slack import (  # noqa: E402
    FakeSlack,
    action_body,
    command_body,
    event_body,
    mention,
    sign,
)
from tests.helpers import ThreadedFake, copy_knowledge, environment, http_post  # noqa: E402
from tests.test_faults import Served  # noqa: E402

CAP_MB = 1024  # the bot's process tree is killed above this
HANG = 30.0  # a hang must end within this
KILL = 60.0  # a run still going then is killed and FAILED
QUICK = {"PLAYBOOK_EMBEDDER": "use-multilingual"}
SECRET = "SECRET-7f3a-do-not-print"
APOLOGIES = {message(lang, key) for lang in ("fr", "en") for key in ("sorry", "restarting")}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

RESULTS: list[str] = []


# --- measuring ----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``."""
    out, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += _children(child)
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def kill_tree() -> None:
    """SIGKILL every process this script started (and theirs)."""
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


class Peak:
    """Samples the summed VmRSS of this script's descendants (the bot's tree) every 50 ms;
    kills the tree when it passes the cap."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self.over = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            total = sum(_rss_kb(pid) for pid in descendants(os.getpid()))
            self.peak_kb = max(self.peak_kb, total)
            if total > CAP_MB * 1024:
                self.over = True
                kill_tree()

    @property
    def mb(self) -> float:
        return self.peak_kb / 1024


@dataclass
class Ran:
    """One ``playbook`` command run to its end (or killed)."""

    code: int | None
    seconds: float
    peak_mb: float
    out: str
    err: str
    killed: str = ""  # why it was killed: "hung" or "over 1 GB"

    @property
    def text(self) -> str:
        return self.out + self.err

    def measured(self) -> str:
        killed = f" KILLED ({self.killed})" if self.killed else ""
        return f"exit {self.code}{killed}, {self.seconds:.1f} s, peak {self.peak_mb:.0f} MB"


def _read_all(fd: int, into: list[bytes]) -> None:
    """Read ``fd`` (a pseudo-terminal's master side) until its other side is closed."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every holder of the other side closed it
            return
        if not chunk:
            return
        into.append(chunk)


def cli(workdir: Path, *args: str, env: dict | None = None, limit: float = KILL) -> Ran:
    """Run ``python -m bot ARGS`` in ``workdir``: killed after ``limit`` s or above 1 GB.
    Its stderr is a terminal, so that a progress bar shows how far a killed run got."""
    master, slave = pty.openpty()
    err: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(master, err), daemon=True)
    reader.start()
    with tempfile.TemporaryFile("w+") as out:
        with Peak() as peak:
            began = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                cwd=workdir,
                env=environment(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=slave,
                text=True,
            )
            os.close(slave)
            killed = ""
            try:
                proc.wait(limit)
            except subprocess.TimeoutExpired:
                killed = "hung"
                kill_tree()
                proc.wait()
            seconds = time.monotonic() - began
        reader.join(10)
        os.close(master)
        if peak.over:
            killed = "over 1 GB"
        out.seek(0)
        text = b"".join(err).decode(errors="replace").replace("\r\n", "\n")
        return Ran(proc.returncode, seconds, peak.mb, out.read(), text, killed)


def report(number: str, verdict: str, name: str, details: str) -> None:
    """Print and keep one result line."""
    line = f"{number:>4} {verdict:<6} {name}: {details}"
    RESULTS.append(line)
    print(line, flush=True)


def judge(ok: bool) -> str:
    return "held" if ok else "FAILED"


WORKDIRS: list[Path] = []


def workdir_for(name: str) -> Path:
    """A fresh working directory holding a copy of the bundled knowledge folder."""
    WORKDIRS.append(Path(tempfile.mkdtemp(prefix=f"attack-{name}-")))
    return copy_knowledge(WORKDIRS[-1])


def last_line(text: str, pattern: str, width: int = 150) -> str:
    """The last line of ``text`` that holds ``pattern`` (shortened), or ``-``."""
    lines = [ln.strip() for ln in re.split(r"[\r\n]", text) if pattern in ln]
    return lines[-1][:width] if lines else "-"


def indexed(ran: Ran) -> int:
    """How many passages ``playbook index`` said it indexed (-1: it did not say)."""
    found = re.search(r"Indexed (\d+) passages", ran.out)
    return int(found.group(1)) if found else -1


def embedded(ran: Ran) -> str:
    """How far the embedding of a killed ``playbook index`` got, from its progress bar."""
    found = re.findall(r"Embedding \[[#.]*\] (\d+)/(\d+)", ran.err)
    return f"embedded {found[-1][0]}/{found[-1][1]} when killed" if found else "embedding not begun"


def bounded(ran: Ran) -> bool:
    return not ran.killed and ran.peak_mb < CAP_MB


def slow(ran: Ran) -> str:
    return f" (over {HANG:.0f} s)" if ran.seconds > HANG else ""


# --- pages and files ----------------------------------------------------------------------

WORDS = re.findall(
    r"[a-zàâçéèêëîïôûùüÿœ]{3,}",
    (ROOT / "knowledge" / "commercialisation.md").read_text(encoding="utf-8").lower(),
)


def words_line(size: int) -> str:
    """``size`` bytes of real words separated by spaces, no punctuation, one line."""
    rnd = random.Random(25)
    parts, total = [], 0
    while total < size:
        word = rnd.choice(WORDS)
        parts.append(word)
        total += len(word.encode()) + 1
    return " ".join(parts)


def base64_line(size: int) -> str:
    return base64.b64encode(random.Random(25).randbytes(size * 3 // 4)).decode()


def attack_1(words_seconds: float) -> None:
    """A page holding one long line without sentence punctuation."""
    runs = [
        ("1a", "1 MB base64 line", base64_line, 1 << 20, QUICK, KILL),
        ("1b", "1 MB line of words", words_line, 1 << 20, QUICK, KILL),
        ("1c", "3.9 MB base64 line", base64_line, int(3.9 * (1 << 20)), QUICK, KILL),
        ("1d", "3.9 MB line of words", words_line, int(3.9 * (1 << 20)), QUICK, KILL),
        ("1e", "1 MB base64 line, default embedder", base64_line, 1 << 20, {}, KILL),
        ("1f", "1 MB line of words, default embedder", words_line, 1 << 20, {}, words_seconds),
    ]
    for number, name, make, size, env, limit in runs:
        work = workdir_for(f"a{number}")
        (work / "knowledge" / "long.md").write_text(f"## Long\n\n{make(size)}\n", encoding="utf-8")
        ran = cli(work, "index", env=env, limit=limit)
        said = last_line(ran.text, "Indexed") if not ran.killed else embedded(ran)
        moving = re.findall(r"Embedding \[[#.]*\] (\d+)/(\d+)", ran.err)
        if make is words_line and ran.killed == "hung" and moving and int(moving[-1][0]):
            # real text to embed: a cost, not a failure, while it makes progress under the cap
            done, total = map(int, moving[-1])
            verdict = "figure" if ran.peak_mb < CAP_MB else "FAILED"
            projected = f"about {total * ran.seconds / done:.0f} s for all at this rate"
            report(number, verdict, f"index, {name}", f"{ran.measured()}; {said} ({projected})")
            continue
        ok = bounded(ran) and indexed(ran) > 0
        limit_note = slow(ran) if limit == KILL else ""
        report(number, judge(ok), f"index, {name}", f"{ran.measured()}{limit_note}; {said}")


def alias_bomb() -> str:
    lines = ["---", "a0: &a0 [" + ", ".join(['"lol lol lol"'] * 9) + "]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines += ["title: *a9", "---", "", "## Bombe", "", "Une page piégée.", ""]
    return "\n".join(lines)


def attack_2() -> None:
    work = workdir_for("a2")
    page = alias_bomb()
    (work / "knowledge" / "bomb.md").write_text(page, encoding="utf-8")
    ran = cli(work, "index", env=QUICK)
    named = "bomb.md" in ran.text
    ok = bounded(ran) and indexed(ran) > 0
    report(
        "2",
        judge(ok),
        f"index, {len(page)}-byte page, YAML alias bomb in front matter",
        f"{ran.measured()}{slow(ran)}; page named: {named}; {last_line(ran.text, 'Indexed')}",
    )
    serving(
        "2b",
        "serve, the alias-bomb page added while serving, then a page edited",
        workdir_for("a2b"),
        edit_loaded(lambda w: (w / "knowledge" / "bomb.md").write_text(page, encoding="utf-8")),
    )


def attack_3() -> None:
    work = workdir_for("a3")
    fifo = work / "knowledge" / "checklists" / "x.yaml"
    os.mkfifo(fifo)
    ran = cli(work, "index", env=QUICK)
    named = "x.yaml" in ran.text
    ok = bounded(ran) and ran.seconds < KILL and named and indexed(ran) > 0
    report(
        "3a",
        judge(ok),
        "index, a named pipe at checklists/x.yaml",
        f"{ran.measured()}{slow(ran)}; named: {last_line(ran.text, 'x.yaml')}",
    )
    serving(
        "3b",
        "serve, a named pipe at checklists/x.yaml: a later edit loaded, /healthz, SIGTERM",
        work,
        edit_loaded(),
    )


EDIT = "\n\n## Le cabestan\n\nLe cabestan de l'équipe tourne chaque dimanche matin.\n"


def edit_loaded(add: Callable[[Path], None] | None = None) -> Scenario:
    """A serving scenario: ``add`` puts a bad file in the knowledge folder (when given), a
    page is edited, and the edit must be answered from within 60 s; /healthz must answer."""

    def scenario(bot: Served, work: Path) -> tuple[bool, str]:
        if add is not None:
            add(work)
        page = work / "knowledge" / "commercialisation.md"
        page.write_text(page.read_text(encoding="utf-8") + EDIT, encoding="utf-8")
        began = time.monotonic()
        loaded, n = False, 0
        while time.monotonic() - began < KILL and not loaded:
            n += 1
            ts = f"33.{n:04d}"
            if bot.ask("Quand tourne le cabestan de l'équipe ?", ts, f"EvEdit{n}") != 200:
                break
            if not wait_for(lambda ts=ts: bot.replies(ts), HANG):
                break
            loaded = "cabestan" in json.dumps(bot.replies(ts)[0], ensure_ascii=False)
            if not loaded:
                time.sleep(1)
        seconds = time.monotonic() - began
        status, text = bot.healthz()
        said = f"edit answered after {seconds:.1f} s: {loaded}; /healthz {status} {text[:90]!r}"
        return loaded and status in (200, 503), said

    return scenario


def attack_4() -> None:
    work = workdir_for("a4")
    os.symlink("/dev/zero", work / "knowledge" / "checklists" / "x.yaml")
    ran = cli(work, "index", env=QUICK)
    named = "x.yaml" in ran.text
    ok = bounded(ran) and named and indexed(ran) > 0
    report(
        "4",
        judge(ok),
        "index, checklists/x.yaml -> /dev/zero",
        f"{ran.measured()}{slow(ran)}; named: {last_line(ran.text, 'x.yaml')}",
    )
    serving(
        "4b",
        "serve, checklists/x.yaml -> /dev/zero added while serving, then a page edited",
        workdir_for("a4b"),
        edit_loaded(lambda w: os.symlink("/dev/zero", w / "knowledge" / "checklists" / "x.yaml")),
    )


def attack_5() -> None:
    work = workdir_for("a5")
    outside = Path(tempfile.mkdtemp(prefix="attack-outside-"))
    WORKDIRS.append(outside)
    (outside / "leaked.yaml").write_text(
        f"id: leaked\ntitle: Leaked\ndescription: outside\nitems:\n  - text: {SECRET}\n",
        encoding="utf-8",
    )
    (outside / "glossary.yaml").write_text(
        f"- fr: [modèle, {SECRET}]\n  en: [model, {SECRET}-en]\n", encoding="utf-8"
    )
    os.symlink(outside / "leaked.yaml", work / "knowledge" / "checklists" / "leaked.yaml")
    (work / "knowledge" / "glossary.yaml").unlink()
    os.symlink(outside / "glossary.yaml", work / "knowledge" / "glossary.yaml")
    for number, args in (
        ("5a", ("checklist",)),
        ("5b", ("checklist", "leaked")),
        ("5c", ("glossary", "modèle")),
        ("5d", ("index",)),
    ):
        ran = cli(work, *args, env=QUICK)
        leaked = SECRET in ran.text
        ok = bounded(ran) and not leaked
        first = (ran.text.strip().splitlines() or ["-"])[0][:110]
        report(
            number,
            judge(ok),
            f"playbook {' '.join(args)}, checklist and glossary symlinked outside",
            f"{ran.measured()}; secret printed: {leaked}; first line: {first!r}",
        )


def attack_6() -> None:
    work = workdir_for("a6")
    deep = "[ " * 3000 + "1" + " ]" * 3000
    page = f'+++\ntitle = "Deep"\nx = {deep}\n+++\n\n## Profond\n\nUne page profonde.\n'
    (work / "knowledge" / "deep.md").write_text(page, encoding="utf-8")
    ran = cli(work, "index", env=QUICK)
    named = "deep.md" in ran.text
    ok = bounded(ran) and named and indexed(ran) >= 20 and "Traceback" not in ran.text
    report(
        "6",
        judge(ok),
        f"index, {len(page):,}-byte page, TOML front matter nested 3,000 deep",
        f"{ran.measured()}{slow(ran)}; named: {last_line(ran.text, 'deep.md')}; "
        f"{last_line(ran.text, 'Indexed')}",
    )
    serving(
        "6b",
        "serve, the deep TOML page added while serving, then a page edited",
        workdir_for("a6b"),
        edit_loaded(lambda w: (w / "knowledge" / "deep.md").write_text(page, encoding="utf-8")),
    )


def attack_7() -> None:
    headings = "".join(
        f"## Titre numéro {n}\n\nLe paragraphe {n} parle du support et des clients.\n\n"
        for n in range(10_000)
    )
    same = "## Répété\n\n" + "Le même paragraphe sur le support, encore et encore.\n\n" * 54_000
    for number, name, page in (
        ("7a", "10,000 headings in one page", headings),
        ("7b", "54,000 identical paragraphs", same),
    ):
        work = workdir_for(f"a{number}")
        (work / "knowledge" / "big.md").write_text(page, encoding="utf-8")
        ran = cli(work, "index", env=QUICK)
        ok = bounded(ran) and indexed(ran) > 0
        report(
            number,
            judge(ok),
            f"index, {name} ({len(page.encode()) / (1 << 20):.1f} MB)",
            f"{ran.measured()}{slow(ran)}; "
            + (embedded(ran) if ran.killed else last_line(ran.text, "Indexed")),
        )


# --- serving ------------------------------------------------------------------------------


def wait_for(predicate: Callable[[], object], timeout: float) -> bool:
    """Poll ``predicate`` every 50 ms; whether it came true within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def stop(bot: Served) -> tuple[int | None, float, str]:
    """SIGTERM; ``(exit code, seconds, stderr)``; killed (exit None) after 60 s."""
    began = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    try:
        _out, err = bot.proc.communicate(timeout=KILL)
    except subprocess.TimeoutExpired:
        kill_tree()
        _out, err = bot.proc.communicate(timeout=10)
        return None, time.monotonic() - began, err
    return bot.proc.returncode, time.monotonic() - began, err


Scenario = Callable[[Served, Path], tuple[bool, str]]


def serving(
    number: str,
    name: str,
    work: Path,
    scenario: Scenario,
    *,
    expect_traceback_free: bool = True,
    **env: str,
) -> None:
    """Start ``playbook serve --slack-http`` in ``work`` against the fake Slack, run
    ``scenario`` (whether it held, what it saw), SIGTERM, and report with the peak memory."""
    settings = {**QUICK, "PLAYBOOK_WATCH_SECONDS": "1", **env}
    with ThreadedFake(FakeSlack) as slack, Peak() as peak:
        bot = None
        try:
            bot = Served(work, slack, **settings)
            ok, said = scenario(bot, work)
        except Exception as exc:  # a failed start or a broken scenario: FAILED, said
            ok, said = False, f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            if bot is None:
                kill_tree()
                code, seconds, err = None, 0.0, ""
            else:
                code, seconds, err = stop(bot)
    tracebacks = err.count("Traceback")
    refused = last_line(err, "NOT reloaded", 400)
    if refused != "-":
        said += f"; bot log: {refused[refused.index('Knowledge') :][:200]!r}"
    ok = ok and code == 0 and seconds < HANG and not peak.over and peak.mb < CAP_MB
    if expect_traceback_free:
        ok = ok and not tracebacks
    over = " KILLED (over 1 GB)" if peak.over else ""
    report(
        number,
        judge(ok),
        name,
        f"{said}; SIGTERM: exit {code} after {seconds:.1f} s{over}; peak {peak.mb:.0f} MB; "
        f"tracebacks in stderr: {tracebacks}",
    )


def attack_8() -> None:
    def scenario(bot: Served, _work: Path) -> tuple[bool, str]:
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            mentions, asks = {}, {}
            for n in range(160):
                question = f"Red Hat, quel modèle ? ({n}) " * 70
                if n % 2:
                    asks[n] = pool.submit(bot.ask_privately, question, f"ask{n}")
                else:
                    mentions[n] = pool.submit(
                        bot.ask, question, f"8.{n:04d}", f"EvD{n}", f"U{n:04d}"
                    )
            # SIGTERM once the first answers are out, while most of the burst is queued
            calls = bot.slack.calls
            replies = lambda: sum(c.method in ("chat.postMessage", "response") for c in calls)  # noqa: E731
            wait_for(lambda: replies() >= 10, HANG)
            stopping = pool.submit(stop, bot)
            code, seconds, err = stopping.result()
            statuses = {n: f.result() for n, f in (mentions | asks).items()}
        acked = [n for n, s in statuses.items() if s == 200]
        kinds = Counter()
        for n in acked:
            got = bot.responses(f"ask{n}") if n in asks else bot.replies(f"8.{n:04d}")
            if not got:
                kinds["no reply"] += 1
            elif len(got) > 1:
                kinds["replied twice"] += 1
            elif got[0].get("text", "") in APOLOGIES:
                kinds["restarting"] += 1
            else:
                kinds["answered"] += 1
        bot.stopped = (code, seconds, err)  # type: ignore[attr-defined]
        refused = Counter(str(s) for s in statuses.values() if s != 200)
        said = (
            f"160 sent, {len(acked)} acknowledged ({sum(n in asks for n in acked)} /ask), "
            f"refused {dict(refused)}; {dict(kinds)}; without a reply: {kinds['no reply']}; "
            f"exit {code} after {seconds:.1f} s (drain 2 s)"
        )
        ok = not kinds["no reply"] and not kinds["replied twice"] and code == 0
        return ok and seconds < HANG and "Traceback" not in err, said

    work = workdir_for("a8")
    with ThreadedFake(FakeSlack) as slack, Peak() as peak:
        try:
            bot = Served(work, slack, **QUICK, PLAYBOOK_DRAIN_SECONDS="2")
            ok, said = scenario(bot, work)
        except Exception as exc:
            ok, said = False, f"{type(exc).__name__}: {str(exc)[:200]}"
            kill_tree()
    ok = ok and not peak.over and peak.mb < CAP_MB
    report(
        "8",
        judge(ok),
        "SIGTERM in a burst of 80 /ask + 80 mentions, drain 2 s",
        (f"{said}; peak {peak.mb:.0f} MB"),
    )


def _immutable(files: list[Path], on: bool) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", *map(str, files)], check=True)
    else:
        for path in files:
            path.chmod(0o444 if on else 0o644)


def attack_9() -> None:
    def scenario(bot: Served, work: Path) -> tuple[bool, str]:
        slack = bot.slack
        post = command_body("/checklist", "pmf", slack.response_url("c1"))
        post_signed(bot, post, FORM)
        if not wait_for(lambda: slack.of("chat.postMessage"), HANG):
            return False, "the checklist was never posted"
        blocks = slack.of("chat.postMessage")[0].body["blocks"]
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        items = [b for b in blocks if b.get("accessory", {}).get("type") == "checkboxes"]

        def tick(item: dict) -> dict:
            return {
                "type": "checkboxes",
                "action_id": "checklist_item",
                "block_id": item["block_id"],
                "selected_options": [item["accessory"]["options"][0]],
            }

        # one item ticked while the database can be written, so that a reset has to write
        first = action_body(tick(items[0]), slack.response_url("t0"), message_ts="1.1")
        post_signed(bot, first, FORM)
        if not wait_for(lambda: slack.of("chat.update"), HANG):
            return False, "the first tick (database writable) did not update the message"
        database = work / ".playbook" / "playbook.db"
        files = [p for p in database.parent.glob("playbook.db*")]
        _immutable(files, True)
        try:
            body = action_body(tick(items[1]), slack.response_url("t1"), message_ts="1.1")
            tick_status = post_signed(bot, body, FORM)
            told_tick = wait_for(lambda: bot.responses("t1"), HANG)
            reset = command_body("/checklist", "pmf reset", slack.response_url("r1"))
            reset_status = post_signed(bot, reset, FORM)
            told_reset = wait_for(lambda: bot.responses("r1"), HANG)
        finally:
            _immutable(files, False)
        tick_said = bot.responses("t1")[0].get("text", "")[:60] if told_tick else "nothing"
        reset_said = bot.responses("r1")[0].get("text", "")[:60] if told_reset else "nothing"
        posts = len(slack.of("chat.postMessage"))
        said = (
            f"tick: {tick_status}, told {tick_said!r}; reset: {reset_status}, told "
            f"{reset_said!r}; checklist posted again (as cleared) {posts - 1} time(s)"
        )
        return told_tick and told_reset, said

    serving(
        "9",
        "checklist tick and /checklist pmf reset on a read-only database",
        workdir_for("a9"),
        scenario,
    )


def signed(body: str, content_type: str) -> dict:
    return {"Content-Type": content_type, **sign(body)}


def post_signed(bot: Served, body: str, content_type: str) -> int | str:
    """POST a signed body to the bot's Slack endpoint: the status or the error's name."""
    try:
        return http_post(
            f"http://127.0.0.1:{bot.port}/slack/events", body, signed(body, content_type)
        )
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return type(exc).__name__


def _inside_words(question: str, mark: str) -> str:
    """``mark`` put in the middle of every word of 4 letters or more."""

    def split(word: re.Match[str]) -> str:
        half = len(word[0]) // 2
        return word[0][:half] + mark + word[0][half:]

    return re.sub(r"\w{4,}", split, question)


def _fullwidth(question: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in question)


def attack_10() -> None:
    work = workdir_for("a10")
    index = cli(work, "index", env=QUICK)
    peak, killed, worst = index.peak_mb, index.killed, 0.0
    changes = {
        "zero-width space": lambda q: _inside_words(q, "\u200b"),
        "soft hyphen": lambda q: _inside_words(q, "\u00ad"),
        "decomposed accents": lambda q: unicodedata.normalize("NFD", q),
        "fullwidth": _fullwidth,
    }
    for number, clean in (
        ("10a", "Red Hat, quel modèle ?"),
        ("10b", "Quels sont les trois piliers du succès ?"),
    ):
        cited = {}
        for name, change in {"clean": lambda q: q, **changes}.items():
            ran = cli(work, "ask", "--json", change(clean), env=QUICK)
            worst, peak = max(worst, ran.seconds), max(peak, ran.peak_mb)
            killed = killed or ran.killed
            try:
                quotes = json.loads(ran.out)["quotes"]
                cited[name] = quotes[0]["section"] if quotes else "(no quote)"
            except (ValueError, KeyError):
                cited[name] = f"(exit {ran.code}: {ran.err.strip()[:60]})"
        ok = len(set(cited.values())) == 1 and not killed and peak < CAP_MB
        report(
            number,
            judge(ok),
            f"ask --json {clean!r} with a change in every word",
            f"cited: {cited}; slowest ask {worst:.1f} s, peak {peak:.0f} MB",
        )


def _actions_with(**changes: object) -> str:
    share = {"type": "button", "action_id": "share_answer", "value": "0123456789abcdef"}
    form = parse_qs(action_body(share, "http://127.0.0.1:9/response/a"))
    payload = json.loads(form["payload"][0])
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)})


def _event_with(**changes: object) -> str:
    body = json.loads(event_body(mention("Red Hat, quel modèle ?"), "EvMal"))
    body.update(changes)
    return json.dumps(body)


def attack_11() -> None:
    malformed = {
        "actions []": (_actions_with(actions=[]), FORM),
        "actions a string": (_actions_with(actions="share_answer"), FORM),
        "actions an object": (_actions_with(actions={"action_id": "share_answer"}), FORM),
        "actions [null]": (_actions_with(actions=[None]), FORM),
        "event null": (_event_with(event=None), JSON),
        "event a string": (_event_with(event="app_mention"), JSON),
        "event a list": (_event_with(event=["app_mention"]), JSON),
        "event text a list": (_event_with(event={**mention("hi"), "text": ["hi"]}), JSON),
    }

    def scenario(bot: Served, _work: Path) -> tuple[bool, str]:
        statuses = {name: post_signed(bot, body, ct) for name, (body, ct) in malformed.items()}
        time.sleep(1)  # let anything the bodies started reach the log before SIGTERM
        ok = all(isinstance(s, int) and 400 <= s < 500 for s in statuses.values())
        posted = len(bot.slack.of("chat.postMessage")) + len(bot.slack.of("response"))
        return ok and not posted, f"statuses {statuses}; replies posted: {posted}"

    serving("11", "signed malformed Slack payloads", workdir_for("a11"), scenario)


def attack_12() -> None:
    def scenario(bot: Served, _work: Path) -> tuple[bool, str]:
        slack = bot.slack
        bot.ask_privately("Quels sont les trois piliers du succès ?", "a")
        if not wait_for(lambda: bot.responses("a"), HANG):
            return False, "/ask got no answer"
        blocks = bot.responses("a")[0]["blocks"]
        share = next(
            e
            for b in blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "share_answer"
        )
        channels = ["C0OTHER", "C0CHAN", "C0CHAN", "C0CHAN", "C0CHAN"]
        bodies = [
            action_body(share, slack.response_url(f"s{n}"), channel=c)
            for n, c in enumerate(channels)
        ]
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            statuses = list(pool.map(lambda b: post_signed(bot, b, FORM), bodies))
        every_click = lambda: all(bot.responses(f"s{n}") for n in range(5))  # noqa: E731
        told = wait_for(every_click, HANG)
        time.sleep(1)  # a late second post would show here
        posts = slack.of("chat.postMessage")
        where = [p.body.get("channel") for p in posts]
        already = sum(
            r.get("text") == message("fr", "already_shared")
            for n in range(5)
            for r in bot.responses(f"s{n}")
        )
        said = (
            f"clicks {statuses}; posted {len(posts)} time(s) in {where}; "
            f"'already shared' told {already} time(s); every click answered: {told}"
        )
        return where == ["C0CHAN"], said

    serving(
        "12",
        "Share in channel clicked 5 times at once, one naming C0OTHER",
        workdir_for("a12"),
        scenario,
    )


def attack_13() -> None:
    def scenario(bot: Served, _work: Path) -> tuple[bool, str]:
        bomb = "<@A|" * 10_000
        timings: dict[str, float] = {}

        def timed(name: str, call: Callable[[], object]) -> object:
            began = time.monotonic()
            status = call()
            timings[name] = time.monotonic() - began
            return status

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(timed, "bomb", lambda: bot.ask(bomb, "13.1", "EvBomb", "U0EVE"))
            time.sleep(0.05)
            second = pool.submit(
                timed, "other", lambda: bot.ask("Red Hat, quel modèle ?", "13.2", "EvOk", "U0BOB")
            )
            statuses = (first.result(), second.result())
        answered = wait_for(lambda: bot.replies("13.2"), HANG)
        said = (
            f"40,000-char <@A| acknowledged {statuses[0]} in {timings['bomb']:.2f} s; "
            f"another user's question {statuses[1]} in {timings['other']:.2f} s "
            f"(Slack allows 3); answered: {answered}"
        )
        return statuses == (200, 200) and timings["other"] < 3 and answered, said

    serving("13", "a 40,000-character message of <@A|", workdir_for("a13"), scenario)


def attack_14() -> None:
    margin = 15.0

    def scenario(bot: Served, _work: Path) -> tuple[bool, str]:
        sel = selectors.DefaultSelector()
        began = time.monotonic()
        socks = []
        for _ in range(300):
            conn = socket.create_connection(("127.0.0.1", bot.port), timeout=10)
            conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow")
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            socks.append(conn)
        opened = time.monotonic() - began
        closed: list[float] = []
        deadline = began + 10 + margin
        while len(closed) < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                try:
                    data = key.fileobj.recv(1024)
                except OSError:
                    data = b""
                if not data:
                    closed.append(time.monotonic() - began)
                    sel.unregister(key.fileobj)
        still = len(socks) - len(closed)
        for conn in socks:
            conn.close()
        status = bot.ask("Red Hat, quel modèle ?", "14.1", "EvSlow")
        answered = wait_for(lambda: bot.replies("14.1"), HANG)
        last = f"{max(closed):.1f}" if closed else "-"
        said = (
            f"300 opened in {opened:.1f} s; closed {len(closed)}, the last after {last} s; "
            f"still open after {10 + margin:.0f} s: {still}; then a question {status}, "
            f"answered: {answered}"
        )
        return not still and answered, said

    serving(
        "14",
        "300 connections that never finish their headers (timeout 10 s)",
        workdir_for("a14"),
        scenario,
    )


def main() -> None:
    """Run the attacks and print one line per check."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated attack numbers")
    parser.add_argument(
        "--words-seconds",
        type=float,
        default=240.0,
        help="how long the 1 MB line of words may embed with the default embedder",
    )
    args = parser.parse_args()
    attacks: dict[int, Callable[[], None]] = {
        1: lambda: attack_1(args.words_seconds),
        2: attack_2,
        3: attack_3,
        4: attack_4,
        5: attack_5,
        6: attack_6,
        7: attack_7,
        8: attack_8,
        9: attack_9,
        10: attack_10,
        11: attack_11,
        12: attack_12,
        13: attack_13,
        14: attack_14,
    }
    chosen = [int(n) for n in args.only.split(",") if n] or list(attacks)
    began = time.monotonic()
    for number in chosen:
        try:
            attacks[number]()
        except Exception as exc:  # the attack itself broke: say so, go on
            kill_tree()
            report(str(number), "FAILED", "the attack could not run", f"{exc!r}"[:300])
        for work in WORKDIRS:
            shutil.rmtree(work, ignore_errors=True)
        WORKDIRS.clear()
    failed = sum(" FAILED " in line for line in RESULTS)
    print(f"{len(RESULTS)} checks, {failed} FAILED, in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
