"""Phrases of the simulated network's other messages, in French and English.

Noise (chatter, jokes, spam), the brand's own posts (retweeted or quoted by customers),
incident reports (one outage, many customers) and what a customer answers the desk.
Templates are filled by `simtext.Slots` (see simtext.py).
"""

NOISE: dict[str, dict[str, list[str]]] = {
    "fr": {
        "chatter": [
            "En route pour {city} avec {name}, la vue est magnifique ce matin.",
            "Quelqu'un d'autre dans le {hour} pour {city} ? On monte un club des habitués 😄",
            "Vu la nouvelle pub {name}, la musique ne me sort plus de la tête.",
            "Mon chat a décidé que la box {name} était son nouveau radiateur.",
            "Premier trajet {city} - {city2} avec {name}, on verra bien.",
        ],
        "joke": [
            "Si {name} était une personne, elle serait toujours « en approche ».",
            "Mon train a tellement de retard qu'il est en avance pour demain 😂",
            "J'ai appris une nouvelle langue : l'annonce en gare. Toujours rien compris.",
            "Le vrai sport national : courir après un train qui change de quai.",
        ],
        "spam": [
            "🎁 Gagnez un an de voyages gratuits ! Cliquez ici : {link}",
            "Billets à -90 % uniquement aujourd'hui 👉 {link}",
            "Remboursement en attente ? Récupérez votre argent en un clic : {link}",
            "Gagnez 500 € par jour depuis chez vous, infos ici {link}",
        ],
    },
    "en": {
        "chatter": [
            "Off to {city} with {name}, gorgeous view this morning.",
            "Anyone else on the {hour} to {city}? Regulars club 😄",
            "That new {name} ad tune is stuck in my head.",
            "My cat has decided the {name} router is her personal heater.",
        ],
        "joke": [
            "If {name} were a person they'd always be 'arriving shortly'.",
            "My train is so late it's early for tomorrow 😂",
            "Platform announcements are a language of their own. Still fluent in none.",
        ],
        "spam": [
            "🎁 Win a year of free travel! Click here: {link}",
            "Tickets 90% off today only 👉 {link}",
            "Refund pending? Claim your money in one click: {link}",
            "Earn $500 a day from home, details {link}",
        ],
    },
}

BRAND_POSTS: dict[str, list[str]] = {
    "fr": [
        "Travaux sur la ligne {line} ce week-end : des bus de substitution circulent entre"
        " {city} et {city2}.",
        "Nouveauté : retrouvez vos billets hors connexion dans l'appli {name}.",
        "Trafic perturbé entre {city} et {city2} suite à un incident technique. Reprise"
        " progressive prévue vers {hour}.",
        "Grand jeu : tentez de gagner un pass annuel ! Règlement sur notre site.",
        "La fibre {name} arrive à {city} : testez votre éligibilité dès maintenant.",
    ],
    "en": [
        "Engineering works on line {line} this weekend: replacement buses run between {city}"
        " and {city2}.",
        "New: your tickets now work offline in the {name} app.",
        "Disruption between {city} and {city2} after a technical fault. Service expected to"
        " resume around {hour}.",
        "{name} fibre is coming to {city}: check if you're eligible now.",
    ],
}

# Incident themes: one outage reported by many customers within the hour.
INCIDENTS: dict[str, dict[str, list[str]]] = {
    "app_down": {
        "fr": [
            "L'appli {name} est en panne ?",
            "Impossible d'ouvrir l'appli, ça tourne dans le vide. C'est chez tout le monde ?",
            "Appli inaccessible et mon billet est dedans… je fais comment au contrôle ?",
            "Erreur 503 sur l'appli et le site, vous êtes au courant ?",
        ],
        "en": [
            "Is the {name} app down?",
            "App won't load, just spinning. Anyone else?",
            "Can't open my ticket, the app is down. What do I show the inspector?",
        ],
    },
    "trains_cancelled": {
        "fr": [
            "Tous les trains de la ligne {line} supprimés ce matin ?!",
            "Ligne {line} à l'arrêt, aucune info en gare de {city}.",
            "Ligne {line} : bloqués à quai depuis {delay} min, que se passe-t-il ?",
            "C'est quoi ce chaos sur la ligne {line} ? Plus rien ne circule.",
        ],
        "en": [
            "All line {line} trains cancelled?!",
            "Line {line} at a standstill, no info at {city} station.",
            "What's going on with line {line}? Nothing is moving.",
        ],
    },
    "internet_down": {
        "fr": [
            "Internet coupé à {city} depuis {delay} minutes, c'est une panne générale ?",
            "Plus d'internet ni de télé à {city}, la box clignote rouge.",
            "Panne internet à {city} ? Tous mes voisins sont coupés aussi.",
        ],
        "en": [
            "Internet down in {city}, is it a general outage?",
            "No broadband or TV in {city}, router blinking red.",
        ],
    },
    "mobile_down": {
        "fr": [
            "Plus de réseau mobile à {city}, aucun appel ne passe.",
            "Réseau HS sur tout {city} ? Même les SMS ne partent pas.",
        ],
        "en": [
            "No mobile network in {city}, calls won't go through.",
            "Whole of {city} without signal? Even texts fail.",
        ],
    },
    "payment_down": {
        "fr": [
            "Paiement refusé sur le site à chaque essai, vous avez un souci ?",
            "Impossible d'acheter un billet, la page de paiement plante.",
        ],
        "en": [
            "Payment keeps failing on the website, is something wrong?",
            "Can't buy a ticket, the payment page crashes.",
        ],
    },
    "signal_failure": {
        "fr": [
            "Panne de signalisation à {city} ? On ne bouge plus depuis {delay} minutes.",
            "Train immobilisé avant {city}, « problème de signalisation » paraît-il.",
        ],
        "en": [
            "Signal failure at {city}? We haven't moved for {delay} minutes.",
            "Train stopped outside {city}, 'signalling problem' apparently.",
        ],
    },
}

# What a customer says after the desk answered them.
ANSWERS: dict[str, dict[str, list[str]]] = {
    "fr": {
        "thanks": [
            "Merci beaucoup !",
            "Merci pour la réponse rapide 🙏",
            "Super, c'est réglé, merci !",
            "Ok merci, je regarde ça.",
            "Parfait, merci pour votre aide.",
            "Ah top, ça marche maintenant. Merci !",
            "Bien reçu, merci.",
        ],
        "escalation": [
            "Toujours pas résolu.",
            "C'est la même réponse que la dernière fois. Toujours rien.",
            "Vos réponses toutes faites ne servent à rien.",
            "J'ai déjà fait tout ça, ça ne marche pas !",
            "Je veux parler à un responsable.",
            "Si ce n'est pas réglé demain, je saisis le médiateur.",
            "Ça dure {since}, vous trouvez ça normal ?",
        ],
        "detail": [
            "Voilà : dossier {ref}, train du {date} à {hour}.",
            "Mon numéro client est le {client}.",
            "C'est la commande {order}, au nom de {fullname}.",
            "Vous pouvez me rappeler au {phone}.",
            "Mon adresse mail : {email}",
        ],
    },
    "en": {
        "thanks": [
            "Thanks a lot!",
            "Thanks, sorted.",
            "Cheers for the quick reply 🙏",
            "Ok thanks, I'll have a look.",
            "Perfect, thank you for your help.",
            "Works now, thanks!",
        ],
        "escalation": [
            "Still not fixed.",
            "This is ridiculous, still broken.",
            "Same canned answer as last time. Nothing has changed.",
            "I've already done all that, it doesn't work!",
            "I want to speak to a manager.",
            "It's been {since}, do you think that's acceptable?",
        ],
        "detail": [
            "Here you go: booking {ref}, train on {date} at {hour}.",
            "My customer number is {client}.",
            "It's order {order}, under the name {fullname}.",
            "You can call me back on {phone}.",
            "My email is {email}",
        ],
    },
}
