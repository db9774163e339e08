"""Whether a message asks how to support someone else who is struggling.

"My friend has been cutting, how do I help her?" is care, not self-harm: it must never get the
self-harm refusal (text.py drops self_harm findings for it), and the clip should comfort (the bot
answers it with the love mood: a hug). Three things together mark it, on normalised text: another
person ("my sister", "a friend", "someone in our server"), a hardship of theirs (depression,
self-harm, grief, an eating disorder...), and the asker's own part (a question, "help", "support",
"for my friend", "I'm worried"). The writer's own risk ("I want to die", "hide my cuts") or help
with the harm itself ("help her starve", "tips to cut deeper") rules it out.
"""

from __future__ import annotations

import re

_SOMEONE = re.compile(
    r"\b(?:my|a|an|our|his|her|their|this|one of my|some) (?:[a-z']+ )?(?:friend|friends|bestie|bff|buddy|"
    r"sister|sis|brother|bro|sibling|mom|mum|mother|dad|father|parent|parents|son|daughter|kid|child|teen|"
    r"cousin|aunt|uncle|partner|girlfriend|boyfriend|gf|bf|wife|husband|roommate|classmate|coworker|"
    r"colleague|student|teammate|mate|niece|nephew|grandma|grandpa|grandmother|grandfather|neighbor|"
    r"neighbour|member|guy|girl|person|someone)\b|\bsomeone\b|\bsomebody\b|"
    r"\b(?:she|he|they)(?:'s| is| are| has)\b|"
    # chat often drops the "my": "sister just got out of the hospital"
    r"^(?:best |little |big |older |younger )?(?:friend|bestie|bff|sister|sis|brother|bro|mom|mum|dad|"
    r"cousin|roommate|partner|girlfriend|boyfriend|gf|bf|wife|husband|son|daughter|kid|teammate)\b"
)
_HARDSHIP = re.compile(
    r"struggl|depress|self[ -]?harm|\bcut(?:s|ting)?\b|\bscars?\b|suicid|kill(?:ing)? (?:him|her|them)sel|"
    r"end(?:ing)? (?:it|(?:his|her|their) life)|\bdie\b|wants? to die|eating disorder|anorex|bulimi|starv|"
    r"restrict|not eating|skipping meals|panic attack|anxiety|griev|grief|passed away|\bdied\b|lonely|alone|"
    r"dark (?:place|thoughts)|hard (?:time|year|week)|rough|\bdown\b|\blow\b|crying|overdos|relaps|rehab|"
    r"recover|therap|hospital|psych|hopeless|worthless|breakdown|spiral|hurt(?:ing)? (?:him|her|them)sel|"
    r"burning (?:him|her|them)sel|bipolar|bpd|ptsd|diagnos|inpatient|isolat|goodbye|disappear|heartbroken|"
    r"\bsad\b|blades|razor|purg|binge|hates? (?:him|her|them)sel|burden|failure|drinking|\bempty\b|"
    r"mental health|voices|assault|crisis|hotline|\b988\b|danger|tired of|jump|"
    r"nobody (?:would )?(?:miss|cares)|not (?:him|her|them)sel|in bed for|bad day|going through|keep going|"
    r"you matter|you(?:'re| are) (?:loved|"
    r"doing great|not alone)|scratching|(?:won't|wont|not|isn't|isnt|stopped|doesn't|doesnt) eat|sleeping|"
    r"no future|give up|giving up|attempt"
)
_ASKER = re.compile(
    r"\?|\bhow (?:do|can|should|could|would) i\b|\bwhat (?:do|can|should|could|would) i\b|\bshould i\b|"
    r"\bhelp\b|\bsupport\b|\bcomfort|\bcheer (?:him|her|them) up\b|\bcheck on\b|\breach out\b|\badvice\b|"
    r"\bworried\b|\bscared for\b|\bencourag|\bfor (?:my|a|our|her|him|them)\b|\bi'?m (?:worried|scared)\b|"
    r"\bhow to\b|\bwhat now\b|\bright thing\b|\bshould (?:mods|we)\b|"
    r"\bwhat (?:do|should|can) (?:we|mods|you)\b|"
    r"\bapproach\b|\bsay to\b|\bremind (?:her|him|them)\b|\bsend (?:my|her|him|them)\b"
)
_OWN_RISK = re.compile(
    r"\bi (?:want|wanna|am going|'m going|'m gonna|am gonna|will|'ll) (?:to )?(?:die|kill myself|end it)|"
    r"\bi (?:just )?(?:want|wanna|need) to (?:die|disappear|starve|end|cut|vanish|be gone)|"
    r"\bkill myself\b|\bkms\b|\bkys\b|\bi (?:cut|starve|hurt|burn) myself\b|"
    r"\bi(?:'m| am|'ve been| have been| keep| kept| started| start| was)? ?"
    r"(?:cutting|self harming|self-harming|starving|purging|restricting|burning|bleeding|relapsing)\b|"
    r"\bmy (?:blades|razors|cuts|scars|wounds|purge|arms|thighs|wrists|meal plan|goal weight|ugw|gw)\b|"
    r"\b(?:hide|hid|hiding) (?:it|them|my|the (?:cuts|scars|blades|razors))|"
    r"\bkeep (?:it|them) (?:hidden|secret)|"
    r"\bkeep (?:her|him|them) from finding|"
    r"\b(?:without|so) (?:her|him|them|anyone|no one|nobody|noone) "
    r"(?:noticing|notices|sees|seeing|finding|know)|"
    r"\babout me\b|\bgoodbye\b.*\b(?:tomorrow|tonight|for good|forever|cops|police)|"
    r"\bthey'?ll understand\b|"
    r"\bsay goodbye\b|\bfor the last time\b|\ba note\b|\bget new ones\b|\bstop (?:telling|checking)\b|"
    r"\bin peace\b|\bno recovery\b|\bkeep it that way\b|\b(?:hw|cw|gw|ugw) ?[0-9]|"
    r"\bmyself\b.*\b(?:tonight|anymore)\b"
)
_HELPING_THE_HARM = re.compile(
    r"\b(?:help|helping|encourage|encouraging|teach|show|convince|dare|get|make|let) "
    r"(?:him|her|them|my [a-z]+|a friend|someone) (?:to |how to |do it|finish)?"
    r"(?:die|kill|end it|end (?:his|her|their) life|cut|starve|"
    r"purge|overdose|od|hang|jump|stop eating|lose more|hurt|hide|burn|do it)|"
    r"\b(?:tips|ways|how|best way|methods?) (?:to|for|of) (?:starv|cut|purg|hid|kill|overdos|hang|end)|"
    r"\bdeeper\b|\bpro ?ana\b|\bthinspo\b"
)


def asks_to_support(normalized: str) -> bool:
    """``normalized``: ``normalize(text)`` (lower case)."""
    return (
        _SOMEONE.search(normalized) is not None
        and _HARDSHIP.search(normalized) is not None
        and _ASKER.search(normalized) is not None
        and _OWN_RISK.search(normalized) is None
        and _HELPING_THE_HARM.search(normalized) is None
    )
