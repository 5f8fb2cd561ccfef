"""The words the parser knows: command vocabulary, filler, contractions and emoji.

Data only; `intents.text` uses it to normalise and correct text, `intents.words` to tell
command and filler words from the words of a task name.
"""

from __future__ import annotations

from intents.lookalikes import LOOKALIKES

#: Emoji that carry meaning; every other symbol is dropped.
EMOJI_WORDS: dict[str, str] = {
    "—": " : ",  # "reject — the numbers are wrong"
    "…": " , ",  # "the api deploy… any news?"
    "–": " : ",
    "⏸": " pause ",
    "▶": " resume ",
    "⏯": " resume ",
    "⏹": " cancel ",
    "🛑": " cancel ",
    "👋": " hello ",
    "🙏": " thanks ",
    "👍": " ok ",
    "❓": " ? ",
    "👀": " ? ",
    "🤔": " ? ",
    "⏰": " eta ",
    "⏳": " eta ",
    "⌛": " eta ",
    "👎": " reject ",
    "❌": " : ",
    "🆕": " new ",
    "🔔": " notify me ",
    "🔕": " mute ",
    "🔁": " restart ",
    "🔄": " restart ",
    "&": " and ",
    " + ": " and ",
}

#: Emoji that mean a command only when they open the message before a task ("✅ report",
#: "❌ report - charts empty"); elsewhere they decorate ("approve it ✅", "❌ cancel the build").
LEADING_EMOJI: dict[str, str] = {
    "✅": " approve ",
    "✔️": " approve ",
    "✔": " approve ",
    "❌": " reject ",
}

CONTRACTIONS: dict[str, str] = {
    "how's": "how is",
    "hows": "how is",
    "what's": "what is",
    "whats": "what is",
    "where's": "where is",
    "when's": "when is",
    "whens": "when is",
    "who's": "who is",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "it'll": "it will",
    "itll": "it will",
    "i'll": "i will",
    "ill": "i will",
    "i'm": "i am",
    "im": "i am",
    "i've": "i have",
    "i'd": "i would",
    "they'd": "they would",
    "we'd": "we would",
    "she'd": "she would",
    "he'd": "he would",
    "let's": "let us",
    "don't": "do not",
    "dont": "do not",
    "doesn't": "does not",
    "doesnt": "does not",
    "didn't": "did not",
    "didnt": "did not",
    "isn't": "is not",
    "isnt": "is not",
    "aren't": "are not",
    "can't": "cannot",
    "cant": "cannot",
    "won't": "will not",
    "wont": "will not",
    "gonna": "going to",
    "wanna": "want to",
    "gimme": "give me",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "thanx": "thanks",
    "u": "you",
    "ur": "your",
    "r": "are",
    "ya": "you",
    "rn": "right now",
    "atm": "right now",
    "bc": "because",
    "bcoz": "because",
    "bcuz": "because",
    "cos": "because",
    "lmk": "let me know",
    "nvm": "never mind",
    "lemme": "let me",
    "gotta": "got to",
    "abt": "about",
    "thru": "through",
    "msg": "message",
    "msgs": "messages",
    "notifs": "notifications",
    "chgs": "changes",
    "chg": "change",
    "min": "minutes",
    "mins": "minutes",
    "hrs": "hours",
    "secs": "seconds",
    "tysm": "thank you so much",
    "tyvm": "thank you very much",
    "thnx": "thanks",
    "stats": "status",
    "sub": "subscribe",
    "unsub": "unsubscribe",
    "thanku": "thank you",
    "thankyou": "thank you",
    "plse": "please",
    "pleas": "please",
    "teh": "the",
    "hte": "the",
    "waht": "what",
    "wat": "what",
    "wut": "what",
    "hwo": "how",
    "wen": "when",
    "til": "until",
    "w": "with",
    "untill": "until",
    "yuo": "you",
    "helo": "hello",
    "hallo": "hello",
    "adn": "and",
    "wheres": "where is",
    "whr": "where",
    "wher": "where",
    "howz": "how is",
    "hw": "how",
    "whatz": "what is",
    "wats": "what is",
    "watz": "what is",
    "what're": "what are",
    "whatre": "what are",
    "where'd": "where did",
    "how'd": "how did",
    "why's": "why is",
    "whys": "why is",
    "that'll": "that will",
    "thatll": "that will",
    "we're": "we are",
    "you're": "you are",
    "youre": "you are",
    "they're": "they are",
    "we've": "we have",
    "you've": "you have",
    "i'd've": "i would have",
    "hasn't": "has not",
    "hasnt": "has not",
    "haven't": "have not",
    "havent": "have not",
    "wasn't": "was not",
    "wasnt": "was not",
    "weren't": "were not",
    "shouldn't": "should not",
    "shouldnt": "should not",
    "couldn't": "could not",
    "couldnt": "could not",
    "wouldn't": "would not",
    "wouldnt": "would not",
    "ain't": "is not",
    "aint": "is not",
    "arent": "are not",
    "y'all": "you",
    "yall": "you",
}


def words(text: str) -> frozenset[str]:
    """A word list written as running text, for readability."""
    return frozenset(text.split())


#: "report's ready", "build's stuck": after a name, "'s" before these is "is".
STATES_AFTER_IS: frozenset[str] = words(
    """
    ready done stuck running finished failed failing broken still not taking down up live
    paused waiting almost nearly already over complete completed fine ok okay good slow late
    hanging hung frozen dead green red grand
    """
)

#: Command words typos are corrected towards.
VOCABULARY: frozenset[str] = words(
    """
    status progress going doing finished complete completed ready running failed
    list tasks jobs logs output error lines tail
    eta long remaining estimated minutes hours
    pause paused hold suspend freeze resume continue unpause carry keep
    cancel abort terminate kill scrap stop restart rerun redo start again scratch beginning
    retry skip bypass approve approved approval reject decline deny refuse
    changed happened anything notify notifying notifications subscribe unsubscribe
    email emails telegram slack browser mute alert remind
    help commands hello thanks thank cheers appreciated morning afternoon evening
    please could would should update updates pending
    show step steps because estimate
    """
)

#: Function words and filler: never typos, never part of a task name.
COMMON_WORDS: frozenset[str] = words(
    """
        a an about after again ahead all along also am and any anymore anything are as asked
        at away back be been being bother but by can cannot check coming could did do does
        doing done each else every everything far finally for forget from get give go going
        good got great had has have here hey hi how i if in into is just know later let like
        long look looks me more much need needs no not now of off ok okay on once out over
        please put quick really right see should show since so some still tell than thanks
        there time to today up us was we were what when where which while why will with
        would yet you your yes yeah um uh er hmm hm just want idea percent step steps
        minutes minute hours left remaining until till take taking currently now lines line
        last first latest display print give gimme tail again able mind kindly want wanted
        go finish finishes finished complete completes completed ready ends end done fail
        fails failed failing deployed stuck working run running rerun started starts start
        over scratch beginning new news changed change changes happened miss missed catch
        thing stuff whats whole sure nice cool awesome fine alright lol great thanks
        update updates message messages notification notifications text ping send
        sending notifying emails mail message approval attention waiting went wrong error
        errors output log logs trace traceback lot stop stopped sign gone yo hello
        wait actually sorry mean never mind nevermind quick question full entire
        permanently forever completely entirely yep yup nope nah or fill real quick quickly hit
        expect live looking stage state finishing starting ending dump different
        alerts pings messages updates say says said saying shows showed tell tells told
        overnight lately recently tonight tomorrow meanwhile earlier anew
        someone somebody anyone anybody everyone nobody fix fixed fixing make made
        breaks broke crashes crashed dies died succeeds succeeded passes hangs
        almost nearly basically already even probably maybe perhaps hopefully apparently
        erm ugh argh fyi btw asap urgent urgently tbh ngl imo omg ah oh ooh welp meh anyway
        anyways literally honestly seriously kk okey okie oki sweet meant
        progressing proceeding moving looking shaping holding performing behaving chugging
        wondering wonder wondered think thought guess curious seems seem seemed kicked feel
        assume believe hoping hope huh eh afraid unfortunately sadly glad most diff delta recap
        rundown wraps wrap wrapped due estimate sitrep lowdown holdup past happy satisfied
        making getting crash boss wants gets possible definitely certainly surely absolutely
        instead immediately instantly promptly straightaway wrapping expected supposed needing
        raw via sent summarise summarize explain describe provide share concludes concluded
        regarding concerning occurred occur inquiry enquiry wish subsequently previously
        temporarily receive other anticipated projected outline must further shall may might
        appreciate rollout gate too brief remain remains ever passed pass worked top
        keeps kept goes both either neither approx approximately roughly during before sends
        moved spoke allowed permitted grand reckon comes come came mine yours ours theirs
    """
)

#: Past forms that name a state ("has it been resumed?"), not a command: left as typed.
PAST_FORMS: frozenset[str] = words(
    """
    rejected cancelled canceled skipped retried resumed restarted stopped killed aborted
    declined denied suspended terminated unpaused subscribed unsubscribed notified muted
    rerun reran
    """
)
#: Command verbs whose "-ing" and "-s" forms mean the command ("rejecting", "pauses").
INFLECTED_VERBS: frozenset[str] = words(
    """
    pause resume cancel restart rerun retry skip approve reject decline deny abort kill stop
    terminate suspend freeze unpause continue subscribe unsubscribe notify mute
    """
)

#: Common words that look like typos of a command word but are not.
KNOWN_WORDS: frozenset[str] = (
    words(
        """
    last past cause close lose will still steps step shop ship show slow star stat
    going gone done none some sure more most lost list lint mail main hello hell
    rest test best post host coming keeps kept logo long song lone lane name same
    ready read real tall tell fill fall kills skill mile mute mike hole held help
    when what with that this then them they there their these those
    task one job thing jobs tasks data date sales store fail fails finish finishes
    along about sending
    """
    )
    | VOCABULARY
    | COMMON_WORDS
    | LOOKALIKES
    | PAST_FORMS
)


#: Slack's ":name:" emoji: the few that carry meaning, the rest dropped.
SHORTCODES: dict[str, str] = {
    "pause_button": " pause ",
    "double_vertical_bar": " pause ",
    "arrow_forward": " resume ",
    "stop_button": " cancel ",
    "octagonal_sign": " cancel ",
    "repeat": " restart ",
    "arrows_counterclockwise": " restart ",
    "wave": " hello ",
    "pray": " thanks ",
    "question": " ? ",
}
