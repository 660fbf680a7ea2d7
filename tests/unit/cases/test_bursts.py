"""The burst detector: terms, the ordinary rate, one burst for one cause, joins, titles."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from carebird.cases.bursts import Burst, Detector, Post, Settings, surprise, terms_of

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CITIES = ["Lyon", "Nantes", "Lille", "Brest", "Dijon", "Tours", "Metz", "Reims"]
CHATTER = [
    "Mon colis n'est jamais arrivé à {c}",
    "Facture trop élevée ce mois-ci, je veux un remboursement",
    "Comment changer mon forfait ?",
    "Le technicien n'est pas venu au rendez-vous à {c}",
    "Débit lent le soir à {c}",
]


def _background(hours: int, per_hour: int = 6) -> list[Post]:
    """Ordinary days: varied complaints from many customers, cities spread out."""
    posts = []
    for n in range(hours * per_hour):
        text = CHATTER[n % len(CHATTER)].format(c=CITIES[n % len(CITIES)])
        at = T0 + timedelta(minutes=n * 60 // per_hour)
        posts.append(Post(f"b{n}", f"user{n % 97}", at, text))
    return posts


def _outage(start: datetime, n: int = 8) -> list[Post]:
    texts = [
        "Chaînes TV figées, erreur 20-ff sur la box",
        "@Brand erreur 20-ff depuis 10 minutes, plus de télé",
        "Toutes les chaînes figées ?? erreur 20-ff",
        "Code 20-ff à l'écran, c'est chez tout le monde ?",
    ]
    return [
        Post(f"o{k}", f"victim{k}", start + timedelta(minutes=3 * k), texts[k % len(texts)])
        for k in range(n)
    ]


def _run(posts: list[Post], settings: Settings | None = None) -> dict[object, object]:
    detector = Detector(settings)
    found: dict[object, object] = {}
    for post in sorted(posts, key=lambda p: p.at):
        decision = detector.feed(post)
        if decision is not None:
            for p in [*decision.joined, decision.post]:
                found[p.key] = decision.burst.key
    return found


def test_terms_keep_codes_and_named_lines_drop_filler_times_and_handles() -> None:
    terms = terms_of("@free Bonjour, chaînes TV figées, erreur 20-ff depuis 2h https://x.co/a")
    assert {"chaines", "figees", "erreur", "20-ff"} <= set(terms)
    assert terms["chaines"] == "chaînes"  # the title shows what customers wrote
    assert not {"bonjour", "depuis", "2h", "free", "https"} & set(terms)
    assert "ligne b" in terms_of("Ligne B à l'arrêt à Lyon")
    assert "503" in terms_of("Erreur 503 sur l'appli") and "2024" not in terms_of("en 2024")


def test_an_outage_on_an_ordinary_day_is_one_burst_and_nothing_else_is() -> None:
    background = _background(30)
    outage = _outage(T0 + timedelta(hours=24))
    found = _run(background + outage)
    assert {k for k in found} == {p.key for p in outage}  # every report, no ordinary complaint
    assert len(set(found.values())) == 1


def test_the_title_reads_what_the_customers_share() -> None:
    detector = Detector()
    for post in _background(30):
        detector.feed(post)
    titles = [d.burst.title for p in _outage(T0 + timedelta(hours=24)) if (d := detector.feed(p))]
    assert titles and "20-ff" in titles[0]


def test_no_burst_before_the_ordinary_rate_is_known() -> None:
    assert _run(_outage(T0)) == {}  # the desk just started: nothing to compare with


def test_a_busy_hour_of_ordinary_complaints_is_no_burst() -> None:
    background = _background(30)
    at = T0 + timedelta(hours=25)
    rush = [
        Post(f"r{n}", f"rush{n}", at + timedelta(minutes=n), CHATTER[n % 5].format(c=CITIES[n % 8]))
        for n in range(40)
    ]
    assert _run(background + rush) == {}


def test_one_customer_writing_often_is_no_burst() -> None:
    one = [
        Post(f"s{k}", "same-person", T0 + timedelta(hours=24, minutes=k), "erreur 20-ff encore")
        for k in range(10)
    ]
    assert _run(_background(30) + one) == {}


def test_an_open_burst_takes_later_reports_until_it_goes_quiet() -> None:
    burst = Burst(1, ["20-ff", "figees"], T0)
    detector = Detector(Settings(), [burst])
    late = Post("late", "x", T0 + timedelta(minutes=90), "toujours l'erreur 20-ff")
    other = Post("other", "y", T0 + timedelta(minutes=91), "ma facture est fausse")
    decision = detector.feed(late)
    assert decision is not None and not decision.new and decision.burst is burst
    assert detector.feed(other) is None
    quiet = Post("quiet", "z", T0 + timedelta(hours=5), "erreur 20-ff")
    assert Detector(Settings(), [Burst(1, ["20-ff"], T0)]).feed(quiet) is None


def test_surprise_is_a_poisson_tail() -> None:
    assert surprise(3, 0.0) == 0.0
    assert abs(surprise(1, 1.0) - (1 - 0.36787944)) < 1e-6
    assert surprise(7, 1.0) < 1e-3 < surprise(4, 1.0)


def _state(d: Detector) -> tuple[object, ...]:
    return tuple(
        (
            [p.key for p in t.posts] if t is not d._free else None,  # _free: counts only
            dict(+t.docs),
            {k: dict(v) for k, v in t.by_term.items()},
            dict(t.authors),
        )
        for t in (d._before, d._window, d._free)
    )


def test_remembering_history_in_bulk_leaves_the_counts_one_by_one_would() -> None:
    rng = random.Random(5)
    words = ["panne", "fibre", "box", "tv", "ligne b", "facture", "retard", "colis"]
    at = datetime(2026, 1, 5, 8, tzinfo=UTC)
    posts = []
    for n in range(900):  # ten days of history, irregular gaps
        at += timedelta(minutes=rng.choice([1, 3, 20, 45, 90]))
        text = " ".join(rng.sample(words, 3))
        posts.append((n, f"c{rng.randrange(60)}", at, text))
    one, bulk = Detector(), Detector()
    for key, who, when, text in posts:
        one.remember(Post(key, who, when, text))
    bulk.remember_all(Post(key, who, when, text) for key, who, when, text in posts)
    assert _state(one) == _state(bulk)
    assert _state(one)[0][0] and _state(one)[1][0]  # both the baseline and the window hold posts
