"""Search the way people type on a phone: one fold() for stored and typed text, and the
`search_text` column that the searchable models keep up to date themselves.

Every searchable model stores a folded copy of its searchable text (lower case, no accents,
transliterated, phone numbers in national and international form) in `search_text`, and every
search folds the typed words the same way and looks for each word anywhere in it. The folding
happens in Python, so SQLite and PostgreSQL give the same answers, and one narrow column carries
a trigram index on both engines (see `create_search_indexes`): pg_trgm's GIN index serves
`search_text LIKE '%word%'` on PostgreSQL; on SQLite an FTS5 table with the trigram tokenizer,
kept in step with the column by triggers, answers `MATCH '"word"'`.

A trigram index cannot find a word of one or two letters ("al", a first initial): such a word
is looked for with LIKE among the rows the other conditions leave (the user's cases, the other
words' matches), a scan bounded by that scope rather than by the table."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from peewee import (
    SQL,
    DatabaseError,
    Field,
    ModelUpdate,
    NodeList,
    PostgresqlDatabase,
    SqliteDatabase,
)

# Letters that Unicode does not decompose into a base letter and a mark, written as people
# without the key on their phone write them. Applied after casefold (lower case only).
TRANSLITERATION = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "ı": "i",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
        "ə": "e",
        "ß": "ss",
        "ĸ": "k",
        "ſ": "s",
    }
)
# Apostrophes vanish (N'Diaye is typed "ndiaye" as often as "n diaye"); other punctuation
# separates words.
APOSTROPHES = str.maketrans(dict.fromkeys("'’‘ʼ`´", ""))
SEPARATOR = " | "  # between the parts of search_text; never in a folded word
MAX_WORDS = 5


def fold(text: str | None) -> str:
    """Text as it is compared in search: case and accents folded, ß→ss, æ→ae, ø→o, ł→l,
    dotless i→i…, apostrophes dropped, any other punctuation a space, spaces collapsed. Letters
    of other scripts stay (their marks go)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.casefold().translate(APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.translate(TRANSLITERATION)
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def compact(text: str) -> str:
    """A folded name without its spaces ("van den broeck" → "vandenbroeck"), or "" when it is
    a single word already."""
    folded = fold(text)
    return folded.replace(" ", "") if " " in folded else ""


def digits_of(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def phone_forms(phone: str | None) -> list[str]:
    """The digits of a phone number as people type it: national (0470123456) and international
    without the plus (32470123456). "+32 470 12 34 56", "0032 470…" and "0470 12 34 56" are one
    number; "470123456" is part of both forms."""
    digits = digits_of(phone or "")
    if not digits:
        return []
    if (phone or "").strip().startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = "32" + digits[1:]  # a Belgian number written the national way
    else:
        international = digits
    forms = [international]
    if international.startswith("32"):
        forms.insert(0, "0" + international[2:])
    return forms


def phone_term(query: str) -> str | None:
    """The digits to look for when the query is a phone number (no letters, at least three
    digits), in the form stored: "+32…" and "0032…" lose their prefix. None for other queries."""
    digits = digits_of(query)
    if len(digits) < 3 or any(c.isalpha() for c in query):
        return None
    if query.strip().startswith("+"):
        return digits
    return digits.removeprefix("00")


def search_words(query: str) -> list[str]:
    """The words to look for, folded: one run of digits for a phone number, else each word
    (at most five)."""
    phone = phone_term(query)
    if phone:
        return [phone]
    return fold(query).split()[:MAX_WORDS]


def contains(column: Any, word: str) -> Any:
    """`column LIKE '%word%'`: a folded word holds no LIKE wildcard (fold made it a space)."""
    return like(column, f"%{word}%")


TRIGRAM = 3  # the shortest word a trigram index can find


def fts_table(model: Any) -> str:
    """The name of the FTS5 table that indexes a searchable model's search_text on SQLite."""
    return f"{model._meta.table_name}_search"


def matches_all(model: Any, words: Iterable[str], indexed: bool = True) -> Any:
    """The condition "every word is in the model's search_text", through the trigram index for
    the words it can find (see the module's docstring); None when there are no words.
    `indexed=False`: LIKE for every word, for a scope already narrowed to a few dozen rows by
    another index (one mediator's cases), where reading the index would cost more."""
    words = [w for w in words if w]
    if not words:
        return None
    long_words = [w for w in words if len(w) >= TRIGRAM]
    short = [contains(model.search_text, w) for w in words if len(w) < TRIGRAM]
    if indexed and isinstance(model._meta.database.obj, SqliteDatabase) and long_words:
        # Each word a phrase: a folded word holds no quote or FTS5 operator (fold made it a
        # space), so the words can be quoted as they are.
        phrase = " ".join(f'"{w}"' for w in long_words)
        table = fts_table(model)
        # The table's name comes from the model, the words travel as a parameter.
        found = SQL(f'(SELECT rowid FROM "{table}" WHERE "{table}" MATCH ?)', [phrase])  # noqa: S608
        conditions = [model._meta.primary_key.in_(found), *short]
    else:
        conditions = [contains(model.search_text, w) for w in long_words] + short
    condition = conditions[0]
    for part in conditions[1:]:
        condition = condition & part
    return condition


def like(column: Any, pattern: str) -> Any:
    """A plain SQL LIKE on both engines (peewee writes `%` as GLOB on SQLite and `**` as ILIKE
    on PostgreSQL); the folded text needs no case-insensitivity."""
    return NodeList((column, SQL("LIKE"), pattern))


def join_parts(parts: Iterable[str]) -> str:
    """The stored search_text: the folded parts between bars ("| ayse celik | celik ayse |
    borgerhout |"), so that a whole part can be matched as well as any piece of one."""
    kept = [p for p in parts if p]
    return f"| {SEPARATOR.join(kept)} |" if kept else ""


def whole_part(folded: str) -> str:
    """A LIKE pattern for search_text holding exactly this folded part."""
    return f"%| {folded} |%"


def name_parts(first_name: str | None, last_name: str | None) -> list[str]:
    """The folded name as "first last" and "last first", and each name without its spaces."""
    first, last = fold(first_name), fold(last_name)
    full = f"{first} {last}".strip()
    reverse = f"{last} {first}".strip()
    return [full, reverse if reverse != full else "", compact(first or ""), compact(last or "")]


class SearchTextUpdate(ModelUpdate):
    """An UPDATE of a searchable model: when it changes a searched field, the search_text of
    the rows it changed is computed again afterwards (two more queries), so that a bulk update
    (an erasure, a correction) never leaves a stale search text behind."""

    # Set by peewee's Update, which its stubs leave out.
    _update: dict[Any, Any]
    _where: Any

    def _execute(self, database: Any) -> Any:
        model = self.model
        changed = {getattr(f, "name", f) for f in self._update}
        if "search_text" in changed or not changed & set(model.SEARCHED_FIELDS):
            return super()._execute(database)  # type: ignore[misc]  # not in peewee's stubs
        ids = [row[0] for row in model.select(model.id).where(self._where).tuples()]
        result = super()._execute(database)  # type: ignore[misc]  # not in peewee's stubs
        if ids:
            model.refresh_search_text(model.id.in_(ids))
        return result


class SearchIndexed:
    """A model whose `search_text` column has a trigram index (create_search_indexes), so that
    matches_all finds its rows through the index."""


class Searchable(SearchIndexed):
    """A model with a `search_text` column that it keeps up to date: on save, insert, bulk
    insert and bulk update. The model declares the column, SEARCHED_FIELDS and search_parts()."""

    SEARCHED_FIELDS: tuple[str, ...] = ()
    # What the model it is mixed into has (annotations only: peewee sees no field here).
    search_text: Field[str | None]
    __data__: dict[str, Any]

    @classmethod
    def search_parts(cls, values: Mapping[str, Any]) -> list[str]:
        """The folded parts of the search text for a row's values (field name → value)."""
        raise NotImplementedError

    @classmethod
    def search_text_of(cls, values: Mapping[str, Any]) -> str:
        return join_parts(cls.search_parts(values))

    def save(self, *args: Any, **kwargs: Any) -> Any:
        self.search_text = self.search_text_of(self.__data__)
        only = kwargs.get("only")
        if only is not None:
            kwargs["only"] = [*only, type(self).search_text]
        return super().save(*args, **kwargs)  # type: ignore[misc]

    @classmethod
    def _with_search_text(cls, row: Any) -> Any:
        if not isinstance(row, Mapping):
            return row
        values = {str(getattr(k, "name", k)): v for k, v in row.items()}
        return {**row, "search_text": cls.search_text_of(values)}

    @classmethod
    def insert(cls, __data: Any = None, **insert: Any) -> Any:
        return super().insert(cls._with_search_text({**(__data or {}), **insert}))  # type: ignore[misc]

    @classmethod
    def insert_many(cls, rows: Iterable[Any], fields: Any = None) -> Any:
        return super().insert_many([cls._with_search_text(r) for r in rows], fields)  # type: ignore[misc]

    @classmethod
    def bulk_create(cls, model_list: Iterable[Any], batch_size: int | None = None) -> Any:
        model_list = list(model_list)
        for row in model_list:
            row.search_text = cls.search_text_of(row.__data__)
        return super().bulk_create(model_list, batch_size)  # type: ignore[misc]

    @classmethod
    def bulk_update(
        cls, model_list: Iterable[Any], fields: Any, batch_size: int | None = None
    ) -> Any:
        model_list = list(model_list)
        names = {getattr(f, "name", f) for f in fields}
        if names & set(cls.SEARCHED_FIELDS) and "search_text" not in names:
            for row in model_list:
                row.search_text = cls.search_text_of(row.__data__)
            fields = [*fields, "search_text"]
        return super().bulk_update(model_list, fields, batch_size)  # type: ignore[misc]

    @classmethod
    def update(cls, __data: Any = None, **update: Any) -> Any:
        return SearchTextUpdate(cls, cls._normalize_data(__data, update))  # type: ignore[attr-defined]

    @classmethod
    def refresh_search_text(cls, where: Any = None) -> int:
        """Compute search_text again for the rows matching `where` (all rows when None) and
        store it where it changed: init-db's backfill and the guard after bulk updates."""
        fields = [cls._meta.fields[name] for name in ("id", "search_text", *cls.SEARCHED_FIELDS)]  # type: ignore[attr-defined]
        query = cls.select(*fields)  # type: ignore[attr-defined]
        if where is not None:
            query = query.where(where)
        changed = 0
        for row in query:
            text = cls.search_text_of(row.__data__)
            if text != row.search_text:
                super().update(search_text=text).where(cls.id == row.id).execute()  # type: ignore[attr-defined,misc]
                changed += 1
        return changed


def refresh_all(models: Iterable[Any]) -> int:
    """init-db: fill search_text where it is missing or stale (a column just added to an
    existing database, rows written by an older release); idempotent."""
    return sum(model.refresh_search_text() for model in models if issubclass(model, Searchable))


def create_search_indexes(database: Any, models: Iterable[Any]) -> list[str]:
    """A trigram index on each searchable model's search_text, so that a search reads the
    matching rows rather than every row: it serves `LIKE '%word%'`, which a B-tree cannot.

    PostgreSQL: a GIN index with pg_trgm (created when the extension is available; without the
    right to create it the search still works, by scanning). SQLite: an FTS5 table with the
    trigram tokenizer (SQLite 3.34 or newer) on the model's table as external content, kept in
    step by triggers on insert, update and delete, and filled from the table when it is new.
    Idempotent: init-db runs it on every upgrade."""
    searchable = [m for m in models if issubclass(m, SearchIndexed)]
    if not isinstance(database.obj, PostgresqlDatabase):
        return [_create_fts_table(database, model) for model in searchable]
    available = database.execute_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
    ).fetchone()
    if not available:
        return []
    created = []
    try:
        with database.atomic():
            database.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for model in searchable:
                table = model._meta.table_name
                database.execute_sql(
                    f'CREATE INDEX IF NOT EXISTS "{table}_search_text_trgm" '
                    f'ON "{table}" USING gin (search_text gin_trgm_ops)'
                )
                created.append(f"{table}_search_text_trgm")
    except DatabaseError:  # no right to create the extension: the search works without it
        return []
    return created


def purge_erased_text(database: Any, models: Iterable[Any]) -> None:
    """Make what erasures and deletions took out of these models' search_text unreadable in the
    SQLite file too (the retention run, every night). FTS5 keeps a deleted row's trigrams in its
    index segments until they are merged: 'optimize' merges each index into one segment
    without them. Freed pages are zeroed as rows go (the secure_delete pragma, db.py); the old
    pages in the write-ahead log go last. PostgreSQL: (auto)vacuum reclaims dead rows and
    their GIN index entries."""
    if isinstance(database.obj, PostgresqlDatabase):
        return
    for model in models:
        fts = fts_table(model)
        if issubclass(model, SearchIndexed) and database.table_exists(fts):
            database.execute_sql(f'INSERT INTO "{fts}"("{fts}") VALUES (\'optimize\')')  # noqa: S608
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _create_fts_table(database: Any, model: Any) -> str:
    table, fts = model._meta.table_name, fts_table(model)
    key = model._meta.primary_key.column_name  # an integer primary key: the rowid
    new = not database.table_exists(fts)
    # Every name below comes from the model, none from a request.
    with database.atomic():
        database.execute_sql(
            f'CREATE VIRTUAL TABLE IF NOT EXISTS "{fts}" USING fts5(search_text, '
            f"content='{table}', content_rowid='{key}', tokenize='trigram')"
        )
        delete = (
            f'INSERT INTO "{fts}"("{fts}", rowid, search_text) '  # noqa: S608
            f"VALUES ('delete', old.{key}, old.search_text);"
        )
        insert = (
            f'INSERT INTO "{fts}"(rowid, search_text) '  # noqa: S608
            f"VALUES (new.{key}, new.search_text);"
        )
        triggers = {
            "ai": f'AFTER INSERT ON "{table}" BEGIN {insert} END',
            "ad": f'AFTER DELETE ON "{table}" BEGIN {delete} END',
            "au": f'AFTER UPDATE OF search_text ON "{table}" BEGIN {delete} {insert} END',
        }
        for suffix, body in triggers.items():
            database.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{fts}_{suffix}" {body}')
        if new:
            database.execute_sql(f'INSERT INTO "{fts}"("{fts}") VALUES (\'rebuild\')')  # noqa: S608
    return fts
