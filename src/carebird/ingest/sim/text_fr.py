"""French phrase bank of the simulated network: customer-care message bodies.

Category -> topic -> `str.format` templates, filled by `simtext.Slots` (see simtext.py).
"""

FR: dict[str, dict[str, list[str]]] = {
    "complaint": {
        "delay": [
            "Train {train} de {hour} : {delay} min de retard et aucune annonce. Merci pour la"
            " correspondance ratée à {city}.",
            "Encore {delay} minutes de retard sur la ligne {line}, tous les matins c'est la"
            " même histoire.",
            "Bloqué en gare de {city} depuis {delay} minutes, personne ne sait rien.",
            "Retard de {delay} min ce matin, hier aussi, avant-hier aussi. On paie un"
            " abonnement pour ça ?",
            "Arrêté en pleine voie entre {city} et {city2} depuis {delay} min, sans clim et"
            " sans info.",
            "{delay} minutes de retard, j'ai raté mon entretien d'embauche. Merci vraiment.",
        ],
        "cancellation": [
            "Mon train pour {city} est supprimé sans explication, je fais comment pour aller"
            " bosser ?",
            "Le {hour} pour {city2} affiché à l'heure puis supprimé au dernier moment. Bravo.",
            "Troisième train supprimé cette semaine sur la ligne {line}. Ça devient une habitude.",
            "Train annulé, bus de remplacement introuvable, on est 200 sur le quai à {city}.",
        ],
        "refund": [
            "J'attends mon remboursement pour le dossier {ref} {since}. Toujours rien sur mon"
            " compte.",
            "Remboursement refusé pour un train annulé, vous vous moquez de qui ?",
            "On m'avait promis un avoir de {amount}, je n'ai jamais rien reçu.",
            "Ma demande de remboursement est « en cours de traitement » {since}. Sérieux ?",
        ],
        "billing": [
            "Prélevé deux fois {amount} ce mois-ci, c'est quoi ce bazar ?",
            "Ma facture a augmenté de {amount} sans que personne ne me prévienne.",
            "Facturé {amount} de hors forfait alors que je n'ai pas quitté {city}.",
            "Frais de résiliation de {amount} alors qu'on m'avait dit que c'était gratuit.",
        ],
        "internet": [
            "Box internet coupée {since} à {city}, je télétravaille moi !",
            "La box redémarre toute seule toutes les 10 minutes {since}. Insupportable.",
            "Débit ridicule le soir à {city}, impossible de regarder quoi que ce soit.",
            "Technicien censé passer {day} entre 8h et 12h, personne n'est venu.",
        ],
        "mobile": [
            "Plus de réseau mobile {since} dans mon quartier à {city}.",
            "Ma ligne mobile est suspendue alors que j'ai payé ma facture !",
            "Les appels coupent au bout de 30 secondes {since}, c'est inutilisable.",
        ],
        "app": [
            "L'appli plante dès que je veux afficher mon billet. Au contrôle c'est super pratique.",
            "Impossible de payer dans l'appli, erreur à chaque fois.",
            "Depuis la mise à jour l'appli ne trouve plus mes billets.",
            "L'appli m'a déconnecté et maintenant elle ne reconnaît plus mon mot de passe.",
        ],
        "service": [
            "45 minutes d'attente au téléphone pour finalement être raccroché au nez.",
            "Troisième message sans réponse. Il y a quelqu'un au service client ?",
            "Le chatbot tourne en rond et aucun humain ne répond. Génial.",
            "Guichet fermé à {city} à {hour}, automate en panne. On achète comment un billet ?",
        ],
        "luggage": [
            "Ma valise n'est jamais arrivée à {city}, le comptoir est fermé et personne ne répond.",
            "Valise abîmée pendant le trajet {city} - {city2}, la poignée est arrachée.",
        ],
        "account": [
            "Mon compte a été bloqué sans raison, impossible de récupérer mes billets.",
            "Code de vérification jamais reçu, je suis bloqué hors de mon compte {since}.",
        ],
        "comfort": [
            "Voiture {coach} sans chauffage entre {city} et {city2}, on gèle.",
            "Toilettes hors service sur tout le trajet, trois heures de voyage…",
            "Clim en panne, 30 degrés dans la voiture {coach}. Les enfants n'en peuvent plus.",
            "Place réservée, payée, et occupée par quelqu'un d'autre avec le même numéro.",
        ],
    },
    "request": {
        "booking": [
            "Je n'ai pas reçu mon e-billet pour le dossier {ref}, vous pouvez me le renvoyer ?",
            "Comment échanger mon billet du {date} pour {city} ? Le site me bloque.",
            "Je me suis trompé de date en réservant (dossier {ref}), c'est possible de"
            " modifier sans frais ?",
            "Je voudrais ajouter un bagage à ma réservation du {date}, je ne trouve pas l'option.",
        ],
        "order": [
            "Commande {order} passée il y a une semaine, toujours pas de confirmation. Vous"
            " pouvez vérifier ?",
            "Ma carte de réduction (commande {order}) n'est toujours pas arrivée, vous pouvez"
            " regarder ?",
        ],
        "account": [
            "Je n'arrive plus à me connecter à mon compte, le code de vérification n'arrive"
            " jamais.",
            "Pouvez-vous supprimer mon ancien compte ? J'en ai créé un deuxième par erreur.",
            "Mot de passe réinitialisé trois fois, toujours « identifiants incorrects ». Une"
            " aide ?",
            "J'ai changé de numéro, comment je mets à jour mon compte ?",
        ],
        "outage": [
            "Pas d'internet {since} à {city}, vous pouvez me dire si c'est une panne connue ?",
            "Le voyant de ma box est rouge {since}, qu'est-ce que je dois faire ?",
        ],
        "subscription": [
            "Je voudrais résilier mon abonnement, c'est introuvable sur le site. Vous pouvez"
            " m'aider ?",
            "Mon abonnement mensuel n'apparaît plus dans l'appli, je suis bien couvert pour"
            " le contrôle ?",
            "Je déménage à {city}, comment je transfère mon abonnement box ?",
        ],
        "refund": [
            "Train {train} annulé hier, comment je demande le remboursement ?",
            "Comment obtenir la compensation pour les {delay} minutes de retard de {day} ?",
        ],
        "mobile": [
            "Je voudrais activer ma carte SIM reçue hier, le lien ne marche pas.",
            "Téléphone volé, comment je bloque ma ligne en urgence ?",
        ],
        "luggage": [
            "J'ai oublié mon sac à dos dans le train {train} arrivé à {city} à {hour}. Comment"
            " je peux le récupérer ?",
            "Objet perdu : une veste bleue voiture {coach} du {hour} {city} - {city2}. Une"
            " idée de où m'adresser ?",
        ],
    },
    "question": {
        "travel": [
            "Est-ce que les vélos sont acceptés dans les trains de la ligne {line} ?",
            "Il y a des travaux ce week-end entre {city} et {city2} ?",
            "Les animaux sont-ils acceptés à bord ? J'ai un petit chien.",
            "Combien de temps avant le départ faut-il être sur le quai ?",
            "Le wifi à bord est gratuit ou payant ?",
            "On peut monter avec un billet sur téléphone si la batterie est à plat ? 😅",
        ],
        "offer": [
            "Vous faites une réduction pour les moins de 26 ans ?",
            "Le forfait inclut-il les appels vers l'étranger ?",
            "Est-ce que je peux garder mon numéro si je change d'offre ?",
            "La fibre est-elle disponible rue des {street} à {city} ?",
            "Il existe une offre famille pour la box et les lignes mobiles ?",
        ],
        "station": [
            "À quelle heure ouvre le guichet de {city} le dimanche ?",
            "Il y a un parking vélo sécurisé à la gare de {city} ?",
        ],
    },
    "suggestion": {
        "app": [
            "Ce serait top de pouvoir ajouter son billet dans le portefeuille du téléphone.",
            "Pourquoi pas un mode sombre dans l'appli ? Mes yeux à 6h du matin vous"
            " remercieraient.",
            "Ce serait bien d'afficher la composition du train dans l'appli avant d'arriver"
            " sur le quai.",
        ],
        "service": [
            "Un train de plus vers {city} le vendredi soir, ce ne serait pas du luxe.",
            "Vous devriez prévenir par SMS en cas de retard, pas cinq minutes après.",
            "Des prises électriques dans toutes les voitures, s'il vous plaît !",
            "Une option pour suspendre la box pendant les vacances, ça existe pas ?",
        ],
    },
    "praise": {
        "staff": [
            "Merci au contrôleur du train {train} pour sa gentillesse avec ma fille qui"
            " voyageait seule.",
            "Super accueil en gare de {city} ce matin, merci à l'équipe.",
            "Chapeau au conducteur qui nous a tenus informés pendant tout l'arrêt.",
        ],
        "service": [
            "Remboursement reçu en 48h, rien à redire, merci !",
            "Problème de box réglé en dix minutes par le support, bravo.",
            "Pour une fois, à l'heure et au calme. Merci {name} 👏",
            "La nouvelle appli est vraiment plus fluide, bon boulot.",
            "Fibre installée à {city} en une matinée, technicien au top.",
        ],
    },
    "followup": {
        "chaser": [
            "Toujours rien ?",
            "Toujours pas de réponse…",
            "Quelqu'un peut me répondre svp ?",
            "Je relance, ça fait {since_short}.",
            "Vous avez vu mon message ?",
            "Bonjour, je me permets de relancer.",
            "Ça fait une heure, toujours aucune réponse.",
        ],
        "update": [
            "Mise à jour : toujours bloqué.",
            "Et maintenant le train est carrément supprimé.",
            "Je précise : dossier {ref}.",
            "Ah et en plus personne au guichet.",
            "Bon, j'ai fini par prendre un taxi. {amount} de ma poche.",
        ],
    },
}
