"""English phrase bank of the simulated network: customer-care message bodies.

Category -> topic -> `str.format` templates, filled by `simtext.Slots` (see simtext.py).
"""

EN: dict[str, dict[str, list[str]]] = {
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
