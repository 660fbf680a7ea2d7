"""What dresses a simulated customer-care message body, in French and English.

Openings and closings by category, sign-offs of private messages, sentences carrying
personal data, and the wraps of messages that name the brand instead of mentioning it.
Templates are filled by `simtext.Slots` (see simtext.py).
"""

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
