"""English morphology the chat templates need: "Generate application UI" -> "Generating
application UI", as the spec's "Currently: Generating application UI" reads."""

from __future__ import annotations

import re

#: Verbs that open step names; a name opening with anything else is left as it is.
STEP_VERBS = frozenset(
    [
        "add",
        "analyse",
        "analyze",
        "apply",
        "archive",
        "audit",
        "back",
        "build",
        "bump",
        "bundle",
        "calculate",
        "check",
        "clean",
        "clone",
        "collect",
        "compile",
        "compress",
        "configure",
        "connect",
        "convert",
        "copy",
        "create",
        "deploy",
        "design",
        "detect",
        "download",
        "draft",
        "evaluate",
        "export",
        "extract",
        "fetch",
        "fine-tune",
        "fix",
        "format",
        "generate",
        "import",
        "index",
        "install",
        "integrate",
        "label",
        "launch",
        "lint",
        "load",
        "merge",
        "migrate",
        "monitor",
        "move",
        "normalize",
        "normalise",
        "notify",
        "optimize",
        "optimise",
        "package",
        "parse",
        "plan",
        "prepare",
        "preprocess",
        "process",
        "provision",
        "publish",
        "pull",
        "push",
        "reconcile",
        "refactor",
        "refresh",
        "release",
        "render",
        "repair",
        "report",
        "resize",
        "restore",
        "review",
        "rotate",
        "run",
        "sanitize",
        "sanitise",
        "save",
        "scan",
        "schedule",
        "scrape",
        "seed",
        "send",
        "set",
        "setup",
        "ship",
        "sign",
        "snapshot",
        "sort",
        "split",
        "stage",
        "start",
        "sync",
        "synchronize",
        "tag",
        "test",
        "train",
        "transcode",
        "transform",
        "translate",
        "tune",
        "update",
        "upgrade",
        "upload",
        "validate",
        "verify",
        "wire",
        "write",
    ]
)
_DOUBLE = frozenset({"run", "set", "ship", "plan", "tag", "stop", "scan", "put", "get"})
_WORD = re.compile(r"^([A-Za-z][A-Za-z-]*)(.*)$", re.DOTALL)


def present_participle(name: str) -> str:
    """The step name with its opening verb in -ing form; unchanged when it opens otherwise."""
    match = _WORD.match(name)
    if match is None or match.group(1).lower() not in STEP_VERBS:
        return name
    verb, rest = match.groups()
    return _ing(verb) + rest


def _ing(verb: str) -> str:
    lower = verb.lower()
    if lower == "setup":
        stem = "Setting up" if verb[0].isupper() else "setting up"
        return stem
    if lower in _DOUBLE:
        word = verb + verb[-1] + "ing"
    elif lower.endswith("ie"):
        word = verb[:-2] + "ying"
    elif lower.endswith("e") and not lower.endswith(("ee", "ye", "oe")):
        word = verb[:-1] + "ing"
    else:
        word = verb + "ing"
    return word
