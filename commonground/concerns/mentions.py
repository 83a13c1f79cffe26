"""Find ``@username`` mentions in a comment's Markdown. Pure; no Django.

Only the names are found here. Whether a name is a person, and whether that person may see
the concern, is decided by the caller, which leaves every other name as plain text, so a
comment never tells its author whether someone exists.
"""

from __future__ import annotations

import re

# More than this many names in one comment are ignored: a mention is a nudge, not a mailing.
MAX_MENTIONS = 20

# Code is quoted text, not an address: fenced blocks, then inline spans.
_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[^\n]*$|\Z)", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
# An @ that starts a word (not the middle of an address such as a@b.org), then the characters
# Django allows in a username. A dot or hyphen ending the token is punctuation, not the name.
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]{1,150})", re.U)


def find_mentions(text: str, limit: int = MAX_MENTIONS) -> list[str]:
    """The names mentioned in ``text``, lower-cased, each once, in order of first mention."""
    text = _INLINE_CODE.sub(" ", _FENCED.sub(" ", text or ""))
    found: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".-+").lower()
        if name and name not in found:
            found[name] = None
            if len(found) >= limit:
                break
    return list(found)
