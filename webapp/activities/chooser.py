"""The activity chooser knows the client: filters that fit the client of a case (age, reduced-rate
card, interests), what those filters hide, and what to try when nothing matches."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from peewee import Expression, ModelSelect

from webapp.models import DOMAINS, Activity, Case

SEARCH_KEYS = ("q", "domain", "age", "district", "max_price", "reduced")

# Words people type and broader or neighbouring words the offer is written in. A value that is a
# domain (sport, cultuur, jeugd) becomes "everything in that domain" rather than a word.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "turnen": ("gymnastiek", "turnclub", "sport"),
    "gym": ("gymnastiek", "turnclub", "sport"),
    "zwemmen": ("zwembad", "zwemles", "zwem"),
    "voetbal": ("football", "voetbal", "sport"),
    "basketbal": ("basket", "sport"),
    "boksen": ("kickboksen", "vechtsport", "sport"),
    "dansen": ("dans",),
    "muziek": ("muziekschool", "academie", "piano"),
    "zingen": ("koor", "muziek", "academie"),
    "tekenen": ("beeldend", "kunst"),
    "schilderen": ("beeldend", "kunst"),
    "knutselen": ("kunst", "jeugd"),
    "lezen": ("bibliotheek", "voorlezen", "boeken"),
    "huiswerk": ("huiswerkklas", "bibliotheek"),
    "foto": ("fotografie", "fotoworkshop", "museum"),
    "film": ("filmklas", "cinema", "cultuur"),
    "jeugdbeweging": ("chiro", "scouts", "jeugd"),
    "speelplein": ("speelpleinwerking", "jeugd"),
    "taal": ("taalcafé", "nederlands"),
}
# At most this many alternatives are counted, so the one count query stays small.
MAX_SUGGESTIONS = 8
# The search form's fields that narrow the offer, and the Activity.search argument each one is.
FILTERS = {
    "q": "text",
    "domain": "domain",
    "age": "age",
    "district": "district",
    "max_price": "max_price_cents",
    "reduced": "reduced_only",
}
UNFILTERED = {
    "text": "",
    "domain": "",
    "age": None,
    "district": "",
    "max_price_cents": None,
    "reduced_only": False,
}


@dataclass
class Fit:
    """One filter that fits the client; on unless the mediator lifted it."""

    key: str
    label: str
    condition: Expression
    on: bool = True

    def hidden_text(self, count: int, age: int | None, interests: str) -> str:
        if self.key == "age":
            return ngettext(
                "%(num)d activiteit past niet bij %(age)d jaar",
                "%(num)d activiteiten passen niet bij %(age)d jaar",
                count,
                age=age,
            )
        if self.key == "card":
            return ngettext(
                "%(num)d activiteit werkt niet met kansentarief",
                "%(num)d activiteiten werken niet met kansentarief",
                count,
            )
        return ngettext(
            "%(num)d activiteit valt buiten %(interests)s",
            "%(num)d activiteiten vallen buiten %(interests)s",
            count,
            interests=interests,
        )


@dataclass
class ClientFit:
    """What the chooser knows about the client of a case, and the filters that follow."""

    age: int | None
    card_valid: bool
    interests: str
    domains: list[str] = field(default_factory=list)
    fits: list[Fit] = field(default_factory=list)

    @property
    def active(self) -> list[Fit]:
        return [f for f in self.fits if f.on]

    @property
    def only_domain(self) -> str:
        """The one domain the client's interests limit the list to, if that filter is on."""
        on = any(f.key == "interests" for f in self.active)
        return self.domains[0] if on and len(self.domains) == 1 else ""


def client_fit(case: Case) -> ClientFit:
    """The filters for this case's client; all on at first, as the URL says after that."""
    client = case.client
    age = client.age()
    interests = [d for d in case.interest_list if d in DOMAINS]
    names = ", ".join(str(DOMAINS[d]) for d in interests)
    found = ClientFit(age=age, card_valid=client.has_valid_card, interests=names, domains=interests)
    if age is not None:
        found.fits.append(Fit("age", _("%(age)d jaar", age=age), Activity.fits_age(age)))
    if found.card_valid:
        found.fits.append(Fit("card", _("kansentarief"), Activity.works_with_card()))
    if interests and len(interests) < len(DOMAINS):
        found.fits.append(Fit("interests", names, Activity.domain.in_(interests)))
    if request.args.get("fitted"):
        chosen = set(request.args.getlist("fit"))
        for fit in found.fits:
            fit.on = fit.key in chosen
    return found


def narrowed(query: ModelSelect[Any], fits: list[Fit]) -> ModelSelect[Any]:
    return query.where(*(f.condition for f in fits)) if fits else query


def link(fits: list[Fit], lift: str = "", lift_all: bool = False, **changes: Any) -> str:
    """This page's URL with some filters changed, keeping the state of the client's filters."""
    # Only the search form's own keys: any other would go into url_for() as an argument.
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in SEARCH_KEYS and v}
    for key, value in changes.items():
        if value:
            args[key] = value
        else:
            args.pop(key, None)
    if fits:
        args["fitted"] = "1"
        args["fit"] = [f.key for f in fits if f.on and f.key != lift and not lift_all]
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


def fold(word: str) -> str:
    """Lower case without accents, to look a typed word up in SYNONYMS."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def alternatives(word: str) -> list[str]:
    """Broader or neighbouring words for a typed word ("turnen" → gymnastiek, turnclub, sport);
    also for a longer or shorter form of a known word ("voetballen", "zwem")."""
    typed = fold(word)
    found: list[str] = []
    for key, others in SYNONYMS.items():
        related = typed == key or (
            len(typed) >= 4 and (key.startswith(typed) or typed.startswith(key))
        )
        if related:
            found += [w for w in (key, *others) if w != typed and w not in found]
    if typed in DOMAINS and typed not in found:
        found.append(typed)
    return found


@dataclass
class Suggestion:
    """Another search to try: the form fields it changes and how many activities it finds."""

    label: str
    changes: dict[str, Any]
    lift_all: bool = False
    count: int = 0
    url: str = ""

    def search_changes(self) -> dict[str, Any]:
        """The changes as arguments of Activity.search."""
        return {FILTERS[k]: v or UNFILTERED[FILTERS[k]] for k, v in self.changes.items()}


def _other_words(words: list[str], only: str) -> list[Suggestion]:
    """Each word replaced by a broader or other one (a domain's name: that domain)."""
    found: list[Suggestion] = []
    for index, word in enumerate(words):
        rest = [w for i, w in enumerate(words) if i != index]
        for other in alternatives(word):
            if other == only and not rest:
                continue  # the same as "without words" (see suggestions)
            if other in DOMAINS:
                label = _("alles in %(domain)s", domain=DOMAINS[other])
                found.append(Suggestion(label, {"q": " ".join(rest), "domain": other}))
            else:
                replaced = " ".join([*words[:index], other, *words[index + 1 :]])
                found.append(Suggestion(replaced, {"q": replaced}))
    return found


def suggestions(data: dict[str, Any], fit: ClientFit | None = None) -> list[Suggestion]:
    """What to try when nothing matches: broader or other words, fewer words, the same domain
    without words, the words in every domain, and always the whole offer last."""
    text = (data.get("q") or "").strip()
    domain = data.get("domain") or ""
    # The one domain the list is limited to (chosen, or the client's only interest), if any.
    only = domain or (fit.only_domain if fit else "")
    words = text.split()
    found = _other_words(words, only)
    if len(words) > 1:
        for index in range(len(words)):
            shorter = " ".join(w for i, w in enumerate(words) if i != index)
            found.append(Suggestion(shorter, {"q": shorter}))
    if text:
        label = (
            _("alles in %(domain)s", domain=DOMAINS[only])
            if only in DOMAINS
            else _("zonder zoekwoord")
        )
        found.append(Suggestion(label, {"q": ""}))
        if domain:
            found.append(Suggestion(_("‘%(text)s’ in alle domeinen", text=text), {"domain": ""}))
    others = {k: "" for k in FILTERS if k != "q"}
    if any(data.get(k) for k in others):
        found.append(Suggestion(_("zonder de andere filters"), others))
    unique: dict[str, Suggestion] = {}
    for suggestion in found:
        unique.setdefault(repr(sorted(suggestion.changes.items())), suggestion)
    everything = Suggestion(_("het hele aanbod"), dict.fromkeys(FILTERS, ""), lift_all=True)
    return [*list(unique.values())[:MAX_SUGGESTIONS], everything]
