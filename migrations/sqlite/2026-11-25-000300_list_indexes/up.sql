-- Indexes for the filters and sorts of the lists (issue 13). The list SQL compares and sorts
-- nullable text as COALESCE(col, '') (same NULL order on both backends), so the keys are
-- indexed as that very expression. Selective fields end in ext_id (the tie-breaker: sortBy is
-- served straight from the index); low-selectivity ones end in (created, ext_id), the default
-- order, so a filtered first page reads only its own rows.
CREATE INDEX users_email_key ON users (client_id, COALESCE(email, ''), ext_id);
CREATE INDEX users_mobile_key ON users (client_id, COALESCE(mobile, ''), ext_id);
CREATE INDEX users_family_name_key ON users (client_id, COALESCE(family_name, ''), ext_id);
CREATE INDEX users_first_name_key ON users (client_id, COALESCE(first_name, ''), ext_id);
CREATE INDEX users_language_page ON users (client_id, COALESCE(language_code, ''), created, ext_id);
CREATE INDEX users_technical_page ON users (client_id, is_technical_user, created, ext_id);
CREATE INDEX users_last_modified ON users (client_id, last_modified, ext_id);
-- `_SW` / `_IEQ`: SQLite's LIKE is case-insensitive (ASCII) and uses an index only on a
-- NOCASE column; `col = ? COLLATE NOCASE` uses the same index.
CREATE INDEX users_email_nocase ON users (client_id, email COLLATE NOCASE);
CREATE INDEX users_family_name_nocase ON users (client_id, family_name COLLATE NOCASE);
CREATE INDEX users_login_id_nocase ON users (client_id, login_id COLLATE NOCASE);
