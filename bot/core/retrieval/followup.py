"""Reading a message in the context of the conversation's previous turn, without a language
model and, for most messages, with one search, as alone.

A follow-up ("and its main risk?", "et pour le support ?", "pourquoi ?") cannot be understood
alone; a complete question on another subject must not be glued to the one before. The reading:

1. A message without a content word (``lexical.content_words``: a bare "why?", "how?") is
   searched as the previous question followed by it: the previous question's words carry
   the subject.
2. Any other message is searched alone first. It stands alone when that reading is confident
   (neither abstained nor hedged) and matches its pages strongly: an evidence of at least
   ``standalone_evidence`` (a short complete question, "what is value-market fit?"). Otherwise
   it is read in context: the prior below on the alone reading's hits, and, when the first
   hit is then still not where the previous turn was (``reach``), a second search of the
   previous question followed by the message, for a message of at most ``joined_words``
   content words (the one case that costs a second search).

Read in context, each hit on a page the previous turn cited gains ``page_prior``, on a section
it cited ``section_prior`` more, and the hits are ranked again; the evidence the prior brings
lifts an abstention only when the best hit is then on the previous turn's page. After a turn
that cited something, neither search runs the e5 stage (``alone_e5_words``, ``joined_e5``):
the prior does what e5 did for a hesitating short message, and e5 was all of a follow-up's
extra time (on the long joined text most of all).

No word list, no threshold tied to a page: the weights and the gate's word count are fitted
on the dev conversations, cross-validated over groups of pages (``bench/tune_followup.py`` and
``retrieval/conversations.py``). Cross-validated on eval/conversations-dev.yaml (5 folds, 23
groups of pages; section@1 / answer@1 / answer@3; alone: the same turns without context):

=======================  ==================  ==================  ==================
                         before (page gate,  fitted (no e5       alone
                         e5 in both)         after a turn)
=======================  ==================  ==================  ==================
bundled follow-ups (16)  0.62 / 0.62 / 0.81  0.75 / 0.62 / 0.81  0.50 / 0.50 / 0.62
site follow-ups (27)     0.70 / 0.48 / 0.52  0.70 / 0.48 / 0.56  0.37 / 0.30 / 0.41
bundled switches (7)     0.71 / 0.57 / 0.86  0.71 / 0.57 / 0.86  0.71 / 0.57 / 0.86
site switches (10)       0.60 / 0.40 / 0.50  0.70 / 0.50 / 0.50  0.70 / 0.50 / 0.50
=======================  ==================  ==================  ==================

First turns are read alone (bundled 0.92 / 0.92 / 1.00, site 0.67 / 0.44 / 0.72). A
follow-up's extra time (``bench/bench_followup.py``, p95 of follow-ups less p95 of first
questions, busy 2-core machine): site +26 ms before, -30 ms fitted; bundled page +21 ms
before, -2 ms fitted. Measured and not kept: a gate on the previous turn's sections on a
knowledge base of one page (``reach`` "auto": +6 turns of 180 scores under cross-validation
while the message's own search kept e5, none once it did not); fusing a short message's two
readings per passage (max, or a weighted sum) instead of choosing one (ties, and a second
search for every short message); repeating the message in the joined text to weigh it more
(-3); searching the message with its query vector moved toward the previous question's
instead of the joined text (-1 under cross-validation; at 0.3, in-sample, bundled follow-ups
0.88 / 0.75 but site 0.63 / 0.44); e5 in the second search (+1 site follow-up answer@1
in-sample, +25 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.core.knowledge.lexical import content_words
from bot.core.language import detect_language
from bot.core.retrieval.search import Hit, Retriever, SearchResult
from bot.core.types import Answer

TOPIC_CHARS = 80  # the longest topic the "what I understood" line names


@dataclass(frozen=True)
class CitedSection:
    """A section a turn cited: its page (its link without the anchor), title and link."""

    page: str
    section: str
    link: str


@dataclass(frozen=True)
class PreviousTurn:
    """What a reading in context needs of the turn before: its question (as it was read),
    its language and the sections its answer cited, best first."""

    question: str
    language: str
    cited: tuple[CitedSection, ...] = ()

    @property
    def topic(self) -> str:
        """What the turn was about, as the reply names it: its first cited section's title,
        else its question (cut to ``TOPIC_CHARS``)."""
        topic = self.cited[0].section if self.cited else self.question
        return topic if len(topic) <= TOPIC_CHARS else topic[: TOPIC_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class FollowUpParams:
    """The reading's weights: the defaults are those fitted on the dev conversations
    (``bench/tune_followup.py``, cross-validated over groups of pages; see the module)."""

    # The gate in front of the prior: a message whose alone reading is confident stands
    # alone when it has more than ``short_words`` content words (99: never by its length)...
    short_words: int = 99
    # ... or when that reading's evidence is at least this (a short complete question,
    # "what is value-market fit?", matches its section strongly; a follow-up rarely does).
    # On the dev conversations the gate changes no figure from 0.8 to 0.9, nor off (the tie
    # goes to the gate on): a short switch that its section answers strongly is not glued to
    # the previous question by the second search.
    standalone_evidence: float = 0.85
    # Whether a longer message whose alone reading is not confident is read in context too
    # (gate on; False: a message that names its subject always stands alone).
    unsure_in_context: bool = True
    gate: bool = True
    # The prior: what a hit on a page, and more on a section, the previous turn cited gains.
    page_prior: float = 0.1
    section_prior: float = 0.1
    # What the prior's reading must reach to be kept without a second search: the
    # previous turn's "section", only its "page" (fitted), or "auto": its section on a
    # knowledge base of one page (where every hit is on the previous turn's page, so that a
    # gate on the page never lets the second search run there), else its page.
    reach: str = "page"
    # A message the prior does not bring to the previous turn, with at most this many content
    # words, is searched again joined to the previous question (the one case that costs a
    # second search); a longer one is read alone.
    joined_words: int = 2
    # Whether that second search must bring the first hit to the previous turn's page (or
    # section, ``reach``) to be kept (False: it is kept unless it ranks first what the alone
    # reading ranked first).
    joined_must_reach: bool = False
    # Whether the second search runs the e5 stage (off: e5 read the joined text in 25-30 ms at
    # p95 on a busy machine, and added one site follow-up's answer@1 of 27 in-sample).
    joined_e5: bool = False
    # After a turn, a message of at most this many content words is searched without the e5
    # stage (0: every message with e5, as alone; 99: none). Off for every message: 117
    # against 115 turns' scores of 180 cross-validated, and the p95 of a follow-up no longer
    # holds e5's time (on the bundled page +21 ms over a first question with it).
    alone_e5_words: int = 99


def asks_only_why(text: str, act: str | None) -> bool:
    """Whether a message is a bare question word ("why?", "comment ?"): no content word, not
    a thanks or a greeting (``smalltalk``'s ``other``), and a question mark."""
    return act == "other" and "?" in text and not content_words(text)


@dataclass
class ContextReading:
    """One message's reading against ``previous`` (``None``: read alone). After ``search``,
    ``used`` says whether the message was read in context, ``changed`` whether that changed
    the first hit or the abstention (compared with the reading alone)."""

    previous: PreviousTurn | None
    params: FollowUpParams = field(default_factory=FollowUpParams)
    used: bool = False
    changed: bool = False
    # The question as the next message reads it: the text, or, for a message without a
    # content word, the previous question joined to it. A message that names something is
    # kept as it was typed, so that joined texts stay short (e5 reads them in time that grows
    # with their length: 44 words took 200 ms on a busy machine).
    read_as: str = ""

    def answers(self, text: str, act: str | None) -> bool:
        """Whether a message the engine would take for small talk is a question in this
        conversation (a bare "why?" after a turn)."""
        return self.previous is not None and asks_only_why(text, act)

    def search(self, retriever: Retriever, text: str) -> SearchResult:
        """The search result for ``text``: alone, or in the previous turn's context."""
        self.read_as = text
        previous = self.previous
        if previous is None or not previous.cited:
            return retriever.search(text)
        language = detect_language(text, previous.language)
        words = len(content_words(text))
        p = self.params
        alone = None
        if words:
            alone = retriever.search(text, quick=words <= p.alone_e5_words)
            stands = words > p.short_words or alone.evidence >= p.standalone_evidence
            if p.gate and stands and (confident(alone) or not p.unsure_in_context):
                return alone
            result = self._with_prior(retriever, alone, previous, force=False)
            if self._reaches(retriever, result, previous):
                self.used, self.changed = True, result is not alone
                return result
            if words > p.joined_words:
                return alone
        joined = f"{previous.question} {text}"
        second = self._joined(retriever, previous.question, text)
        result = self._with_prior(retriever, second, previous, force=True)
        if alone is not None and not self._keeps(retriever, result, alone, previous):
            return alone
        self.used = self.changed = True
        if not words:  # a bare "why?" has no subject of its own: the next turn reads the joined
            self.read_as = joined
        return replace(result, language=language)

    def _joined(self, retriever: Retriever, question: str, text: str) -> SearchResult:
        """The second search, of the previous question joined to the message (with the e5
        stage only if ``joined_e5``)."""
        return retriever.search(f"{question} {text}", quick=not self.params.joined_e5)

    def _keeps(
        self,
        retriever: Retriever,
        joined: SearchResult,
        alone: SearchResult,
        previous: PreviousTurn,
    ) -> bool:
        """Whether the second search's reading is kept over the alone one: it ranks another
        section first (and, with ``joined_must_reach``, one of the previous turn's)."""
        if self.params.joined_must_reach and not self._reaches(retriever, joined, previous):
            return False
        if not joined.hits or not alone.hits:
            return bool(joined.hits)
        section = retriever.index.passage_section
        return bool(section[joined.hits[0].number] != section[alone.hits[0].number])

    def _reaches(self, retriever: Retriever, result: SearchResult, previous: PreviousTurn) -> bool:
        """Whether the first hit of ``result`` is in a section the previous turn cited (or
        on its page, as ``params.reach`` says)."""
        if not result.hits:
            return False
        link = retriever.index.passages[result.hits[0].number].citation.link
        reach = self.params.reach
        if reach == "auto":
            reach = "section" if single_page(retriever) else "page"
        if reach == "page":
            return page_of(link) in {c.page for c in previous.cited}
        return link in {c.link for c in previous.cited}

    def _with_prior(
        self, retriever: Retriever, result: SearchResult, previous: PreviousTurn, *, force: bool
    ) -> SearchResult:
        """``result``'s hits ranked again with the prior on the previous turn's pages and
        sections; ``result`` itself when the prior changes neither the first hit nor
        (unless ``force``) the abstention."""
        if not result.hits or not previous.cited:
            return result
        index = retriever.index
        pages = {c.page for c in previous.cited}
        keys = retriever.section_keys
        sections = {keys.by_link[c.link] for c in previous.cited if c.link in keys.by_link}
        p = self.params

        def prior(hit: Hit) -> float:
            bonus = (
                p.page_prior if page_of(index.passages[hit.number].citation.link) in pages else 0.0
            )
            if int(index.passage_section[hit.number]) in sections:
                bonus += p.section_prior
            return bonus

        scored = sorted(result.hits, key=lambda h: -(h.score + prior(h)))
        hits = [replace(h, score=h.score + prior(h)) for h in scored]
        on_page = page_of(index.passages[hits[0].number].citation.link) in pages
        abstain = result.abstain and not on_page
        if not force and hits[0].number == result.hits[0].number and abstain == result.abstain:
            return result
        return replace(
            result,
            hits=hits,
            abstain=abstain,
            unknown=result.unknown if abstain else (),
            hedged=result.hedged and not on_page,
        )


def single_page(retriever: Retriever) -> bool:
    """Whether the retriever's knowledge base has one page (every hit is on it)."""
    index = retriever.index
    return len(index.pages) <= 1 if index.pages else len(set(index.section_sources)) <= 1


def confident(result: SearchResult) -> bool:
    """Whether a reading alone stands on its own: it answers, without the hedge."""
    return not result.abstain and not result.hedged


def page_of(link: str) -> str:
    """The page a section's link points into: the link without its anchor."""
    return link.partition("#")[0]


def turn_of(answer: Answer, read_as: str = "") -> PreviousTurn:
    """The turn ``answer`` makes for the next message's reading (``read_as``: its question as
    it was read), its cited sections in order, each once."""
    cited: dict[str, CitedSection] = {}
    for quote in answer.quotes:
        c = quote.citation
        cited.setdefault(c.link, CitedSection(page_of(c.link), c.section, c.link))
    return PreviousTurn(read_as or answer.question, answer.language, tuple(cited.values()))
