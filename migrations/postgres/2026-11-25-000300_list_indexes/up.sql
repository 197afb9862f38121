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
-- `_SW` / `_IEQ` compare lower(col): `LIKE 'abc%'` and `=` are served by text_pattern_ops
-- whatever the database collation.
CREATE INDEX users_email_lower ON users (client_id, lower(email) text_pattern_ops);
CREATE INDEX users_family_name_lower ON users (client_id, lower(family_name) text_pattern_ops);
CREATE INDEX users_login_id_lower ON users (client_id, lower(login_id) text_pattern_ops);
