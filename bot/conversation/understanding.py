"""Reads one message in the light of the dialogue so far: what it asks, about which service,
topic and variant, or which other intent (small talk, a complaint, a status lookup, a life
event, a free-form entry, whether the office is open). No Telegram here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.conversation.context import DialogueContext
from bot.conversation.intents import Intents
from bot.conversation.library import KeywordHit, KeywordIndex, Library
from bot.conversation.variants import (
    CANONICAL,
    CLASS_MARKERS,
    CLASS_VALUES,
    TOPIC_VOCABULARY,
    fee_options,
    merge,
    pick,
    picks,
    requirement_options,
    service_keywords,
    singular,
    variant_words,
)
from bot.qa.knowledge import OFFICE_ID, KnowledgeBase
from bot.qa.matching import CONFIDENT, Matcher, tokens_of

MAX_FOLLOW_UP_WORDS = 8
STRONG_TOPIC = 3.0  # a topic phrase this strong counts as asked even beside another one
MAX_PARTS = 4  # answers in one reply: more would not fit one message on a small screen

# Words that carry no subject of their own: a message made only of these, topic words and
# variant words is a follow-up to the remembered service ("kalau hilang?", "biayanya?").
FOLLOW_UP_WORDS = frozenset("""
apa apakah berapa ya yah sih dong deh nih kah itu ini yang nya kalau jika bila terus lalu trus
bagaimana dengan untuk buat juga saja ada tidak bisa boleh di ke dari pak bu kak min mas mbak
the a an is it its was does do did what if and for about how then so ok oke please tolong mohon
saya my i me of in at there that this also too how much many by kah punya harus perlu gitu
giman kok emang memang sama atau or mana dimana where which one ones pun lah nah oh eh wah
get pay take takes need needed kira kira kurang lebih sekitar around approximately
umur usia age aged old tahun years year anak child kid kota luar daerah lain another city
telat terlambat late kemudian
sudah masih already still now sekarang lagi nanti dia mereka kami kita we our he she his her
they their istri suami wife husband adik kakak son daughter orang tua parent parents
mau ingin pengen pingin want wanna lebih more
""".split())
# A message opening with one of these refers back ("kalau KK?", "and for a passport?").
FOLLOW_UP_OPENERS = frozenset(
    "kalau jika bila terus lalu trus bagaimana and what how yang untuk for then same".split()
)
# Words that make a message a question rather than a statement (with a "?").
QUESTION_WORDS = frozenset(
    "apa apakah berapa bagaimana kapan dimana mana bisakah bolehkah bisa boleh adakah "
    "how what where when which can is are do does could".split()
)
CONJUNCTIONS = frozenset("dan sama serta and atau or juga plus terus lalu trus kemudian then "
                         "also".split())


@dataclass(frozen=True)
class Part:
    """One answer: a topic of a service, for the variant words asked (may be none)."""

    service_id: str
    topic: str
    variant: tuple[str, ...] = ()


@dataclass
class Understanding:
    # answer | office | situation | entry | small_talk | complaint | status | open_day |
    # clarify | unknown
    kind: str
    parts: list[Part] = field(default_factory=list)
    topic: str | None = None  # office: its topic
    target: str | None = None  # situation or entry id; small talk: its kind; complaint: why
    day: date | None = None  # open_day
    service_id: str | None = None  # open_day: a service's own hours; complaint: about what
    options: list[Part] = field(default_factory=list)  # clarify: the readings to choose from
    suggestions: list[str] = field(default_factory=list)  # unknown: services close to it
    follow_up: bool = False  # read with the remembered context

    @property
    def answers_a_service(self) -> bool:
        return self.kind == "answer" and bool(self.parts)


class Understander:
    """Built once per knowledge base; ``understand`` is then a few hundred microseconds."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher, library: Library) -> None:
        self.kb = kb
        self.matcher = matcher
        self.library = library
        self.intents = Intents()
        self.situations = KeywordIndex(
            {s.id: s.keywords.all() for s in library.situations.values()}
        )
        self.entries = KeywordIndex({e.id: e.keywords.all() for e in library.entries.values()})
        self._keywords = {s.id: service_keywords(s) for s in kb.services.values()}
        self._req_options = {s.id: requirement_options(s) for s in kb.services.values()}
        self._fee_options = {s.id: fee_options(s) for s in kb.services.values()}
        extra = set().union(*self._keywords.values()) if self._keywords else set()
        self._follow_up_vocab = (
            FOLLOW_UP_WORDS | TOPIC_VOCABULARY | CANONICAL.keys() | CLASS_MARKERS
            | CLASS_VALUES.keys() | extra
        )

    # --- pieces -----------------------------------------------------------------------------

    def variant_of(self, service_id: str, tokens: list[str]) -> tuple[str, ...]:
        return tuple(variant_words(tokens, self._keywords.get(service_id, frozenset())))

    def requirement_pick(self, service_id: str, variant: tuple[str, ...]) -> int | None:
        return pick(self._req_options.get(service_id, []), variant)

    def fee_pick(self, service_id: str, variant: tuple[str, ...]) -> int | None:
        return pick(self._fee_options.get(service_id, []), variant)

    def fee_picks(self, service_id: str, variant: tuple[str, ...]) -> list[int]:
        """The fee lines the variant fits equally well (several: each is shown)."""
        return picks(self._fee_options.get(service_id, []), variant)

    def _strong_topics(self, tokens: list[str], service_id: str | None,
                       used: set[int]) -> list[str]:
        topics: list[str] = []
        spans = sorted(self.matcher.topic_spans(tokens, service_id, used))
        previous_end = None
        for start, end, topic, weight in spans:
            if weight < STRONG_TOPIC or topic in topics:
                continue
            # Two questions are joined by "dan"/"and" ("biaya dan syarat"), or listed one after
            # the other ("syarat, biaya dan lama"); "how long is it valid" is one question.
            if (previous_end is None or start == previous_end
                    or CONJUNCTIONS & set(tokens[previous_end:start])):
                topics.append(topic)
                previous_end = end
        if "location" in topics and "hours" in topics:
            topics.remove("hours")  # the location answer gives the hours too
        return topics

    def _named_services(self, tokens: list[str], fuzzy: list[bool], best: str) -> list[str]:
        """``best`` and the services joined to it by "dan"/"and" ("KTP sama KK syaratnya")."""
        hits = sorted(
            (h for h in self.matcher.service_hits(tokens, fuzzy) if h.score >= CONFIDENT),
            key=lambda h: h.start,
        )
        named: list[str] = []
        previous_end = None
        for hit in hits:
            if hit.service_id in named:
                continue
            if previous_end is not None and not CONJUNCTIONS & set(
                tokens[previous_end : hit.start]
            ):
                continue
            named.append(hit.service_id)
            previous_end = hit.end
        if best not in named:
            return [best]
        return named

    def _is_follow_up(self, tokens: list[str]) -> bool:
        return len(tokens) <= MAX_FOLLOW_UP_WORDS and all(
            t in self._follow_up_vocab or t.isdigit()
            # "umurnya", "biayanya": the word with Indonesian's "-nya" ("its", "the")
            or (t.endswith("nya") and t[:-3] in self._follow_up_vocab)
            or singular(t) in self._follow_up_vocab  # "motorbikes"
            for t in tokens
        )

    def _weak_topic(
        self, tokens: list[str], service: str, topic: str | None, used: set[int]
    ) -> bool:
        """Only "gimana", "buat" or "lama" (old, in "paspor lama"): a word that asks nothing
        new beside a named case. "Berapa" alone still asks an amount."""
        return topic not in (None, "fee") and sum(
            w for _s, _e, t, w in self.matcher.topic_spans(tokens, service, used) if t == topic
        ) < STRONG_TOPIC

    def _context_topic(self, context: DialogueContext, service_id: str,
                       variant: tuple[str, ...]) -> str:
        """A variant named alone ("kalau hilang?") keeps a requirements or fee question, and
        otherwise asks what that case needs."""
        if context.topic in ("requirements", "fee"):
            return context.topic
        if variant and self.requirement_pick(service_id, variant) is not None:
            return "requirements"
        if variant and self.fee_pick(service_id, variant) is not None:
            return "fee"
        return context.topic or "overview"

    # --- the reading ---------------------------------------------------------------------------

    def understand(self, text: str, context: DialogueContext | None = None, *,
                   today: date | None = None, complaints: bool = True) -> Understanding:
        """``today`` (the office's date) enables "open on Saturday?"; ``complaints=False`` reads
        a message the citizen said is a question, not a complaint."""
        context = context or DialogueContext()
        raw = tokens_of(text)
        if not raw:
            return Understanding("unknown")
        chat = self.intents.small_talk(raw)
        if chat is not None:
            return Understanding("small_talk", target=chat)
        raw = self.intents.without_greeting(raw) or raw
        question = " ".join(raw)
        tokens, fuzzy = self.matcher.normalise(question)
        match = self.matcher.match(question)
        service = match.service_id if match.service_id not in (None, OFFICE_ID) else None

        complaint = self.intents.complaint(raw) if complaints else None
        if complaint is not None and (complaint.category != "general" or service is None):
            return Understanding("complaint", target=complaint.category, service_id=service)
        if self.intents.status(raw):
            return Understanding("status")
        if self.intents.not_ours(raw):
            return Understanding("unknown")
        situation, said = self.situations.find(tokens), tokens
        if situation is None:
            situation, said = self.situations.find(raw), raw
        if today is not None and situation is None:  # "buka usaha" opens no office
            day = self.intents.open_day(raw, today)
            if day is not None and match.topic in (None, "hours", "overview"):
                return Understanding("open_day", day=day, service_id=service)

        # A life event asks what to do or bring; "biaya melahirkan" (a hospital's price) or
        # "biaya umroh" (a travel package) are not the office's to answer.
        if (situation is not None
                and self._topic_beside(said, situation) in (None, "requirements", "procedure")
                and not self._named_outside(tokens, fuzzy, situation)):
            return Understanding("situation", target=situation.target)
        entry = self.entries.find(tokens) or self.entries.find(raw)
        if entry is not None and not self._service_and_topic_outside(tokens, fuzzy, entry,
                                                                       service):
            return Understanding("entry", target=entry.target)

        if service is not None:
            return self._about_service(service, match.topic or "overview", tokens, fuzzy,
                                       context)
        if context.service_id in self.kb.services and self._is_follow_up(tokens):
            follow = self._follow_up(tokens, context)
            if follow is not None:
                return follow
        if match.service_id == OFFICE_ID:
            # "jam buka dan alamat kantor": the location answer gives the hours too.
            asked = self._strong_topics(tokens, None, set())
            topic = "location" if "location" in asked else match.topic or "overview"
            return Understanding("office", topic=topic)
        joined = self._joined_services(tokens, fuzzy)
        asked = self.matcher.topic_of(tokens)
        if len(joined) > 1 and asked is not None:
            # "biaya paspor dan SIM A": the matcher will not pick one fee; both are answered.
            parts = [Part(s, asked, self.variant_of(s, tokens)) for s in joined]
            return Understanding("answer", parts=parts[:MAX_PARTS])
        return self._unsure(tokens, fuzzy, match.suggestions)

    def _joined_services(self, tokens: list[str], fuzzy: list[bool]) -> list[str]:
        hits = [h for h in self.matcher.service_hits(tokens, fuzzy) if h.score >= 90]
        if not hits:
            return []
        first = min(hits, key=lambda h: (h.start, -h.size))
        named = self._named_services(tokens, fuzzy, first.service_id)
        return named if len(named) > 1 else []

    def _topic_beside(self, tokens: list[str], hit: KeywordHit) -> str | None:
        """The topic asked outside a life event's own words: "open" in "open a shop" asks
        no opening hours."""
        return self.matcher.topic_of(
            [t for i, t in enumerate(tokens) if not hit.start <= i < hit.end]
        )

    def _named_outside(self, tokens: list[str], fuzzy: list[bool], hit: KeywordHit) -> bool:
        """A service named in full beside a life event's words ("pindah domisili", "izin
        usaha"): the service is meant. One word of a name inside the event's words ("mau
        pindah") is the event."""
        return any(
            h.score > 90 and (h.size >= 2 or h.end <= hit.start or h.start >= hit.end)
            for h in self.matcher.service_hits(tokens, fuzzy)
        )

    def _service_and_topic_outside(self, tokens: list[str], fuzzy: list[bool],
                                   hit: KeywordHit, service: str | None) -> bool:
        if service is None:
            return False
        used = set(range(hit.start, hit.end))
        return bool(self.matcher.topic_spans(tokens, service, used))

    def _about_service(self, service: str, topic: str, tokens: list[str], fuzzy: list[bool],
                       context: DialogueContext) -> Understanding:
        services = self._named_services(tokens, fuzzy, service)
        used = {
            i for h in self.matcher.service_hits(tokens, fuzzy) if h.service_id in services
            for i in range(h.start, h.end)
        }
        topics = self._strong_topics(tokens, service, used)
        if len(topics) < 2:
            topics = [topic]
        variant = self.variant_of(service, tokens)
        follow_up = False
        # "kalau paspornya rusak gimana?": "gimana" asks nothing new.
        weak = topic == "overview" or self._weak_topic(tokens, service, topic, used)
        if weak and context.service_id and context.topic not in (None, "overview"):
            opener = tokens[0] in FOLLOW_UP_OPENERS
            if opener or (service == context.service_id and variant):
                # "kalau KK?" after "syarat KTP": the remembered question about the new service.
                if service == context.service_id:
                    variant = merge(context.variant, variant)
                topics = [self._context_topic(context, service, variant)]
                follow_up = True
        if not follow_up and len(services) == 1 and len(topics) == 1:
            tied = self._tied_topics(tokens, service, used)
            if tied:
                # "paspor jadi berapa": how much, or how many days? The citizen chooses.
                return Understanding("clarify", options=[Part(service, t, variant)
                                                         for t in tied])
        parts = [Part(s, t, variant if s == service else self.variant_of(s, tokens))
                 for s in services for t in topics][:MAX_PARTS]
        return Understanding("answer", parts=parts, follow_up=follow_up)

    def _tied_topics(self, tokens: list[str], service: str, used: set[int]) -> list[str]:
        """Two topics asked as weakly as each other ("jadi", "berapa"), none clearly."""
        weights: dict[str, float] = {}
        for _start, _end, topic, weight in self.matcher.topic_spans(tokens, service, used):
            weights[topic] = weights.get(topic, 0.0) + weight
        ranked = sorted(weights.items(), key=lambda item: -item[1])
        if len(ranked) >= 2 and ranked[0][1] == ranked[1][1] < STRONG_TOPIC:
            return [ranked[0][0], ranked[1][0]]
        return []

    def _follow_up(self, tokens: list[str], context: DialogueContext) -> Understanding | None:
        service = context.service_id or ""
        topics = self._strong_topics(tokens, service, set())
        topic = self.matcher.topic_of(tokens, service)
        variant = self.variant_of(service, tokens)
        if topic is None and not variant:
            return None
        if variant and self._weak_topic(tokens, service, topic, set()):
            topic = None  # "buat perusahaan?": the case is asked, "buat" asks nothing new
        merged = merge(context.variant, variant)
        if topic is None:
            topics = [self._context_topic(context, service, merged)]
        elif len(topics) < 2:
            topics = [topic]
        parts = [Part(service, t, merged) for t in topics][:MAX_PARTS]
        return Understanding("answer", parts=parts, follow_up=True)

    def _unsure(self, tokens: list[str], fuzzy: list[bool],
                suggestions: list[str]) -> Understanding:
        """Not sure which service: offer the two or three readings when a topic was asked.
        One reading, named in full through typos ("pspor elektronk brp") in a message of only
        known words, is that reading."""
        suggestions = [s for s in suggestions if s in self.kb.services]
        topic = self.matcher.topic_of(tokens)
        hits = [h for h in self.matcher.service_hits(tokens, fuzzy) if h.score >= CONFIDENT]
        named = {h.service_id for h in hits}
        # A word the office does not know ("tiket kereta") is a question about something else.
        all_known = all(self.matcher.is_known(t) or t.isdigit() for t in tokens)
        if len(named) == 1 and topic is not None and all_known:
            if any(True in fuzzy[h.start : h.end] for h in hits):
                service = hits[0].service_id
                used = {i for h in hits for i in range(h.start, h.end)}
                topics = self._strong_topics(tokens, service, used)
                topic = self.matcher.topic_of(
                    [t if i not in used else "" for i, t in enumerate(tokens)], service
                ) or topic
                parts = [Part(service, t, self.variant_of(service, tokens))
                         for t in (topics if len(topics) > 1 else [topic])]
                return Understanding("answer", parts=parts[:MAX_PARTS])
        if suggestions and topic is not None and topic != "hours" and (all_known or named):
            options = [Part(s, topic) for s in suggestions[:3]]
            return Understanding("clarify", options=options)
        return Understanding("unknown", suggestions=suggestions)
