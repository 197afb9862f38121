//! Terms and consents adapter.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{Consent, Terms};
use idm_ports::query::{ListQuery, Listed};
use idm_ports::terms::TermsRepo;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::listing::{listed, Column};
use crate::rows::{cursor_of, keyset, meta, Db};
use crate::schema::{applications, consents, terms, terms_applications};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{DbConnection, Store, E, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = terms)]
struct TermsRow {
    id: i64,
    ext_id: String,
    name: String,
    active: bool,
    silent_acceptance: bool,
    terms_version: String,
    urls: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl TermsRow {
    fn into_domain(self, application_ext_ids: Vec<String>) -> R<Terms> {
        let urls: BTreeMap<String, String> = if self.urls.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_json::from_str(&self.urls).map_err(|e| {
                E(RepoError::Other(format!(
                    "corrupt terms urls in database: {e}"
                )))
            })?
        };
        Ok(Terms {
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            name: self.name,
            active: self.active,
            silent_acceptance: self.silent_acceptance,
            terms_version: self.terms_version,
            urls,
            application_ext_ids,
        })
    }
}

fn urls_to_storage(urls: &BTreeMap<String, String>) -> R<String> {
    serde_json::to_string(urls)
        .map_err(|e| E(RepoError::Other(format!("cannot encode terms urls: {e}"))))
}

/// The columns a terms update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = terms, treat_none_as_default_value = false)]
struct TermsValues<'a> {
    name: &'a str,
    active: bool,
    silent_acceptance: bool,
    terms_version: &'a str,
    urls: String,
}

impl<'a> TermsValues<'a> {
    fn of(t: &'a Terms) -> R<Self> {
        Ok(TermsValues {
            name: &t.name,
            active: t.active,
            silent_acceptance: t.silent_acceptance,
            terms_version: &t.terms_version,
            urls: urls_to_storage(&t.urls)?,
        })
    }
}

/// A new terms row: identity columns plus [`TermsValues`].
#[derive(Insertable)]
#[diesel(table_name = terms, treat_none_as_default_value = false)]
struct NewTerms<'a> {
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: TermsValues<'a>,
}

/// The one terms row just written, with its (possibly just replaced) application links.
fn with_applications_of(conn: &mut DbConnection, row: TermsRow) -> R<Terms> {
    with_applications(conn, vec![row])?
        .into_iter()
        .next()
        .ok_or_else(|| E(RepoError::Other("written terms row vanished".into())))
}

/// Attaches the application extIds to a batch of rows with one query.
fn with_applications(conn: &mut DbConnection, rows: Vec<TermsRow>) -> R<Vec<Terms>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links: Vec<(i64, String)> = terms_applications::table
        .inner_join(applications::table.on(applications::id.eq(terms_applications::application_id)))
        .filter(terms_applications::terms_id.eq_any(&ids))
        .select((terms_applications::terms_id, applications::ext_id))
        .order((
            terms_applications::terms_id.asc(),
            applications::ext_id.asc(),
        ))
        .load(conn)?;
    let mut by_terms: HashMap<i64, Vec<String>> = HashMap::new();
    for (terms_id, ext_id) in links {
        by_terms.entry(terms_id).or_default().push(ext_id);
    }
    rows.into_iter()
        .map(|r| {
            let apps = by_terms.remove(&r.id).unwrap_or_default();
            r.into_domain(apps)
        })
        .collect()
}

fn find(conn: &mut DbConnection, ext_id: &str) -> R<Option<Terms>> {
    // One statement: the terms row once per linked application (or once with NULL).
    let rows: Vec<(TermsRow, Option<String>)> = terms::table
        .left_join(terms_applications::table.on(terms_applications::terms_id.eq(terms::id)))
        .left_join(applications::table.on(applications::id.eq(terms_applications::application_id)))
        .filter(terms::ext_id.eq(ext_id))
        .select((TermsRow::as_select(), applications::ext_id.nullable()))
        .order(applications::ext_id.asc())
        .load(conn)?;
    let mut apps = Vec::with_capacity(rows.len());
    let mut head = None;
    for (row, app) in rows {
        apps.extend(app);
        if head.is_none() {
            head = Some(row);
        }
    }
    head.map(|row| row.into_domain(apps)).transpose()
}

fn link(conn: &mut DbConnection, terms_id: i64, application_ids: &[i64]) -> R<()> {
    let mut ids = application_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for application_id in ids {
        diesel::insert_into(terms_applications::table)
            .values((
                terms_applications::terms_id.eq(terms_id),
                terms_applications::application_id.eq(application_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A new consent row (consents are never updated).
#[derive(Insertable)]
#[diesel(table_name = consents, treat_none_as_default_value = false)]
struct NewConsent<'a> {
    client_id: i64,
    user_id: i64,
    terms_id: i64,
    ext_id: &'a str,
    terms_version: &'a str,
    acceptance_date: NaiveDateTime,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = consents)]
struct ConsentRow {
    id: i64,
    ext_id: String,
    user_id: i64,
    terms_version: String,
    acceptance_date: NaiveDateTime,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl ConsentRow {
    fn into_domain(self, terms_ext_id: String) -> Consent {
        Consent {
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            user_id: self.user_id,
            terms_ext_id,
            terms_version: self.terms_version,
            acceptance_date: self.acceptance_date,
        }
    }
}

#[async_trait]
impl TermsRepo for Store {
    async fn terms_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Terms>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find(conn, &ext_id)).await
    }

    async fn query_terms(&self, query: ListQuery) -> RepoResult<Listed<Terms>> {
        let backend = self.backend();
        self.run(move |conn| {
            let listed = listed!(
                conn,
                terms::table
                    .select(TermsRow::as_select())
                    .into_boxed::<Db>(),
                TermsRow,
                query,
                terms_column,
                "terms.ext_id",
                backend
            )?;
            Ok(Listed {
                items: with_applications(conn, listed.items)?,
                more: listed.more,
                total: listed.total,
            })
        })
        .await
    }

    async fn list_terms(&self, page: PageRequest) -> RepoResult<Page<Terms>> {
        self.run(move |conn| {
            let query = terms::table
                .select(TermsRow::as_select())
                .into_boxed::<Db>();
            let rows: Vec<TermsRow> = keyset!(query, terms, page).load(conn)?;
            let items = with_applications(conn, rows)?;
            Ok(Page::from_overfetch(items, page.limit, |t| {
                cursor_of(&t.meta)
            }))
        })
        .await
    }

    async fn create_terms(&self, t: Terms, application_ids: Vec<i64>) -> RepoResult<Terms> {
        self.tx(move |conn| {
            // The insert comes first so SQLite takes the write lock at the start of the
            // transaction (a read-then-write transaction could fail on a busy snapshot).
            let row: TermsRow = diesel::insert_into(terms::table)
                .values(NewTerms {
                    ext_id: &t.meta.ext_id,
                    created: t.meta.created,
                    last_modified: t.meta.last_modified,
                    version: t.meta.version,
                    values: TermsValues::of(&t)?,
                })
                .returning(columns_of::<TermsRow>())
                .get_result(conn)?;
            link(conn, row.id, &application_ids)?;
            with_applications_of(conn, row)
        })
        .await
    }

    async fn update_terms(
        &self,
        t: &Terms,
        application_ids: Option<Vec<i64>>,
    ) -> RepoResult<Terms> {
        let t = t.clone();
        self.tx(move |conn| {
            let row = versioned_update!(
                conn,
                terms,
                t.meta.id,
                t.meta.version,
                TermsValues::of(&t)?,
                columns_of::<TermsRow>() => TermsRow,
            )?;
            if let Some(ids) = application_ids {
                diesel::delete(
                    terms_applications::table.filter(terms_applications::terms_id.eq(t.meta.id)),
                )
                .execute(conn)?;
                link(conn, t.meta.id, &ids)?;
            }
            // The links live in their own table; only they are read back.
            with_applications_of(conn, row)
        })
        .await
    }

    async fn create_consent(
        &self,
        client_id: i64,
        terms_id: i64,
        c: Consent,
    ) -> RepoResult<Consent> {
        self.write(move |conn| {
            // A single statement, outside an explicit transaction: the unique index on
            // (user_id, terms_id, terms_version) is the only arbiter between racing requests.
            let (row, terms_ext_id): (ConsentRow, String) = diesel::insert_into(consents::table)
                .values(NewConsent {
                    client_id,
                    user_id: c.user_id,
                    terms_id,
                    ext_id: &c.meta.ext_id,
                    terms_version: &c.terms_version,
                    acceptance_date: c.acceptance_date,
                    created: c.meta.created,
                    last_modified: c.meta.last_modified,
                    version: 1,
                })
                .returning((
                    columns_of::<ConsentRow>(),
                    joined!(terms::ext_id, consents::terms_id),
                ))
                .get_result(conn)?;
            Ok(row.into_domain(terms_ext_id))
        })
        .await
    }

    async fn consents_of_user(&self, user_id: i64) -> RepoResult<Vec<Consent>> {
        self.run(move |conn| {
            let rows: Vec<(ConsentRow, String)> = consents::table
                .inner_join(terms::table)
                .filter(consents::user_id.eq(user_id))
                .order((consents::created.asc(), consents::ext_id.asc()))
                .select((ConsentRow::as_select(), terms::ext_id))
                .load(conn)?;
            Ok(rows.into_iter().map(|(c, t)| c.into_domain(t)).collect())
        })
        .await
    }

    async fn pending_terms(&self, user_id: i64, page: PageRequest) -> RepoResult<Page<Terms>> {
        self.run(move |conn| {
            let accepted = consents::table
                .filter(consents::user_id.eq(user_id))
                .filter(consents::terms_id.eq(terms::id))
                .filter(consents::terms_version.eq(terms::terms_version));
            let query = terms::table
                .filter(terms::active.eq(true))
                .filter(diesel::dsl::not(diesel::dsl::exists(accepted)))
                .select(TermsRow::as_select())
                .into_boxed::<Db>();
            let rows: Vec<TermsRow> = keyset!(query, terms, page).load(conn)?;
            let items = with_applications(conn, rows)?;
            Ok(Page::from_overfetch(items, page.limit, |t| {
                cursor_of(&t.meta)
            }))
        })
        .await
    }
}

/// Where the wire fields of [`idm_ports::query::TERMS_FIELDS`] live.
fn terms_column(field: &str) -> Option<Column> {
    Some(match field {
        "extId" => Column::Plain("terms.ext_id"),
        "name" => Column::Plain("terms.name"),
        "version" => Column::Plain("terms.version"),
        "created" => Column::Plain("terms.created"),
        "lastModified" => Column::Plain("terms.last_modified"),
        _ => return None,
    })
}

#[cfg(test)]
mod list_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Diesel wraps every value of an `Insertable` derived with the default settings so that it
    /// could be `DEFAULT`, and such an INSERT cannot be cached on PostgreSQL: it was parsed and
    /// planned on every run. `treat_none_as_default_value = false` binds plain values.
    #[cfg(feature = "postgres")]
    #[test]
    fn a_consents_insert_is_cacheable_on_postgresql() {
        use diesel::query_builder::QueryFragment;
        let at = chrono::DateTime::from_timestamp_millis(0)
            .map(|t| t.naive_utc())
            .unwrap();
        let row = NewConsent {
            client_id: 1,
            user_id: 2,
            terms_id: 3,
            ext_id: "c",
            terms_version: "1",
            acceptance_date: at,
            created: at,
            last_modified: at,
            version: 1,
        };
        let insert = diesel::insert_into(consents::table).values(row);
        assert!(insert.is_safe_to_cache_prepared(&diesel::pg::Pg).unwrap());
    }

    /// Every `Insertable` row of the adapter binds `None` as NULL (see the test above): a new
    /// one that forgets it is caught here, not in a profile.
    #[test]
    fn every_insertable_row_of_the_adapter_binds_plain_values() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let mut derive = false;
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with("#[derive(") && line.contains("Insertable") {
                    derive = true;
                } else if derive && line.starts_with("#[diesel(table_name") {
                    derive = false;
                    checked += 1;
                    assert!(
                        line.contains("treat_none_as_default_value = false"),
                        "{}: {line}",
                        path.display()
                    );
                }
            }
        }
        assert!(checked >= 20, "found only {checked} Insertable rows");
    }

    #[test]
    fn every_declared_field_has_a_column() {
        for f in idm_ports::query::TERMS_FIELDS {
            assert!(terms_column(f.name).is_some(), "{}", f.name);
        }
    }
}
