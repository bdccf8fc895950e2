-- Text search over runbooks' titles and text, as Portside normalises them in search_text (lower
-- case, accents removed, runs of letters and digits: package words), the same words the catalog's
-- search indexes; search is its generated tsvector, GIN-indexed like entities.search. The backfill
-- lower-cases title and text in SQL (to_tsvector splits them into words); a runbook written before
-- this version keeps its accents in the index until its next edit, when Portside writes the
-- normalised words.

-- +goose Up
ALTER TABLE runbooks ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE runbooks SET search_text = lower(title || ' ' || body);
ALTER TABLE runbooks ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED;
CREATE INDEX runbooks_search ON runbooks USING GIN (search);

-- +goose Down
DROP INDEX runbooks_search;
ALTER TABLE runbooks DROP COLUMN search;
ALTER TABLE runbooks DROP COLUMN search_text;
