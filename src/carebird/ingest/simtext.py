"""Text banks of the simulated network: French and English customer-care phrases.

Everything here was written for carebird; the brand is fictional and configurable (its
name is the `{name}` slot). Domains use the reserved `.example` names and phone numbers
come from ranges set aside for fiction (06 39 98 xx xx in France, 07700 900xxx in the UK).

A template is a `str.format` string whose slots (`{city}`, `{ref}`...) are filled lazily by
`Slots`: only the slots a template uses cost anything, and `Slots` remembers which ones it
filled, so the simulator knows when it put personal data (phone, e-mail, booking reference)
into a message. The choosing helpers at the end (weights, people, message bodies) keep the
connector in simulate.py about streams and threads rather than words.
"""

from __future__ import annotations

import bisect
import random
import unicodedata
from dataclasses import dataclass
from typing import TypeVar

from carebird.ingest.base import AuthorInfo

Bank = dict[str, dict[str, list[str]]]  # category -> topic -> templates

FR: Bank = {
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

EN: Bank = {
    "complaint": {
        "delay": [
            "Train {train} at {hour}: {delay} minutes late and not a single announcement."
            " Missed my connection in {city}, thanks.",
            "{delay} minutes late again on line {line}. Every single morning.",
            "Stuck at {city} station for {delay} minutes and nobody knows anything.",
            "Late this morning, late yesterday, late the day before. What am I paying for?",
            "Stopped in the middle of nowhere between {city} and {city2} for {delay} min, no"
            " info at all.",
        ],
        "cancellation": [
            "My train to {city} just got cancelled with no explanation. How am I supposed to"
            " get to work?",
            "The {hour} to {city2} showed on time, then cancelled at the last minute. Great.",
            "Third cancellation this week on line {line}. This is getting ridiculous.",
        ],
        "refund": [
            "Still waiting for my refund for booking {ref} {since}. Nothing on my account.",
            "Refund refused for a train YOU cancelled? Seriously?",
            "I was promised a {amount} voucher and never got anything.",
        ],
        "billing": [
            "Charged {amount} twice this month. What is going on?",
            "My bill went up by {amount} and nobody told me.",
            "Billed {amount} in roaming charges and I never left {city}.",
        ],
        "internet": [
            "Broadband down in {city} {since} and I work from home!",
            "The router keeps rebooting every ten minutes {since}. Unbearable.",
            "Speeds are a joke every evening in {city}, can't stream anything.",
            "Engineer was supposed to come {day} morning. Nobody showed up.",
        ],
        "mobile": [
            "No mobile signal in my area of {city} {since}.",
            "My line has been suspended even though I paid my bill!",
        ],
        "app": [
            "The app crashes every time I open my ticket. Very handy when the inspector comes.",
            "Can't pay in the app, error every single time.",
            "Since the update the app can't find my tickets anymore.",
        ],
        "service": [
            "45 minutes on hold just to get cut off. Brilliant customer service.",
            "Third message with no reply. Is anyone actually there?",
            "Your chatbot goes round in circles and no human ever answers.",
        ],
        "luggage": [
            "My suitcase never made it to {city}, the desk is closed and nobody answers.",
            "Suitcase damaged on the {city} - {city2} trip, handle ripped off.",
        ],
        "account": [
            "My account got locked for no reason and now I can't get to my tickets.",
            "Never received the verification code, locked out of my account {since}.",
        ],
        "comfort": [
            "Coach {coach} has no heating between {city} and {city2}, we're freezing.",
            "Toilets out of order for the whole journey. Three hours…",
            "Air con broken, it's 30 degrees in coach {coach}.",
        ],
    },
    "request": {
        "booking": [
            "I never got my e-ticket for booking {ref}, could you resend it?",
            "How do I change my ticket for {date} to {city}? The website won't let me.",
            "I booked the wrong date (booking {ref}), can I change it without a fee?",
        ],
        "order": [
            "Placed order {order} a week ago and still no confirmation. Can you check?",
            "My railcard (order {order}) still hasn't arrived, could you look into it?",
        ],
        "account": [
            "I can't log in to my account, the verification code never arrives.",
            "Reset my password three times and it still says wrong credentials. Help?",
            "Changed my phone number, how do I update my account?",
        ],
        "outage": [
            "No internet in {city} {since}, is there a known outage?",
            "Router light has been red {since}, what should I do?",
        ],
        "subscription": [
            "I'd like to cancel my subscription but can't find how on the website. Can you help?",
            "Moving to {city} next month, how do I transfer my broadband contract?",
        ],
        "refund": [
            "Train {train} was cancelled yesterday, how do I claim a refund?",
            "How do I claim compensation for the {delay} minute delay on {day}?",
        ],
        "mobile": [
            "Trying to activate the SIM card I got yesterday but the link doesn't work.",
            "Phone stolen, how do I block my line urgently?",
        ],
        "luggage": [
            "Left my backpack on train {train} arriving in {city} at {hour}. How can I get it"
            " back?",
        ],
    },
    "question": {
        "travel": [
            "Are bikes allowed on line {line} trains?",
            "Any engineering works this weekend between {city} and {city2}?",
            "Can I bring my small dog on board?",
            "Is the onboard wifi free?",
            "Can I travel with a phone ticket if my battery dies? 😅",
        ],
        "offer": [
            "Do you have a discount for under 26s?",
            "Does the plan include calls abroad?",
            "Can I keep my number if I switch plans?",
            "Is fibre available on {street} Street in {city}?",
        ],
        "station": [
            "What time does the ticket office in {city} open on Sundays?",
            "Is there secure bike parking at {city} station?",
        ],
    },
    "suggestion": {
        "app": [
            "Would be great to add tickets to the phone wallet.",
            "Any chance of a dark mode in the app? My eyes at 6am would thank you.",
        ],
        "service": [
            "One more train to {city} on Friday evenings would be lovely.",
            "You should text us when a train is delayed, not five minutes after.",
            "Power sockets in every coach, please!",
        ],
    },
    "praise": {
        "staff": [
            "Huge thanks to the guard on train {train} for looking after my daughter"
            " travelling alone.",
            "Lovely welcome at {city} station this morning, thanks to the team.",
        ],
        "service": [
            "Refund arrived in 48 hours, no complaints, thank you!",
            "Router issue sorted in ten minutes by support, well done.",
            "On time and quiet for once. Cheers {name} 👏",
            "The new app is so much smoother, good job.",
        ],
    },
    "followup": {
        "chaser": [
            "Still nothing?",
            "Still no reply…",
            "Can anyone answer please?",
            "Chasing this, it's been {since_short}.",
            "Did you see my message?",
            "Still waiting…",
        ],
        "update": [
            "Update: still stuck.",
            "And now the train is cancelled altogether.",
            "For reference: booking {ref}.",
            "Ended up taking a taxi. {amount} out of my own pocket.",
        ],
    },
}

BANKS: dict[str, Bank] = {"fr": FR, "en": EN}

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

OPENINGS: dict[str, dict[str, list[str]]] = {
    "fr": {
        "complaint": ["Sérieusement ?", "Franchement…", "Encore !", "Allô ?", "Bonjour."],
        "request": ["Bonjour,", "Bonsoir,", "Hello,", "Salut,"],
        "question": ["Bonjour,", "Petite question :", "Hello,"],
        "suggestion": ["Petite idée :", "Bonjour,"],
        "praise": ["Bravo !", "Pour une fois, un message positif :"],
    },
    "en": {
        "complaint": ["Seriously?", "Honestly…", "Again!", "Hello?"],
        "request": ["Hi,", "Hello,", "Hey,", "Good evening,"],
        "question": ["Hi,", "Quick question:", "Hey,"],
        "suggestion": ["Small idea:", "Hi,"],
        "praise": ["Well done!", "For once, some good news:"],
    },
}

CLOSINGS: dict[str, dict[str, list[str]]] = {
    "fr": {
        "complaint": [
            "😡",
            "Inadmissible.",
            "Merci de me répondre.",
            "C'est la troisième fois ce mois-ci.",
            "Honteux.",
            "#galère",
            "🙄",
        ],
        "request": ["Merci d'avance !", "Merci 🙏", "Cordialement.", "C'est urgent."],
        "question": ["Merci !", "Merci d'avance.", "🙂"],
        "suggestion": ["😉", "Merci de faire remonter !"],
        "praise": ["🙏", "❤️", "Merci encore !"],
    },
    "en": {
        "complaint": ["😡", "Unacceptable.", "Please reply.", "Third time this month.", "🙄"],
        "request": ["Thanks in advance!", "Thanks 🙏", "It's urgent."],
        "question": ["Thanks!", "Cheers.", "🙂"],
        "suggestion": ["😉", "Please pass it on!"],
        "praise": ["🙏", "❤️", "Thanks again!"],
    },
}

DM_SIGNOFFS: dict[str, list[str]] = {
    "fr": ["Merci d'avance.", "Cordialement, {first}", "Bonne journée, {fullname}", "{first}"],
    "en": ["Thanks in advance.", "Kind regards, {first}", "Best, {fullname}", "{first}"],
}

PII_SENTENCES: dict[str, list[str]] = {
    "fr": [
        "Vous pouvez me joindre au {phone}.",
        "Mon mail : {email}",
        "Référence du dossier : {ref}.",
        "Mon numéro client : {client}.",
        "Rappelez-moi au {phone} svp.",
    ],
    "en": [
        "You can reach me on {phone}.",
        "My email is {email}",
        "Booking reference: {ref}.",
        "Customer number {client}.",
    ],
}

KEYWORD_WRAPS: list[str] = ["{name} : {lower}", "{body} ({name})", "{body} — {name}"]


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
    fr = lang == "fr"
    if key == "city":
        return r.choice(CITIES)
    if key == "city2":
        city = r.choice(CITIES)
        return city if city != s["city"] else "Paris"
    if key == "ref":
        bits = r.getrandbits(30)
        return "".join(_REF_ALPHABET[(bits >> (5 * i)) & 31] for i in range(6))
    if key == "order":
        num = r.randrange(1_000_000, 9_999_999)
        return f"n°{num}" if fr else f"#{num}"
    if key == "client":
        return str(r.randrange(10_000_000, 99_999_999))
    if key == "train":
        return str(r.randrange(1000, 9999))
    if key == "coach":
        return str(r.randrange(1, 19))
    if key == "line":
        return r.choice(LINES)
    if key == "hour":
        h, m = r.randrange(5, 23), r.randrange(0, 60)
        return f"{h}h{m:02d}" if fr else f"{h}:{m:02d}"
    if key == "delay":
        return str(r.choice((10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120)))
    if key == "amount":
        euros, cents = r.randrange(5, 180), r.choice((0, 50, 90, 99))
        return f"{euros},{cents:02d} €" if fr else f"€{euros}.{cents:02d}"
    if key == "day":
        return r.choice(DAYS[lang])
    if key == "date":
        return f"{r.randrange(1, 29):02d}/{r.randrange(1, 13):02d}"
    if key == "since":
        return r.choice(SINCE[lang]).replace("{n}", str(r.randrange(2, 6)))
    if key == "since_short":
        return r.choice(SINCE_SHORT[lang])
    if key == "street":
        return r.choice(STREETS)
    if key == "phone":
        if fr:
            return f"06 39 98 {r.randrange(100):02d} {r.randrange(100):02d}"
        return f"07700 900{r.randrange(1000):03d}"
    if key == "email":
        return f"{s['mailname']}{r.randrange(100)}@{r.choice(MAIL_DOMAINS)}"
    if key == "link":
        return f"https://{r.choice(SPAM_DOMAINS)}/{r.getrandbits(24):06x}"
    if key == "mailname":
        return f"client{r.randrange(10_000)}"
    if key in ("first", "fullname", "name"):
        return ""
    raise KeyError(key)


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
