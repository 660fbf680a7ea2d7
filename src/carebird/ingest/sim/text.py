"""Text of the simulated network: slots, word lists, people and message composition.

Everything here was written for carebird; the brand is fictional and configurable (its
name is the `{name}` slot). Domains use the reserved `.example` names and phone numbers
come from ranges set aside for fiction (06 39 98 xx xx in France, 07700 900xxx in the UK).

A template is a `str.format` string whose slots (`{city}`, `{ref}`...) are filled lazily by
`Slots`: only the slots a template uses cost anything, and `Slots` remembers which ones it
filled, so the simulator knows when it put personal data (phone, e-mail, booking reference)
into a message. The choosing helpers at the end (weights, people, message bodies) keep the
simulator (simevents.py, simulate.py) about streams and threads rather than words.

The phrase banks live next door and are all importable from here: the customer-care bodies
in simtext_fr.py and simtext_en.py, the other messages (noise, brand posts, incidents,
answers to the desk) in simtext_events.py, openings, closings and sign-offs in
simtext_dress.py.
"""

from __future__ import annotations

import bisect
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from carebird.ingest.base import AuthorInfo
from carebird.ingest.sim.dress import CLOSINGS, DM_SIGNOFFS, OPENINGS, PII_SENTENCES
from carebird.ingest.sim.dress import KEYWORD_WRAPS as KEYWORD_WRAPS
from carebird.ingest.sim.text_en import EN
from carebird.ingest.sim.text_events import ANSWERS as ANSWERS
from carebird.ingest.sim.text_events import BRAND_POSTS as BRAND_POSTS
from carebird.ingest.sim.text_events import INCIDENTS as INCIDENTS
from carebird.ingest.sim.text_events import NOISE as NOISE
from carebird.ingest.sim.text_fr import FR

Bank = dict[str, dict[str, list[str]]]  # category -> topic -> templates

BANKS: dict[str, Bank] = {"fr": FR, "en": EN}


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


NAMES: dict[str, tuple[list[str], list[str]]] = {
    "fr": (
        _words(
            "Camille Léa Manon Chloé Inès Sarah Julie Emma Louise Jade Lucie Marie Claire Sophie"
            " Nathalie Isabelle Aurélie Élodie Pauline Mathilde Thomas Lucas Hugo Nicolas Julien"
            " Maxime Antoine Alexandre Romain Quentin Kévin Mehdi Karim Yanis Théo Louis Pierre"
            " Olivier Sébastien Christophe Laurent Philippe Fatima Amina Samir Rachid Nadia"
            " Yasmine Gaëlle Benoît"
        ),
        _words(
            "Martin Bernard Dubois Durand Lefebvre Moreau Laurent Simon Michel Garcia David"
            " Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert Bonnet"
            " François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel"
            " Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Benali"
            " Haddad Nguyen Diallo Lemaire"
        ),
    ),
    "en": (
        _words(
            "Olivia Amelia Isla Ava Mia Grace Emily Sophie Chloe Ella Hannah Lucy Charlotte"
            " Jessica Rachel Megan Oliver George Harry Jack Jacob Noah Charlie Thomas James"
            " William Daniel Ryan Liam Ethan Matthew Sam Ben Tom Priya Aisha Raj Omar Chen Mei"
            " Sean Niamh Connor Siobhan Aaron Tyler Madison Hailey"
        ),
        _words(
            "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson"
            " Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel"
            " Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker"
            " Harrison Morgan Allen Scott Phillips Watson Davis Parker Bennett O'Brien Murphy"
            " Kelly"
        ),
    ),
}

NICKNAMES: dict[str, list[str]] = {
    "fr": ["voyageuse_du_matin", "velotafeur", "ptit_loup", "banlieusard", "la_navetteuse"],
    "en": ["commuter_life", "rail_nerd", "tea_and_trains", "night_owl", "wanderlust"],
}

ROLES: dict[str, list[str]] = {
    "fr": ["journaliste", "blog voyage", "podcast mobilités", "photographe", "humoriste"],
    "en": ["journalist", "travel blogger", "podcaster", "tech reviewer", "author"],
}

CITIES: list[str] = _words(
    "Lyon,Marseille,Lille,Bordeaux,Nantes,Toulouse,Strasbourg,Rennes,Montpellier,Nice,"
    "Grenoble,Dijon,Tours,Angers,Metz,Reims,Brest,Caen,Rouen,Orléans,Limoges,Poitiers,"
    "Besançon,Perpignan,Annecy,Valence,Nîmes,Avignon,La Rochelle,Clermont-Ferrand",
    ",",
)
STREETS: list[str] = ["Lilas", "Tilleuls", "Acacias", "Peupliers", "Écoles", "Vignes", "Forges"]
LINES: list[str] = ["A", "B", "C", "D", "E", "K", "N", "P", "R", "U", "1", "2", "3", "4"]
SPAM_DOMAINS: list[str] = ["promo-voyage.example", "cadeau-gratuit.example", "win-now.example"]
MAIL_DOMAINS: list[str] = ["example.com", "example.org", "example.net", "mail.example"]
DAYS: dict[str, list[str]] = {
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
SINCE: dict[str, list[str]] = {
    "fr": [
        "depuis {n} jours",
        "depuis ce matin",
        "depuis hier soir",
        "depuis une semaine",
        "depuis {n} heures",
        "depuis {n} semaines",
    ],
    "en": [
        "for {n} days",
        "since this morning",
        "since last night",
        "for a week",
        "for {n} hours",
        "for {n} weeks",
    ],
}
SINCE_SHORT: dict[str, list[str]] = {
    "fr": ["deux heures", "une heure", "trois jours", "20 minutes", "une demi-journée"],
    "en": ["two hours", "an hour", "three days", "20 minutes", "half a day"],
}
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Slots(dict[str, str]):
    """A lazy slot filler for `str.format_map`: computes a slot the first time it is used."""

    def __init__(self, rng: random.Random, lang: str, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.rng = rng
        self.lang = lang

    def __missing__(self, key: str) -> str:
        value = _make(key, self.rng, self.lang, self)
        self[key] = value
        return value


def _make(key: str, r: random.Random, lang: str, s: Slots) -> str:
    maker = _MAKERS.get(key)
    if maker is None:
        raise KeyError(key)
    return maker(r, lang, s)


def _city2(r: random.Random, lang: str, s: Slots) -> str:
    city = r.choice(CITIES)
    return city if city != s["city"] else "Paris"


def _ref(r: random.Random, lang: str, s: Slots) -> str:
    bits = r.getrandbits(30)
    return "".join(_REF_ALPHABET[(bits >> (5 * i)) & 31] for i in range(6))


def _order(r: random.Random, lang: str, s: Slots) -> str:
    num = r.randrange(1_000_000, 9_999_999)
    return f"n°{num}" if lang == "fr" else f"#{num}"


def _hour(r: random.Random, lang: str, s: Slots) -> str:
    h, m = r.randrange(5, 23), r.randrange(0, 60)
    return f"{h}h{m:02d}" if lang == "fr" else f"{h}:{m:02d}"


def _amount(r: random.Random, lang: str, s: Slots) -> str:
    euros, cents = r.randrange(5, 180), r.choice((0, 50, 90, 99))
    return f"{euros},{cents:02d} €" if lang == "fr" else f"€{euros}.{cents:02d}"


def _phone(r: random.Random, lang: str, s: Slots) -> str:
    if lang == "fr":
        return f"06 39 98 {r.randrange(100):02d} {r.randrange(100):02d}"
    return f"07700 900{r.randrange(1000):03d}"


_DELAYS = (10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120)
# Slot -> how to fill it (rng, language, the message's other slots). The random draws of
# each slot are part of the simulation's seeded output: change them and every run changes.
_MAKERS: dict[str, Callable[[random.Random, str, Slots], str]] = {
    "city": lambda r, lang, s: r.choice(CITIES),
    "city2": _city2,
    "ref": _ref,
    "order": _order,
    "client": lambda r, lang, s: str(r.randrange(10_000_000, 99_999_999)),
    "train": lambda r, lang, s: str(r.randrange(1000, 9999)),
    "coach": lambda r, lang, s: str(r.randrange(1, 19)),
    "line": lambda r, lang, s: r.choice(LINES),
    "hour": _hour,
    "delay": lambda r, lang, s: str(r.choice(_DELAYS)),
    "amount": _amount,
    "day": lambda r, lang, s: r.choice(DAYS[lang]),
    "date": lambda r, lang, s: f"{r.randrange(1, 29):02d}/{r.randrange(1, 13):02d}",
    "since": lambda r, lang, s: r.choice(SINCE[lang]).replace("{n}", str(r.randrange(2, 6))),
    "since_short": lambda r, lang, s: r.choice(SINCE_SHORT[lang]),
    "street": lambda r, lang, s: r.choice(STREETS),
    "phone": _phone,
    "email": lambda r, lang, s: f"{s['mailname']}{r.randrange(100)}@{r.choice(MAIL_DOMAINS)}",
    "link": lambda r, lang, s: f"https://{r.choice(SPAM_DOMAINS)}/{r.getrandbits(24):06x}",
    "mailname": lambda r, lang, s: f"client{r.randrange(10_000)}",
    "first": lambda r, lang, s: "",
    "fullname": lambda r, lang, s: "",
    "name": lambda r, lang, s: "",
}


def fill(template: str, slots: Slots) -> str:
    return template.format_map(slots)


def flat(bank: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(topic, template) pairs of one category, so a uniform choice weighs topics by size."""
    return [(topic, t) for topic, templates in bank.items() for t in templates]


FLAT: dict[tuple[str, str], list[tuple[str, str]]] = {
    (lang, category): flat(topics)
    for lang, bank in BANKS.items()
    for category, topics in bank.items()
}


# -- choosing and composing -------------------------------------------------------------------

T = TypeVar("T")
Table = tuple[list[T], list[float]]


def table(*pairs: tuple[T, float]) -> Table[T]:
    """A weighted choice, for `pick`."""
    total = sum(weight for _, weight in pairs)
    cum, acc = [], 0.0
    for _, weight in pairs:
        acc += weight
        cum.append(acc / total)
    cum[-1] = 2.0  # never index past the end because of rounding
    return [value for value, _ in pairs], cum


def pick(rng: random.Random, choices: Table[T]) -> T:
    values, cum = choices
    return values[bisect.bisect_right(cum, rng.random())]


CATEGORIES = table(
    ("complaint", 30),
    ("request", 20),
    ("question", 14),
    ("suggestion", 5),
    ("praise", 9),
    ("noise", 13),
    ("followup", 9),
)
NOISE_KINDS = table(("chatter", 35), ("retweet", 25), ("spam", 20), ("joke", 20))
# How a customer reacts to the desk's reply, by what they had written (or what we asked).
OUTCOMES: dict[str, Table[str]] = {
    "praise": table(("thanks", 65), ("none", 35)),
    "noise": table(("none", 85), ("thanks", 10), ("escalation", 5)),
    "complaint": table(("thanks", 35), ("escalation", 30), ("detail", 15), ("none", 20)),
    "other": table(("thanks", 45), ("escalation", 15), ("detail", 25), ("none", 15)),
    "asked": table(("detail", 55), ("thanks", 20), ("escalation", 10), ("none", 15)),
    "late": table(("thanks", 40), ("none", 45), ("escalation", 15)),
}
ASKS = ("MP", "DM", "référence", "reference", "numéro", "number", "mail", "dossier", "booking")


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Person:
    info: AuthorInfo
    lang: str
    names: dict[str, str]  # fixed template slots: first, fullname, mailname, name


def make_person(rng: random.Random, k: int, brand_name: str) -> Person:
    """Simulated customer k: ~60 % French; handles are unique since they end with k."""
    lang = "fr" if rng.random() < 0.6 else "en"
    firsts, lasts = NAMES[lang]
    first, last = rng.choice(firsts), rng.choice(lasts)
    f, s = ascii_fold(first), ascii_fold(last)
    bases = (f"{f}_{s}", f"{f}{s}", f"{f[0]}{s}_", f"{s}_{f}", rng.choice(NICKNAMES[lang]), f"{f}_")
    base = bases[bisect.bisect_right((0.4, 0.6, 0.72, 0.84, 0.94), rng.random())]
    shown = (f"{first} {last}", f"{first} {last[0]}.", first, f"{first} 🚆")
    name = shown[bisect.bisect_right((0.6, 0.8, 0.92), rng.random())]
    if rng.random() < 0.004:  # an influential account
        followers, verified = int(10_000 * 50 ** rng.random()), rng.random() < 0.85
        name = f"{first} {last} | {rng.choice(ROLES[lang])}"
    else:
        followers = min(9_500, int(rng.lognormvariate(4.0, 1.5)))
        verified = rng.random() < 0.002
    info = AuthorInfo(f"sim-user-{k}", f"{base}{k}", name, followers, verified)
    names = {"first": first, "fullname": f"{first} {last}", "mailname": f"{f}.{s}"}
    return Person(info, lang, {**names, "name": brand_name})


def lower_first(text: str) -> str:
    """Lower-case the first letter after a greeting ("Bonjour, j'ai..."), keeping "I" alone."""
    if text[:2] in ("I ", "I'") or (len(text) > 1 and text[1].isupper()):
        return text
    return text[:1].lower() + text[1:]


def compose(rng: random.Random, slots: Slots, category: str, *, direct: bool) -> tuple[str, str]:
    """(topic, text) of a customer-care message, dressed with greetings and sign-offs."""
    lang = slots.lang
    topic, template = rng.choice(FLAT[(lang, category)])
    parts = [fill(template, slots)]
    if rng.random() < (0.6 if direct else 0.25):
        opening = rng.choice(OPENINGS[lang][category])
        parts[0] = lower_first(parts[0]) if opening[-1] in ",:" else parts[0]
        parts.insert(0, opening)
    if rng.random() < (0.4 if direct else 0.05 if category in ("complaint", "request") else 0):
        parts.append(fill(rng.choice(PII_SENTENCES[lang]), slots))
    if direct and rng.random() < 0.5:
        parts.append(fill(rng.choice(DM_SIGNOFFS[lang]), slots))
    elif rng.random() < 0.3:
        parts.append(rng.choice(CLOSINGS[lang][category]))
    text = " ".join(parts)
    return topic, text.lower() if not direct and rng.random() < 0.04 else text
