"""Database objects the ORM does not describe: triggers, reporting views, full-text tables.

Migrations call these. SQLite batch migrations recreate a table and lose its triggers, so a
later migration that batch-alters `tticket_audit_log`, `tticket_prepaid_cards` or
`tticket_prepaid_drawdowns` must call the matching `create_*_triggers` again (a test checks
that every trigger exists after all migrations). Changing a definition here means adding a
migration that drops and re-creates the object.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

AUDIT_TRIGGERS = ("tticket_audit_log_no_update", "tticket_audit_log_no_delete")
PREPAID_TRIGGERS = (
    "tticket_prepaid_drawdowns_apply",
    "tticket_prepaid_drawdowns_revert",
    "tticket_prepaid_drawdowns_no_update",
    "tticket_prepaid_cards_used_matches_ledger",
)
VIEWS = (
    "tticket_v_open_tickets_by_customer",
    "tticket_v_prepaid_balances",
    "tticket_v_worklog_totals_by_customer",
)

_SQLITE_AUDIT = """
CREATE TRIGGER tticket_audit_log_no_update BEFORE UPDATE ON tticket_audit_log
BEGIN SELECT RAISE(ABORT, 'tticket_audit_log is append-only: UPDATE refused'); END
--;
CREATE TRIGGER tticket_audit_log_no_delete BEFORE DELETE ON tticket_audit_log
BEGIN SELECT RAISE(ABORT, 'tticket_audit_log is append-only: DELETE refused'); END
"""

_PG_AUDIT = """
CREATE OR REPLACE FUNCTION tticket_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tticket_audit_log is append-only: % refused', TG_OP;
END $$
--;
CREATE TRIGGER tticket_audit_log_no_update BEFORE UPDATE ON tticket_audit_log
    FOR EACH ROW EXECUTE FUNCTION tticket_refuse_audit_change()
--;
CREATE TRIGGER tticket_audit_log_no_delete BEFORE DELETE ON tticket_audit_log
    FOR EACH ROW EXECUTE FUNCTION tticket_refuse_audit_change()
--;
CREATE TRIGGER tticket_audit_log_no_truncate BEFORE TRUNCATE ON tticket_audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION tticket_refuse_audit_change()
"""

# minutes_used is the sum of the ledger: the draw-down triggers keep it so, and the card
# trigger refuses any other change to it. The card's CHECK refuses a negative balance.
_SQLITE_PREPAID = """
CREATE TRIGGER tticket_prepaid_drawdowns_apply AFTER INSERT ON tticket_prepaid_drawdowns
BEGIN
    SELECT RAISE(ABORT, 'prepaid card is not active')
    WHERE (SELECT status FROM tticket_prepaid_cards WHERE id = NEW.card_id) <> 'active';
    UPDATE tticket_prepaid_cards SET minutes_used = minutes_used + NEW.minutes
    WHERE id = NEW.card_id;
END
--;
CREATE TRIGGER tticket_prepaid_drawdowns_revert AFTER DELETE ON tticket_prepaid_drawdowns
BEGIN
    UPDATE tticket_prepaid_cards SET minutes_used = minutes_used - OLD.minutes
    WHERE id = OLD.card_id;
END
--;
CREATE TRIGGER tticket_prepaid_drawdowns_no_update BEFORE UPDATE ON tticket_prepaid_drawdowns
BEGIN SELECT RAISE(ABORT, 'draw-downs are never edited; delete the worklog instead'); END
--;
CREATE TRIGGER tticket_prepaid_cards_used_matches_ledger
BEFORE UPDATE OF minutes_used ON tticket_prepaid_cards
WHEN NEW.minutes_used <> (
    SELECT COALESCE(SUM(minutes), 0) FROM tticket_prepaid_drawdowns WHERE card_id = NEW.id
)
BEGIN SELECT RAISE(ABORT, 'minutes_used must equal the sum of the card''s draw-downs'); END
"""

_PG_PREPAID = """
CREATE OR REPLACE FUNCTION tticket_prepaid_apply_drawdown() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF (SELECT status FROM tticket_prepaid_cards WHERE id = NEW.card_id) <> 'active' THEN
            RAISE EXCEPTION 'prepaid card % is not active', NEW.card_id;
        END IF;
        UPDATE tticket_prepaid_cards SET minutes_used = minutes_used + NEW.minutes
        WHERE id = NEW.card_id;
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tticket_prepaid_cards SET minutes_used = minutes_used - OLD.minutes
        WHERE id = OLD.card_id;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'draw-downs are never edited; delete the worklog instead';
END $$
--;
CREATE OR REPLACE FUNCTION tticket_prepaid_check_used() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.minutes_used <> (
        SELECT COALESCE(SUM(minutes), 0) FROM tticket_prepaid_drawdowns WHERE card_id = NEW.id
    ) THEN
        RAISE EXCEPTION 'minutes_used must equal the sum of the card''s draw-downs';
    END IF;
    RETURN NEW;
END $$
--;
CREATE TRIGGER tticket_prepaid_drawdowns_apply AFTER INSERT ON tticket_prepaid_drawdowns
    FOR EACH ROW EXECUTE FUNCTION tticket_prepaid_apply_drawdown()
--;
CREATE TRIGGER tticket_prepaid_drawdowns_revert AFTER DELETE ON tticket_prepaid_drawdowns
    FOR EACH ROW EXECUTE FUNCTION tticket_prepaid_apply_drawdown()
--;
CREATE TRIGGER tticket_prepaid_drawdowns_no_update BEFORE UPDATE ON tticket_prepaid_drawdowns
    FOR EACH ROW EXECUTE FUNCTION tticket_prepaid_apply_drawdown()
--;
CREATE TRIGGER tticket_prepaid_cards_used_matches_ledger
    BEFORE UPDATE OF minutes_used ON tticket_prepaid_cards
    FOR EACH ROW EXECUTE FUNCTION tticket_prepaid_check_used()
"""

# ROUND before CAST: SQLite holds hours_bought as a float (2.05 * 60 = 122.99999999999999),
# and CAST truncates.
_VIEWS = """
CREATE VIEW tticket_v_open_tickets_by_customer AS
SELECT t.customer_id, c.name AS customer_name, t.priority, COUNT(*) AS open_tickets
FROM tticket_tickets t
LEFT JOIN customers c ON c.id = t.customer_id
WHERE t.deleted_at IS NULL
  AND t.merged_into_id IS NULL
  AND t.status IN ('open', 'in_progress', 'waiting_customer', 'waiting_internal')
GROUP BY t.customer_id, c.name, t.priority
--;
CREATE VIEW tticket_v_prepaid_balances AS
SELECT p.id AS card_id, p.customer_id, c.name AS customer_name, p.status,
       p.hours_bought, p.minutes_used,
       CAST(ROUND(p.hours_bought * 60) AS INTEGER) - p.minutes_used AS minutes_remaining,
       p.bought_on, p.expires_on
FROM tticket_prepaid_cards p
JOIN customers c ON c.id = p.customer_id
--;
CREATE VIEW tticket_v_worklog_totals_by_customer AS
SELECT t.customer_id, c.name AS customer_name,
       SUM(w.minutes) AS total_minutes,
       SUM(CASE WHEN w.billable THEN w.minutes ELSE 0 END) AS billable_minutes,
       SUM(CASE WHEN w.billing = 'prepaid' THEN w.minutes ELSE 0 END) AS prepaid_minutes
FROM tticket_worklogs w
JOIN tticket_tickets t ON t.id = w.ticket_id
LEFT JOIN customers c ON c.id = t.customer_id
WHERE t.deleted_at IS NULL
GROUP BY t.customer_id, c.name
"""

# The search document of a ticket: subject, description, comments and email bodies, kept by
# `hubdesk.tickets.search`. FTS5 on SQLite; a generated tsvector with a GIN index on PostgreSQL
# ('simple' configuration: our users write Danish and English, often in one ticket).
_SQLITE_SEARCH = """
CREATE VIRTUAL TABLE tticket_search USING fts5(
    document, tokenize = 'unicode61 remove_diacritics 2'
)
"""

_PG_SEARCH = """
CREATE TABLE tticket_search (
    ticket_id INTEGER PRIMARY KEY REFERENCES tticket_tickets(id) ON DELETE CASCADE,
    document TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', document)) STORED
)
--;
CREATE INDEX ix_tticket_search_tsv ON tticket_search USING GIN (tsv)
"""


def _run_script(connection: Connection, script: str) -> None:
    """Run `script`, whose statements are separated by lines holding only `--;`."""
    for statement in script.split("\n--;\n"):
        if statement.strip():
            # psycopg reads % as a placeholder marker even without parameters.
            text = statement.strip().replace("%", "%%") if _is_pg(connection) else statement
            connection.exec_driver_sql(text.strip())


def create_audit_triggers(connection: Connection) -> None:
    _run_script(connection, _PG_AUDIT if _is_pg(connection) else _SQLITE_AUDIT)


def create_prepaid_triggers(connection: Connection) -> None:
    _run_script(connection, _PG_PREPAID if _is_pg(connection) else _SQLITE_PREPAID)


def create_views(connection: Connection) -> None:
    _run_script(connection, _VIEWS)


def create_search_table(connection: Connection) -> None:
    _run_script(connection, _PG_SEARCH if _is_pg(connection) else _SQLITE_SEARCH)


def drop_all(connection: Connection) -> None:
    """Drop what the create_* functions made (for downgrades)."""
    for view in VIEWS:
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {view}")
    connection.exec_driver_sql("DROP TABLE IF EXISTS tticket_search")
    if _is_pg(connection):
        for function in (
            "tticket_refuse_audit_change",
            "tticket_prepaid_apply_drawdown",
            "tticket_prepaid_check_used",
        ):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
        return
    for trigger in (*AUDIT_TRIGGERS, *PREPAID_TRIGGERS):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def _is_pg(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"
