"""The current definition of every function, trigger, policy, view and grant: ``db/sql/*.sql``.

Tables, columns, types and indexes change through dated, append-only Alembic migrations. The
objects that *behave* — PL/pgSQL and SQL functions, triggers, Row Level Security flags and
policies, views, grants — live once, as plain SQL, in the files of ``SQL_FILES`` (one per domain,
applied in that order). Reading ``sql/leads.sql`` tells you what the database does for leads today.

How the files reach a database (a *repeatable* step, like Flyway's ``R__`` scripts, chosen over
alembic_utils):

- ``dreamer migrate`` runs every pending migration and then, in the **same transaction**, this
  step whenever the checksum of the files differs from the one recorded in
  ``schema_definitions``: it first *resets* what the files own (drops every policy and every
  non-internal trigger on the tables of schema ``public``, revokes every privilege on its
  tables, sequences and functions from everyone but the owner), then runs the files in order,
  then records the checksum. So the files are the whole truth: a policy, trigger or grant that
  no file states does not survive, and a privilege exists only where a file grants it.
- ``dreamer migrate --check`` (``definition_drift``) runs the same step inside a transaction it
  rolls back, comparing a catalogue snapshot (``pg_get_functiondef``, ``pg_get_triggerdef``,
  ``pg_policies``, RLS flags, table and column ACLs, views) taken before and after. Any
  difference is drift; so is a function no file (re)defines (its ``pg_proc`` row is the only
  one the step did not touch).

Why not alembic_utils: it keeps a full copy of each definition in every migration that changes
it (the copies are what it diffs against), it has no notion of RLS flags or column grants, and
its autogenerate replays every entity in a savepoint. Here a change to a function is a one-line
diff of its ``.sql`` file and needs no migration at all.

Rules that follow:

- Functions use ``CREATE OR REPLACE``; triggers and policies plain ``CREATE`` (the reset dropped
  them). Changing a function's signature or return type, or removing a function, needs a
  migration that drops the old one.
- A migration that drops or renames a column a definition depends on drops that definition first;
  the step recreates it from the files afterwards.
- Downgrades run only the migrations' own downgrade code; definitions are re-applied on the next
  upgrade to head (a downgrade clears the recorded checksum).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

# Application order: helpers before the domains that use them.
SQL_FILES = (
    "core",
    "audit",
    "users",
    "auth",
    "mail",
    "catalog",
    "bookings",
    "leads",
    "newsletter",
    "content",
    "chat",
    "analytics",
    "gdpr",
    "worker",
)

# Drops what the files own, so that only what they state survives. Runs as the schema owner.
RESET = r"""
DO $reset$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.policyname, p.tablename FROM pg_policies p WHERE p.schemaname = 'public' LOOP
        EXECUTE format('DROP POLICY %I ON public.%I', r.policyname, r.tablename);
    END LOOP;
    FOR r IN SELECT t.tgname, c.relname FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgparentid = 0 LOOP
        EXECUTE format('DROP TRIGGER %I ON public.%I', r.tgname, r.relname);
    END LOOP;
    FOR r IN SELECT DISTINCT a.grantee::regrole::text AS role
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                  LATERAL aclexplode(c.relacl) a
             WHERE n.nspname = 'public' AND a.grantee NOT IN (0, c.relowner)
             UNION
             SELECT DISTINCT a.grantee::regrole::text
             FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(att.attacl) a
             WHERE n.nspname = 'public' AND a.grantee NOT IN (0, c.relowner)
             UNION
             SELECT DISTINCT a.grantee::regrole::text
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
                  LATERAL aclexplode(p.proacl) a
             WHERE n.nspname = 'public' AND a.grantee NOT IN (0, p.proowner) LOOP
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', r.role);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', r.role);
        EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM %I', r.role);
    END LOOP;
    -- Column privileges survive a table-level REVOKE ALL only when granted per column.
    FOR r IN SELECT DISTINCT c.relname, a.grantee::regrole::text AS role
             FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(att.attacl) a
             WHERE n.nspname = 'public' AND a.grantee NOT IN (0, c.relowner) LOOP
        EXECUTE format('REVOKE ALL ON public.%I FROM %I', r.relname, r.role);
    END LOOP;
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
    REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
END
$reset$;
"""

# One row per object the files define; (kind, name) -> definition. Owner-held privileges and
# partitions' own copies of inherited triggers are left out: they follow from the rest.
SNAPSHOT = r"""
SELECT 'function' AS kind, p.oid::regprocedure::text AS name,
       pg_get_functiondef(p.oid) || E'\n-- acl: ' || coalesce((
           SELECT string_agg(a.grantee::regrole::text || ':' || a.privilege_type, ', '
                             ORDER BY 1)
           FROM aclexplode(p.proacl) a WHERE a.grantee <> p.proowner), 'default') AS definition
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'trigger', c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgparentid = 0
UNION ALL
SELECT 'policy', p.tablename || '.' || p.policyname,
       concat_ws(' | ', p.permissive, p.roles::text, p.cmd, p.qual, p.with_check)
FROM pg_policies p WHERE p.schemaname = 'public'
UNION ALL
SELECT 'rls', c.relname,
       concat('enabled=', c.relrowsecurity, ' forced=', c.relforcerowsecurity)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'grant', c.relname || ' to ' || a.grantee_name, a.privileges
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
     LATERAL (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END
                         AS grantee_name,
                     string_agg(x.privilege_type, ',' ORDER BY x.privilege_type) AS privileges
              FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner GROUP BY 1) a
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
UNION ALL
SELECT 'column grant', c.relname || '.' || att.attname || ' to ' || a.grantee_name,
       a.privileges
FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace,
     LATERAL (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END
                         AS grantee_name,
                     string_agg(x.privilege_type, ',' ORDER BY x.privilege_type) AS privileges
              FROM aclexplode(att.attacl) x WHERE x.grantee <> c.relowner GROUP BY 1) a
WHERE n.nspname = 'public' AND att.attnum > 0 AND NOT att.attisdropped
UNION ALL
SELECT 'view', c.relname, pg_get_viewdef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'schema grant', 'public', coalesce(n.nspacl::text, 'default')
FROM pg_namespace n WHERE n.nspname = 'public'
"""

# Where each function's catalogue row is: CREATE OR REPLACE writes a new row version, so a
# function whose row has not moved while the files ran is defined by no file.
FUNCTION_ROWS = r"""
SELECT p.oid::regprocedure::text AS name, p.ctid::text AS row_version
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""

ALL_FILES = "*"  # the row of schema_definitions that holds the combined checksum


@dataclass(frozen=True)
class SqlFile:
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def sql_files() -> list[SqlFile]:
    """The definition files in application order; a file missing from ``SQL_FILES`` is an error."""
    folder = resources.files("dreamer.db") / "sql"
    present = {entry.name for entry in folder.iterdir() if entry.name.endswith(".sql")}
    expected = {f"{name}.sql" for name in SQL_FILES}
    if present != expected:
        raise RuntimeError(
            f"db/sql/ and SQL_FILES disagree: unlisted {sorted(present - expected)}, "
            f"missing {sorted(expected - present)}"
        )
    return [
        SqlFile(name, (folder / f"{name}.sql").read_text(encoding="utf-8")) for name in SQL_FILES
    ]


def combined_checksum(files: Iterable[SqlFile]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}\0{file.checksum}\0".encode())
    return digest.hexdigest()


def statements(files: list[SqlFile]) -> list[str]:
    """The scripts the repeatable step runs, in order (each may hold many statements)."""
    return [RESET, *(file.text for file in files)]


def describe_drift(
    before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]
) -> list[str]:
    """What differs between the database (``before``) and the files applied to it (``after``)."""
    import difflib

    problems = []
    for key in sorted(before.keys() | after.keys()):
        kind, name = key
        have, want = before.get(key), after.get(key)
        if have == want:
            continue
        if want is None:
            problems.append(f"{kind} {name}: in the database, in no file of db/sql/")
        elif have is None:
            problems.append(f"{kind} {name}: in db/sql/, missing from the database")
        else:
            diff = difflib.unified_diff(
                have.splitlines(), want.splitlines(), "database", "db/sql", lineterm="", n=1
            )
            problems.append(f"{kind} {name}: differs from db/sql/\n  " + "\n  ".join(diff))
    return problems


async def definition_drift(conn: asyncpg.Connection) -> list[str]:
    """Apply the files in a transaction that is rolled back, and report what they would change."""
    files = sql_files()
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("SET LOCAL lock_timeout = '5s'")
        before = await _snapshot(conn)
        reset, *scripts = statements(files)
        await conn.execute(reset)
        rows_before = set(await conn.fetch(FUNCTION_ROWS))
        for script in scripts:
            await conn.execute(script)
        untouched = sorted(
            row["name"] for row in set(await conn.fetch(FUNCTION_ROWS)) & rows_before
        )
        after = await _snapshot(conn)
    finally:
        await transaction.rollback()
    problems = describe_drift(before, after)
    problems += [f"function {name}: in the database, in no file of db/sql/" for name in untouched]
    return problems


async def _snapshot(conn: asyncpg.Connection) -> dict[tuple[str, str], str]:
    return {(row["kind"], row["name"]): row["definition"] for row in await conn.fetch(SNAPSHOT)}
