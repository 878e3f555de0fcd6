"""What a new password must be: long enough, not one of the passwords attackers try first, and
not the person's own name or e-mail address. One rule for Mijn account, the Gebruikers screen and
the command line."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
# Digits and symbols people stick before or after a word ("Antwerpen2026!"): the word is the guess.
DECORATION = "0123456789!@#$%^&*()_+-=.,;:?/\\|'\"`~[]{}<> "

HINT = _l(
    "Minstens %(n)d tekens. Niet je naam of e-mailadres en geen veelgebruikt wachtwoord: "
    "die proberen aanvallers eerst. Een zin van een paar woorden is sterk en makkelijk te "
    "onthouden.",
    n=MIN_PASSWORD_LENGTH,
)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process (30 000 lines, lower case)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _repeated_unit(word: str) -> str:
    """'monkeymonkey' → 'monkey'; a word that is no repetition stays as it is."""
    for size in range(1, len(word) // 2 + 1):
        if len(word) % size == 0 and word[:size] * (len(word) // size) == word:
            return word[:size]
    return word


def is_common(password: str) -> bool:
    """On the list, also with digits or symbols around it, or repeated ('qwertyqwerty')."""
    lower = password.lower()
    core = lower.strip(DECORATION)
    candidates = {lower, core, _repeated_unit(lower), _repeated_unit(core)}
    if len(set(lower)) < 4:  # 'aaaaaaaaaaaa', '121212121212'
        return True
    return any(word in common_passwords() for word in candidates if word)


def personal_words(name: str, email: str) -> set[str]:
    """The parts of a person's name and e-mail address that a guesser would try."""
    local = email.lower().partition("@")[0]
    parts = re.split(r"[\s.\-_+']+", f"{name.lower()} {local}")
    words = {part for part in parts if len(part) >= 4}
    joined = re.sub(r"[\s.\-_+']+", "", name.lower())
    if len(joined) >= 4:
        words.add(joined)
    if len(local) >= 4:
        words.add(local)
    return words


def password_problem(password: str, name: str = "", email: str = "") -> str | None:
    """Why this password will not do, in plain Dutch; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("Een wachtwoord heeft minstens %(n)d tekens.", n=MIN_PASSWORD_LENGTH))
    lower = password.lower()
    if any(word in lower for word in personal_words(name, email)):
        return str(
            _l(
                "Je naam of e-mailadres zit in dit wachtwoord. Dat raadt iemand die je kent "
                "meteen. Kies iets anders."
            )
        )
    if is_common(password):
        return str(
            _l(
                "Dit wachtwoord gebruiken veel mensen: aanvallers proberen het als eerste. Kies "
                "iets anders, bijvoorbeeld een zin van een paar woorden."
            )
        )
    return None
