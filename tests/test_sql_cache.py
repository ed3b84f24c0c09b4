"""The test processes' shared cache of compiled SQL (tests/fixtures/sql_cache.py)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.fixtures import sql_cache

NOTE = sa.Table("note", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.String))


def engine(tmp_path, name: str, **options) -> sa.engine.Engine:
    made = sa.create_engine(f"sqlite:///{tmp_path / name}", **options)
    NOTE.metadata.create_all(made)
    return made


def test_engines_alike_share_compiled_statements_and_each_gets_its_own_rows(tmp_path):
    first, second = engine(tmp_path, "a.db"), engine(tmp_path, "b.db")
    for made, text in ((first, "in a"), (second, "in b")):
        with made.begin() as connection:
            connection.execute(NOTE.insert(), {"text": text})
    assert first._compiled_cache is second._compiled_cache is sql_cache.SHARED
    assert sql_cache.fingerprint(first.dialect) == sql_cache.fingerprint(second.dialect)
    with second.connect() as connection:
        compiled = connection.execute(sa.select(NOTE.c.text)).context.compiled
        assert connection.execute(sa.select(NOTE.c.text)).scalars().all() == ["in b"]
    with first.connect() as connection:  # the same compiled form, from the other engine's first use
        result = connection.execute(sa.select(NOTE.c.text))
        assert result.context.compiled is compiled
        assert result.scalars().all() == ["in a"]


def test_dialects_that_differ_in_a_setting_never_share(tmp_path):
    plain, other = engine(tmp_path, "a.db"), engine(tmp_path, "b.db", paramstyle="named")
    assert sql_cache.fingerprint(plain.dialect) != sql_cache.fingerprint(other.dialect)
    with plain.connect() as a, other.connect() as b:
        statement = sa.select(NOTE.c.id).where(NOTE.c.text == "x")
        assert a.execute(statement).context.compiled is not b.execute(statement).context.compiled
        assert "?" in str(a.execute(statement).context.compiled) and ":text_1" in str(b.execute(statement).context.compiled)
