"""Two processes' batches of one burst, committed at the same time: one incident, every case
in it once (both engines; PostgreSQL's detectors serialise on an advisory lock)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from carebird.cases.incidents import Incident, IncidentCase
from carebird.db.database import Database
from carebird.ingest.base import InboundItem
from tests.factories import customer, ingest, item

ORDINARY = [
    "@Brand_SAV ma facture est trop élevée ce mois-ci, remboursez-moi",
    "@Brand_SAV le technicien n'est jamais venu au rendez-vous",
    "@Brand_SAV comment changer mon forfait ? je ne trouve pas",
    "@Brand_SAV colis perdu, aucune nouvelle depuis une semaine",
]
OUTAGE = [
    "@Brand_SAV plus de télé, erreur 20-ff sur la box, c'est une panne ?",
    "@Brand_SAV erreur 20-ff partout chez moi, les chaînes sont figées",
    "@Brand_SAV chaînes figées avec le code 20-ff, vous êtes au courant ?",
    "@Brand_SAV code erreur 20-ff depuis ce soir, que se passe-t-il ?",
]


def _history(db: Database) -> None:
    """Ten hours of ordinary complaints: the terms' ordinary rates."""
    items = [
        item(customer(100 + n % 40), ORDINARY[n % 4], minutes=n * 10, external_id=f"h{n}")
        for n in range(60)
    ]
    ingest(db, items)


def _burst(start: int, half: int) -> list[InboundItem]:
    return [
        item(customer(1000 + 10 * half + k), OUTAGE[k % 4], minutes=start + k + half * 0.5,
             external_id=f"o{half}-{k}")
        for k in range(4)
    ]  # fmt: skip


def test_two_batches_of_one_burst_at_once_make_one_incident(db: Database) -> None:
    _history(db)
    batches = [_burst(620, 0), _burst(620, 1)]
    gate = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(batch: list[InboundItem]) -> None:
        try:
            gate.wait()
            ingest(db, batch)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with db.session() as s:
        incidents = s.scalars(select(Incident)).all()
        linked = s.scalar(select(func.count()).select_from(IncidentCase))
    assert len(incidents) == 1, [i.title for i in incidents]
    assert linked == 8  # all eight customers, each case once
    assert "20-ff" in incidents[0].title
