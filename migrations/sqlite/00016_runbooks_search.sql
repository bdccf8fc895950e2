-- Text search over runbooks' titles and text, as Portside normalises them in search_text (lower
-- case, accents removed, runs of letters and digits: package words), the same words the catalog's
-- search indexes. Like entities_fts, the table indexes the runbooks table's own column (external
-- content) and triggers keep it in step. The backfill lower-cases title and text in SQL (FTS5
-- splits them into words); a runbook written before this version keeps its accents in the index
-- until its next edit, when Portside writes the normalised words.

-- +goose Up
ALTER TABLE runbooks ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE runbooks SET search_text = lower(title || ' ' || body);

CREATE VIRTUAL TABLE runbooks_fts USING fts5(
    search_text,
    content = 'runbooks', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '1 2 3'
);
INSERT INTO runbooks_fts (runbooks_fts) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER runbooks_fts_insert AFTER INSERT ON runbooks BEGIN
    INSERT INTO runbooks_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER runbooks_fts_delete AFTER DELETE ON runbooks BEGIN
    INSERT INTO runbooks_fts (runbooks_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER runbooks_fts_update AFTER UPDATE OF search_text ON runbooks BEGIN
    INSERT INTO runbooks_fts (runbooks_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO runbooks_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER runbooks_fts_update;
DROP TRIGGER runbooks_fts_delete;
DROP TRIGGER runbooks_fts_insert;
DROP TABLE runbooks_fts;
ALTER TABLE runbooks DROP COLUMN search_text;
