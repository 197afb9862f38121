//! Repository contract tests, written once and run against both backends (one temp SQLite file
//! or one PostgreSQL schema per test). They pin down what the ports promise: translated
//! errors, conditional updates, atomic multi-row writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use idm_diesel::{PoolSettings, Store};
use idm_domain::model::{Client, Contacts, Meta, PersonName, Profile, Unit, User};
use idm_domain::values::{now_millis, LanguageMap, ProfileState, UnitState, UserState, Validity};
use idm_ports::clients::ClientRepo;
use idm_ports::profiles::{ProfileAdmin, ProfileRepo};
use idm_ports::units::{UnitAdmin, UnitRepo};
use idm_ports::users::UserRepo;
use idm_ports::{PageRequest, RepoError};

#[path = "../../../tests/src/dual.rs"]
mod dual;
use dual::Backend;

/// A migrated store on a throw-away database; dropping it drops the database. Derefs to the
/// store, so a contract body calls the ports on it directly.
struct Db {
    store: Store,
    /// The database URL the store was opened on (PostgreSQL: with the test's schema).
    url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<std::path::PathBuf>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.cleanup {
            if let Ok(mut c) = diesel::PgConnection::establish(url) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
        if let Some(d) = &self._dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl std::ops::Deref for Db {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

/// The fixture of `dual_test!`: `None` when PostgreSQL is not configured.
async fn db(backend: Backend) -> Option<Db> {
    match backend {
        Backend::Sqlite => Some(sqlite().await),
        Backend::Postgres => postgres().await,
    }
}

async fn sqlite() -> Db {
    let dir = std::env::temp_dir().join(format!("idm-contract-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store = Store::open(&PoolSettings::new(url.clone())).unwrap();
    store.migrate().await.unwrap();
    Db {
        store,
        url,
        cleanup: None,
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<Db> {
    let base = match std::env::var("IDM_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("IDM_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "IDM_REQUIRE_POSTGRES=1 but IDM_TEST_DATABASE_URL is not set"
            );
            eprintln!(
                "SKIPPED (PostgreSQL): set IDM_TEST_DATABASE_URL to run this test on PostgreSQL"
            );
            return None;
        }
    };
    let schema = format!("c_{}", uuid::Uuid::new_v4().simple());
    diesel::PgConnection::establish(&base)
        .unwrap()
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let store = Store::open(&PoolSettings::new(url.clone())).unwrap();
    store.migrate().await.unwrap();
    Some(Db {
        store,
        url,
        cleanup: Some((base, schema)),
        _dir: None,
    })
}

fn meta(ext_id: &str) -> Meta {
    let now = now_millis();
    Meta::new(ext_id.into(), now)
}

fn client(ext_id: &str, name: &str) -> (Client, Unit) {
    let c = Client {
        meta: meta(ext_id),
        name: name.into(),
        display_name: LanguageMap::default(),
        remarks: None,
    };
    let u = Unit {
        meta: meta(&format!("{ext_id}-root")),
        client_id: 0,
        client_ext_id: ext_id.into(),
        parent_id: None,
        parent_ext_id: None,
        path: String::new(),
        hierarchical_name: String::new(),
        name: name.into(),
        location: None,
        description: None,
        state: UnitState::Active,
        display_name: LanguageMap::default(),
        abbreviation: LanguageMap::default(),
        profileless: false,
        modification_comment: None,
        validity: Validity::default(),
    };
    (c, u)
}

dual_test!(
    creating_a_client_also_creates_its_root_unit_with_path_and_hierarchical_name,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (c, root) = store.create_client(c, u).await.unwrap();
        assert_eq!(root.client_id, c.meta.id);
        assert_eq!(root.path, format!("/{}/", root.meta.id));
        assert_eq!(root.hierarchical_name, "c1-root");
        let found = store
            .unit_by_ext_id(c.meta.id, "c1-root")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, root);
    }
);

dual_test!(
    a_duplicate_client_name_is_a_unique_conflict_naming_the_column,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "Same");
        store.create_client(c, u).await.unwrap();
        let (c, u) = client("c2", "Same");
        let err = store.create_client(c, u).await.unwrap_err();
        assert!(err.is_unique_on("name"), "{err:?}");
        // Atomic: the failed client left no root unit behind.
        assert!(store.client_by_ext_id("c2").await.unwrap().is_none());
    }
);

dual_test!(
    an_update_with_a_stale_version_is_refused_and_changes_nothing,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (mut c, _) = store.create_client(c, u).await.unwrap();
        c.name = "Two".into();
        let updated = store.update_client(&c).await.unwrap();
        assert_eq!(updated.meta.version, 2);
        c.name = "Three".into();
        assert_eq!(
            store.update_client(&c).await.unwrap_err(),
            RepoError::StaleVersion
        );
        assert_eq!(
            store.client_by_ext_id("c1").await.unwrap().unwrap().name,
            "Two"
        );
    }
);

dual_test!(
    a_unit_under_a_vanished_parent_is_not_found,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (c, root) = store.create_client(c, u).await.unwrap();
        let mut child = root.clone();
        child.meta = meta("child");
        child.parent_id = Some(root.meta.id + 1000);
        assert_eq!(
            store.create_unit(child).await.unwrap_err(),
            RepoError::NotFound
        );
        let _ = c;
    }
);

dual_test!(
    keyset_pages_return_every_client_once_in_created_order,
    setup = db,
    |store: Db| {
        for i in 0..7 {
            let (c, u) = client(&format!("k{i}"), &format!("K{i}"));
            store.create_client(c, u).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list_clients(PageRequest {
                    limit: 3,
                    after: after.clone(),
                })
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|c| c.meta.ext_id.clone()));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let expected: Vec<String> = (0..7).map(|i| format!("k{i}")).collect();
        assert_eq!(seen, expected);
    }
);

dual_test!(
    deleting_a_client_removes_it_and_reports_not_found_the_second_time,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (c, _) = store.create_client(c, u).await.unwrap();
        store.delete_client(c.meta.id).await.unwrap();
        assert!(store.client_by_ext_id("c1").await.unwrap().is_none());
        assert_eq!(
            store.delete_client(c.meta.id).await.unwrap_err(),
            RepoError::NotFound
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_unavailable_after_the_checkout_timeout() {
    // Nothing listens on port 1 of loopback.
    let mut settings = PoolSettings::new("postgres://postgres@127.0.0.1:1/none");
    settings.checkout_timeout = Duration::from_millis(200);
    let store = Store::open(&settings).unwrap();
    let err = store.client_by_ext_id("x").await.unwrap_err();
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert!(!store.ping().await);
}

dual_test!(
    a_versioned_update_returns_the_new_version_and_the_written_fields,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (mut c, _) = store.create_client(c, u).await.unwrap();
        let created = c.clone();
        c.name = "Two".into();
        c.remarks = Some("remarked".into());
        c.display_name = LanguageMap::from_storage(r#"{"EN":"Two"}"#).unwrap();
        let updated = store.update_client(&c).await.unwrap();
        assert_eq!(updated.meta.version, created.meta.version + 1);
        assert_eq!(updated.meta.id, created.meta.id);
        assert_eq!(updated.meta.created, created.meta.created);
        assert!(updated.meta.last_modified >= created.meta.last_modified);
        assert_eq!(updated.name, "Two");
        assert_eq!(updated.remarks.as_deref(), Some("remarked"));
        assert_eq!(updated.display_name, c.display_name);
        // What the update returned is exactly what is stored.
        assert_eq!(
            store.client_by_ext_id("c1").await.unwrap().unwrap(),
            updated
        );
        // A nullable column written back to NULL comes back as None.
        let mut cleared = updated.clone();
        cleared.remarks = None;
        let cleared = store.update_client(&cleared).await.unwrap();
        assert_eq!(cleared.meta.version, updated.meta.version + 1);
        assert_eq!(cleared.remarks, None);
    }
);

dual_test!(
    a_stale_versioned_update_is_refused_and_leaves_the_row_as_it_was,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (_, root) = store.create_client(c, u).await.unwrap();
        let mut unit = root.clone();
        unit.description = Some("first".into());
        let first = store.update_unit(&unit).await.unwrap();
        assert_eq!(first.meta.version, root.meta.version + 1);
        assert_eq!(first.description.as_deref(), Some("first"));
        // Joined columns come back with the written row.
        assert_eq!(first.client_ext_id, "c1");
        assert_eq!(first.path, root.path);
        // `unit` still carries the old version.
        unit.description = Some("second".into());
        assert_eq!(
            store.update_unit(&unit).await.unwrap_err(),
            RepoError::StaleVersion
        );
        let stored = store
            .unit_by_ext_id(root.client_id, "c1-root")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, first);
        // A row that is gone is reported the same way: the caller's version is not stored.
        let (c, u) = client("c2", "Two");
        let (c, _) = store.create_client(c, u).await.unwrap();
        store.delete_client(c.meta.id).await.unwrap();
        assert_eq!(
            store.update_client(&c).await.unwrap_err(),
            RepoError::StaleVersion
        );
    }
);

dual_test!(
    a_profile_moved_to_another_unit_returns_the_new_unit_from_the_update,
    setup = db,
    |store: Db| {
        let (c, u) = client("c1", "One");
        let (c, root) = store.create_client(c, u).await.unwrap();
        let mut child = root.clone();
        child.meta = meta("child");
        child.name = "Child".into();
        child.parent_id = Some(root.meta.id);
        let child = store.create_unit(child).await.unwrap();
        let user = store
            .create_user(User {
                meta: meta("u1"),
                client_id: c.meta.id,
                client_ext_id: c.meta.ext_id.clone(),
                login_id: "u1".into(),
                state: UserState::Active,
                language_code: None,
                is_technical_user: false,
                name: PersonName::default(),
                sex: None,
                gender: None,
                birth_date: None,
                contacts: Contacts::default(),
                address: serde_json::Map::new(),
                remarks: None,
                modification_comment: None,
                validity: Validity::default(),
            })
            .await
            .unwrap();
        assert_eq!(user.client_ext_id, "c1");
        let profile = store
            .create_profile(Profile {
                meta: meta("p1"),
                client_id: c.meta.id,
                client_ext_id: String::new(),
                user_id: user.meta.id,
                user_ext_id: String::new(),
                unit_id: root.meta.id,
                unit_ext_id: String::new(),
                unit_path: String::new(),
                name: Some("P".into()),
                state: ProfileState::Active,
                is_default_profile: true,
                remarks: None,
                modification_comment: None,
                validity: Validity::default(),
                deputed_profile_ext_id: None,
            })
            .await
            .unwrap();
        // The insert returns the joined columns from the database, not from its input.
        assert_eq!(profile.client_ext_id, "c1");
        assert_eq!(profile.user_ext_id, "u1");
        assert_eq!(profile.unit_ext_id, "c1-root");
        assert_eq!(profile.unit_path, root.path);
        let mut moved = profile.clone();
        moved.unit_id = child.meta.id;
        let moved = store.update_profile(&moved).await.unwrap();
        assert_eq!(moved.meta.version, profile.meta.version + 1);
        assert_eq!(moved.unit_ext_id, "child");
        assert_eq!(moved.unit_path, child.path);
        assert_eq!(
            store
                .profile_by_ext_id(c.meta.id, "p1")
                .await
                .unwrap()
                .unwrap(),
            moved
        );
    }
);

#[derive(diesel::QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(diesel::QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan the database chooses for `sql`, as text. PostgreSQL is told to avoid sequential
/// scans, so the plan shows whether an index can serve the statement at all, whatever the size
/// of the test's tables.
fn plan(db: &Db, sql: &str) -> String {
    use diesel::RunQueryDsl;
    if let Some(path) = db.url.strip_prefix("sqlite://") {
        let mut conn = diesel::SqliteConnection::establish(path).unwrap();
        let rows: Vec<SqlitePlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(&mut conn)
            .unwrap();
        rows.into_iter()
            .map(|r| r.detail)
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        let mut conn = diesel::PgConnection::establish(&db.url).unwrap();
        conn.batch_execute("SET enable_seqscan = off").unwrap();
        let rows: Vec<PgPlanRow> = diesel::sql_query(format!("EXPLAIN {sql}"))
            .load(&mut conn)
            .unwrap();
        rows.into_iter()
            .map(|r| r.line)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

dual_test!(
    the_profiles_naming_a_deleted_profile_as_deputy_are_found_through_an_index,
    setup = db,
    |db: Db| {
        // A profile's delete (and SQLite's user delete) clears them by extId list; it scanned
        // every profile of the client before `profiles_deputed`.
        let by_list = plan(
            &db,
            "UPDATE profiles SET version = version + 1 WHERE client_id = 1 \
             AND deputed_profile_ext_id IN ('p1', 'p2')",
        );
        assert!(by_list.contains("profiles_deputed"), "{by_list}");
        // PostgreSQL's user delete: the profiles it deletes, joined in the same statement
        // (`users::delete_sides`).
        if db.url.starts_with("postgres") {
            let by_join = plan(
                &db,
                "WITH gone AS (DELETE FROM profiles WHERE user_id = 1 \
                 RETURNING client_id, ext_id) \
                 UPDATE profiles SET version = version + 1 WHERE user_id <> 1 \
                 AND deputed_profile_ext_id IS NOT NULL \
                 AND (client_id, deputed_profile_ext_id) IN (SELECT client_id, ext_id FROM gone)",
            );
            assert!(by_join.contains("profiles_deputed"), "{by_join}");
        }
    }
);
