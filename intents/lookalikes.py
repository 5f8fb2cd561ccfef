"""Real English words one edit away from a command word ("passed"/"paused", "told"/"hold",
"stack"/"slack") or a doubled letter away from a known word ("hopping"/"hoping"): typed on
purpose, so never corrected.

Found by running every lower-case word of an English word list (Debian's `wamerican`) through
the typo corrector and keeping those it changed into a different word (inflections such as
"pausing" -> "pause" stay corrected). `tests/intents/test_text.py` repeats the check where
that word list is installed: run it after changing the command vocabulary.
"""

from __future__ import annotations

_LOOKALIKE_WORDS = """
    abbot ailed alines appending appreciates asks assert assort atop attain avert bail
    bailed basks beady beep bending bill black blogs bobs bogs bold bong boobs booth breeze
    browner browsed browses butte bypast cancer casks caused cello chanced chancel chanted
    charged cheeks cheeps cheery chewers chow clack clanged clogs cobs cogs cold commando
    commandos commends compete competed complected continua continuum corning crap credo
    cunning curry cute deep defuse defy deject dens dent dewy dill dines ding doffing
    dogging dogs doling dolling doming donning dooming doping dosing doting dotting dozing
    dunning dying eject fabled fending filed filled fines finisher fist flack flailed flogs
    fobs fogs foiled fold fours frieze gain geeing germinate gill gist gobbing gobs gold
    gong goofing goosing goring gunning hail hailed hanged hank hanks harry heady heap heels
    helm hemp hill hobs hoed hogs holed holly holy hood hooping hopping illness jabs jail
    jailed jeep jello jibs jogs jots joys jute keel keen kelp kiln kilo kilt lack lags lanes
    latter lease legs lending lest liens lies lift likes lilt limes lined linen linens liner
    liners links linnet linnets lints lioness lisp lives lobs loge loges logos lolls looms
    loons loony loops loose loot loots lops loss lots lows lugs lung lust lute mailed mails
    marry masks mate matte mending mete mill mines minuets minuses minuted minuter mist mite
    moaning mobs mold mooning mooring mote mourning mule muse mutt mutter mutts nail nailed
    nines ours pail parry parse parsed passed pease peep penning penny piing pill pines
    pours presume punning rail railed reads rebind recline reds reeds reedy reelect reentry
    refuge refugee refute regaining remand rending retaining reuse rewind rill robs ruining
    sack sail sailed scoop scow scram scrip seep seeps shack shank shanks sheep sheers shod
    shoe shoo shot sill skid skiff skim skimp skin skis skit sleep sleeps slick slip slogs
    sloop slop smack smart snack snip snoop snow sobs sold sours spending stack stare stark
    starry stars states statue statues steeds steels steep steeps steers stem stems stew
    stews stomp stood stool stoop stoops stow strap strep strop sunning sweep sweeps swoop
    swop tacks tailed talks tank tarry tart teeny tending terror think thinks thunk thunks
    tines togs toil told tong tours trail trill tusks twill upending veep vending vines wail
    wailed weep wending whelp wines wist world wound yelp yours
"""
LOOKALIKES: frozenset[str] = frozenset(_LOOKALIKE_WORDS.split())
