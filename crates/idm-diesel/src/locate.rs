//! The `locate` port: everything a URL addresses, in one statement.
//!
//! Each supported address shape is one `SELECT` that starts at the client (looked up by its
//! unique extId) and `LEFT JOIN`s the addressed parts on their `(client, extId)` indexes, so a
//! missing part comes back as NULL columns and the service can still answer the 404s in order.
//! A user is joined with its profiles' units so the dataroom check has the unit paths: that
//! returns one row per profile, all carrying the same client, user and item.
//!
//! Every query here is a static Diesel query (no boxing, no `IN` lists, no `LIMIT ?`), so both
//! backends prepare it once per connection and reuse it from the statement cache. Each shape
//! joins on unique keys only, so it yields at most one row per profile and needs no `LIMIT`:
//! SQLite re-compiles a statement whose `LIMIT ?` is re-bound, on every run (clippy.toml).
//!
//! A profile's unit is joined on its id *and* the client's id, which says nothing new (a
//! profile's unit is always of its client) but steers PostgreSQL's plan: with the id alone,
//! a client with few units gets a generic plan that hashes the whole `units` table on every
//! read; with both, a nested loop over the one profile row. Measured on the ★ read: 61 → 55 µs
//! of PostgreSQL CPU per request, +8 % requests/s (docs/performance.md, thirteenth session).

use async_trait::async_trait;
use diesel::prelude::*;
use idm_ports::locate::{Address, Item, ItemKey, Located, Locator};
use idm_ports::{RepoError, RepoResult};

use crate::applications::AuthorizationRow;
use crate::clients::ClientRow;
use crate::devices::{AttestationRow, FidoRow, TargetRow};
use crate::personal_questions::QuestionRow;
use crate::profiles::ProfileRow;
use crate::schema::{
    app_attestations, authorizations, clients, dispatch_targets, fido_uaf_credentials,
    personal_questions, profiles, roles, units, users,
};
use crate::units::UnitRow;
use crate::users::UserRow;
use crate::{DbConnection, Store, E, R};

#[async_trait]
impl Locator for Store {
    async fn locate(&self, address: &Address) -> RepoResult<Located> {
        #[cfg(feature = "postgres")]
        if let Some(pipeline) = &self.pipeline {
            if let Some(found) = pipelined::locate(pipeline, address).await {
                return found.map_err(|E(e)| e);
            }
        }
        let address = address.clone();
        self.lookup(move |conn| locate(conn, &address)).await
    }
}

fn unsupported(address: &Address) -> E {
    E(RepoError::Other(format!(
        "unsupported address shape: {address:?}"
    )))
}

/// Resolves `address` on `conn`: one statement for the primary shape (a [`Shape`], or an
/// item's), one more for each part that statement does not carry.
pub(crate) fn locate(conn: &mut DbConnection, address: &Address) -> R<Located> {
    let c = address.client.as_str();
    // PostgreSQL refuses text containing NUL outright; such an extId cannot exist anyway, and
    // everything below it is then missing too.
    if c.contains('\0') {
        return Ok(Located::default());
    }
    let mut found = match &address.item {
        None => one_statement(conn, c, Shape::primary(address)?, address)?,
        Some(item) => match (&address.user, &address.profile, &address.unit) {
            (Some(u), None, _) => user_item(conn, c, key(u), item, address)?,
            (None, Some(p), _) => profile_item(conn, c, key(p), item, address)?,
            (None, None, None) => client_item(conn, c, item, address)?,
            // An item of a unit, or of a user's profile: no route addresses one.
            _ => return Err(unsupported(address)),
        },
    };
    let Some(client_id) = found.client.as_ref().map(|c| c.meta.id) else {
        return Ok(found);
    };
    // Units that are not the primary part: a second statement each (only writes need them).
    if found.unit.is_none() && (address.user.is_some() || address.profile.is_some()) {
        if let Some(u) = address.unit.as_deref() {
            found.unit = unit(conn, client_id, u)?;
        }
    }
    if let Some(u) = address.other_unit.as_deref() {
        found.other_unit = unit(conn, client_id, u)?;
    }
    // Shapes that do not carry the policy in their statement read it apart.
    if address.client_policy && found.client_policy.is_none() {
        found.client_policy = Some(crate::policies::client_policy(conn, client_id)?);
    }
    if address.mandatory_properties && found.mandatory_properties.is_none() {
        found.mandatory_properties =
            Some(native!(conn, |conn| diesel::select(AnyMandatoryProperty)
                .get_result::<bool>(conn))?);
    }
    if address.user_property_values && found.user_property_values.is_none() {
        if let Some(user_id) = found.user.as_ref().map(|u| u.meta.id) {
            found.user_property_values = Some(crate::properties::owner_values(
                conn,
                idm_ports::properties::Owner::User(user_id),
            )?);
        }
    }
    Ok(found)
}

/// The `parameters` of the located client's `ClientPolicy`, as a column of a statement that
/// has `clients` in its FROM clause: a scalar subquery on the unique
/// `policies_one_client_policy` index, so a user write needs no statement of its own to read
/// the rules it is checked against.
///
/// Hand-written because Diesel's `single_value` binds its `LIMIT 1`, which SQLite recompiles on
/// every run (clippy.toml); a type of its own with fixed text keeps a static query id.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct ClientPolicyOf;

impl diesel::expression::Expression for ClientPolicyOf {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for ClientPolicyOf {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(
            "(SELECT policies.parameters FROM policies WHERE policies.client_id = clients.id \
             AND policies.policy_type = 'ClientPolicy')",
        );
        Ok(())
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for ClientPolicyOf where
    clients::id: diesel::expression::AppearsOnTable<QS>
{
}

impl<QS> diesel::expression::SelectableExpression<QS> for ClientPolicyOf where
    clients::id: diesel::expression::SelectableExpression<QS>
{
}

impl<GB> diesel::expression::ValidGrouping<GB> for ClientPolicyOf {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Whether any property definition is mandatory, as a column: a create that sends no values
/// needs the definitions (and their statement) only to check the mandatory ones, so it asks
/// this in its look-up first. Deliberately wider than the rule (any scope, any client): the
/// domain still decides which definitions apply whenever there is one.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct AnyMandatoryProperty;

impl diesel::expression::Expression for AnyMandatoryProperty {
    type SqlType = diesel::sql_types::Bool;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB>
    for AnyMandatoryProperty
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(
            "EXISTS (SELECT 1 FROM property_definitions \
             WHERE property_definitions.mandatory_on_gui)",
        );
        Ok(())
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for AnyMandatoryProperty {}

impl<QS> diesel::expression::SelectableExpression<QS> for AnyMandatoryProperty {}

impl<GB> diesel::expression::ValidGrouping<GB> for AnyMandatoryProperty {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// The property values of the located user, as a column of a statement that has `users` in
/// its FROM clause: a JSON array of `[definition id, value]` pairs (NULL or `[]` for none),
/// aggregated by a scalar subquery on `property_values_of_user`, so a user patch needs no
/// statement of its own for the values it answers with. The aggregate functions differ by
/// backend, hence one fixed text each.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct UserValuesOf;

impl diesel::expression::Expression for UserValuesOf {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

#[cfg(feature = "postgres")]
impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for UserValuesOf {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(
            "(SELECT json_agg(json_build_array(property_values.property_id, \
             property_values.value))::text FROM property_values \
             WHERE property_values.user_id = users.id)",
        );
        Ok(())
    }
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for UserValuesOf {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(
            "(SELECT json_group_array(json_array(property_values.property_id, \
             property_values.value)) FROM property_values \
             WHERE property_values.user_id = users.id)",
        );
        Ok(())
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for UserValuesOf where
    users::id: diesel::expression::AppearsOnTable<QS>
{
}

impl<QS> diesel::expression::SelectableExpression<QS> for UserValuesOf where
    users::id: diesel::expression::AppearsOnTable<QS>
{
}

impl<GB> diesel::expression::ValidGrouping<GB> for UserValuesOf {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// The located values column's value, ordered by definition id as a read of the values is.
fn values_of(text: Option<&str>) -> R<Vec<idm_ports::properties::OwnedValue>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let mut pairs: Vec<(i64, String)> = serde_json::from_str(text).map_err(|e| {
        E(RepoError::Other(format!(
            "located property values are not [id, value] pairs: {e}"
        )))
    })?;
    pairs.sort_unstable_by_key(|(id, _)| *id);
    Ok(pairs
        .into_iter()
        .map(|(property_id, value)| idm_ports::properties::OwnedValue { property_id, value })
        .collect())
}

/// The located policy column's value.
fn policy_of(text: Option<String>) -> R<Option<idm_domain::policy_config::Parameters>> {
    text.as_deref().map(crate::policies::parameters).transpose()
}

fn unit(
    conn: &mut DbConnection,
    client_id: i64,
    ext_id: &str,
) -> R<Option<idm_domain::model::Unit>> {
    if ext_id.contains('\0') {
        return Ok(None);
    }
    crate::units::find(conn, client_id, ext_id)
}

/// A NUL-free key or `None` (the join then finds nothing, see [`locate`]).
fn key(ext_id: &str) -> &str {
    if ext_id.contains('\0') {
        // No extId is empty (the naming policy refuses it), so "" matches nothing.
        ""
    } else {
        ext_id
    }
}

/// The client alone. A macro, so the blocking and the pipelined path run the same query.
macro_rules! client_plain_query {
    ($c:expr) => {
        clients::table
            .filter(clients::ext_id.eq($c))
            .select(ClientRow::as_select())
    };
}

/// The client by extId, the one statement of the client shape (also the clients port's read).
pub(crate) fn client(conn: &mut DbConnection, c: &str) -> R<Option<ClientRow>> {
    Ok(native!(conn, |conn| client_plain_query!(c)
        .get_result::<ClientRow>(conn)
        .optional())?)
}

/// The client's row (none: no such client) as a [`Located`].
fn client_located(row: Option<ClientRow>) -> R<Located> {
    Ok(Located {
        client: row.map(ClientRow::into_domain).transpose()?,
        ..Located::default()
    })
}

/// A user create's look-up: the client with the rules the new user is checked against.
/// A macro, so the blocking path and the pipelined one ([`pipelined`]) run the very same query.
macro_rules! client_rules_query {
    ($c:expr) => {
        clients::table.filter(clients::ext_id.eq($c)).select((
            ClientRow::as_select(),
            ClientPolicyOf,
            AnyMandatoryProperty,
        ))
    };
}

/// The row of [`client_rules_query`].
type ClientRulesRow = (ClientRow, Option<String>, bool);

/// A user create's look-up row (none: no such client) as a [`Located`].
fn client_rules_located(row: Option<ClientRulesRow>, address: &Address) -> R<Located> {
    let Some((client, policy, mandatory)) = row else {
        return Ok(Located::default());
    };
    Ok(Located {
        client: Some(client.into_domain()?),
        client_policy: address
            .client_policy
            .then(|| policy_of(policy))
            .transpose()?,
        mandatory_properties: address.mandatory_properties.then_some(mandatory),
        ..Located::default()
    })
}

/// An item of the client itself (a personal question), with the client.
fn client_item(conn: &mut DbConnection, c: &str, item: &ItemKey, address: &Address) -> R<Located> {
    match item {
        ItemKey::PersonalQuestion(q) => {
            let row = native!(conn, |conn| clients::table
                .left_join(
                    personal_questions::table.on(personal_questions::client_id
                        .eq(clients::id)
                        .and(personal_questions::ext_id.eq(key(q)))),
                )
                .filter(clients::ext_id.eq(c))
                .select((ClientRow::as_select(), Option::<QuestionRow>::as_select()))
                .get_result::<(ClientRow, Option<QuestionRow>)>(conn)
                .optional())?;
            let Some((client, question)) = row else {
                return Ok(Located::default());
            };
            let client = client.into_domain()?;
            let item = question
                .map(|q| q.into_domain(client.meta.ext_id.clone()))
                .transpose()?
                .map(Item::PersonalQuestion);
            Ok(Located {
                client: Some(client),
                item,
                ..Located::default()
            })
        }
        _ => Err(unsupported(address)),
    }
}

/// A unit of the client. A macro, so the blocking and the pipelined path run the same query.
macro_rules! unit_query {
    ($c:expr, $u:expr) => {
        clients::table
            .left_join(units::table.on(units::client_id.eq(clients::id).and(units::ext_id.eq($u))))
            .filter(clients::ext_id.eq($c))
            .select((ClientRow::as_select(), Option::<UnitRow>::as_select()))
    };
}

/// The row of [`unit_query`].
type UnitShapeRow = (ClientRow, Option<UnitRow>);

/// The unit shape's row (none: no such client) as a [`Located`].
fn unit_located(row: Option<UnitShapeRow>) -> R<Located> {
    let Some((client, unit)) = row else {
        return Ok(Located::default());
    };
    let client = client.into_domain()?;
    let unit = unit
        .map(|u| u.into_domain(client.meta.ext_id.clone()))
        .transpose()?;
    Ok(Located {
        client: Some(client),
        unit,
        ..Located::default()
    })
}

/// The join condition of a profile's unit: its id *and* the client's id (module doc: the
/// second condition steers PostgreSQL's plan). Also the caller's look-up uses it.
pub(crate) type UnitOfProfile = diesel::dsl::And<
    diesel::dsl::Eq<units::id, profiles::unit_id>,
    diesel::dsl::Eq<units::client_id, clients::id>,
>;

/// See [`UnitOfProfile`].
pub(crate) fn unit_of_profile() -> UnitOfProfile {
    units::id
        .eq(profiles::unit_id)
        .and(units::client_id.eq(clients::id))
}

/// Clients, the addressed user, and the units of the user's profiles.
macro_rules! user_join {
    ($c:expr, $u:expr) => {
        clients::table
            .left_join(
                users::table.on(users::client_id
                    .eq(clients::id)
                    .and(users::ext_id.eq($u.to_owned()))),
            )
            .left_join(profiles::table.on(profiles::user_id.eq(users::id)))
            .left_join(units::table.on(unit_of_profile()))
            .filter(clients::ext_id.eq($c))
    };
}

/// Folds the per-profile rows of a user shape into one [`Located`]: client, user and item
/// from the first row, the unit paths from all of them.
/// One row of a user shape: client, user, one profile's unit path, and two item columns.
type UserShapeRow<A, B> = (ClientRow, Option<UserRow>, Option<String>, A, B);

fn fold_user_rows<A, B>(
    rows: Vec<UserShapeRow<A, B>>,
    item: impl FnOnce((A, B)) -> R<Option<Item>>,
) -> R<Located> {
    let mut paths = Vec::new();
    let mut first = None;
    for (client, user, path, a, b) in rows {
        if let Some(p) = path {
            paths.push(p);
        }
        if first.is_none() {
            first = Some((client, user, (a, b)));
        }
    }
    let Some((client, user, extra)) = first else {
        return Ok(Located::default());
    };
    let client = client.into_domain()?;
    let user = user
        .map(|u| u.into_domain(client.meta.ext_id.clone()))
        .transpose()?;
    let item = if user.is_some() { item(extra)? } else { None };
    paths.sort_unstable();
    paths.dedup();
    Ok(Located {
        client: Some(client),
        user_unit_paths: paths,
        user,
        item,
        ..Located::default()
    })
}

/// A user write's look-up: the user shape with the client's policy and the user's property
/// values. A macro, so the blocking and the pipelined path run the very same query.
macro_rules! user_write_query {
    ($c:expr, $u:expr) => {
        user_join!($c, $u).select((
            ClientRow::as_select(),
            Option::<UserRow>::as_select(),
            units::path.nullable(),
            ClientPolicyOf,
            UserValuesOf,
        ))
    };
}

/// A row of [`user_write_query`].
type UserWriteRow = UserShapeRow<Option<String>, Option<String>>;

/// The user shape without an item or rules (a read or a delete of the user).
macro_rules! user_plain_query {
    ($c:expr, $u:expr) => {
        user_join!($c, $u).select((
            ClientRow::as_select(),
            Option::<UserRow>::as_select(),
            units::path.nullable(),
            users::id.nullable(),
            profiles::id.nullable(),
        ))
    };
}

/// A row of [`user_plain_query`].
type UserPlainRow = UserShapeRow<Option<i64>, Option<i64>>;

/// A user write's look-up rows as a [`Located`]: the rules and values from the first row
/// (every row carries them), the rest as [`fold_user_rows`] folds it.
fn user_write_located(mut rows: Vec<UserWriteRow>, address: &Address) -> R<Located> {
    let first = rows.first_mut().map(|row| (row.3.take(), row.4.take()));
    let mut found = fold_user_rows(rows, |_| Ok(None))?;
    if let Some((policy, values)) = first {
        if address.client_policy {
            found.client_policy = Some(policy_of(policy)?);
        }
        if address.user_property_values && found.user.is_some() {
            found.user_property_values = Some(values_of(values.as_deref())?);
        }
    }
    Ok(found)
}

/// An item of the user (`u` already [`key`]ed), with the user shape's client, user and unit
/// paths.
fn user_item(
    conn: &mut DbConnection,
    c: &str,
    u: &str,
    item: &ItemKey,
    address: &Address,
) -> R<Located> {
    match item {
        ItemKey::DispatchTarget(d) | ItemKey::AppAttestation(d) => {
            let rows = native!(conn, |conn| user_join!(c, u)
                .left_join(
                    dispatch_targets::table.on(dispatch_targets::user_id
                        .eq(users::id)
                        .and(dispatch_targets::ext_id.eq(key(d).to_owned()))),
                )
                .left_join(
                    app_attestations::table
                        .on(app_attestations::dispatch_target_id.eq(dispatch_targets::id)),
                )
                .select((
                    ClientRow::as_select(),
                    Option::<UserRow>::as_select(),
                    units::path.nullable(),
                    Option::<TargetRow>::as_select(),
                    Option::<AttestationRow>::as_select(),
                ))
                .load::<(
                    ClientRow,
                    Option<UserRow>,
                    Option<String>,
                    Option<TargetRow>,
                    Option<AttestationRow>,
                )>(conn))?;
            fold_user_rows(rows, |(target, attestation)| {
                let Some(target) = target else {
                    return Ok(None);
                };
                Ok(Some(Item::DispatchTarget(
                    target.into_domain()?,
                    attestation.map(AttestationRow::into_domain),
                )))
            })
        }
        ItemKey::FidoUaf(f) => {
            let rows = native!(conn, |conn| user_join!(c, u)
                .left_join(
                    fido_uaf_credentials::table.on(fido_uaf_credentials::user_id
                        .eq(users::id)
                        .and(fido_uaf_credentials::ext_id.eq(key(f).to_owned()))),
                )
                .left_join(
                    dispatch_targets::table.on(dispatch_targets::id
                        .nullable()
                        .eq(fido_uaf_credentials::dispatch_target_id)),
                )
                .select((
                    ClientRow::as_select(),
                    Option::<UserRow>::as_select(),
                    units::path.nullable(),
                    Option::<FidoRow>::as_select(),
                    dispatch_targets::ext_id.nullable(),
                ))
                .load::<(
                    ClientRow,
                    Option<UserRow>,
                    Option<String>,
                    Option<FidoRow>,
                    Option<String>,
                )>(conn))?;
            fold_user_rows(rows, |(credential, target_ext_id)| {
                Ok(credential.map(|f| Item::FidoUaf(f.into_domain(target_ext_id))))
            })
        }
        _ => Err(unsupported(address)),
    }
}

/// The profile shape's FROM and WHERE: the client by extId, its profile by extId, the
/// profile's unit. A macro, not a function, so the blocking path and the pipelined one
/// ([`pipelined`]) run the very same query type, each with its own `RunQueryDsl`.
macro_rules! profile_join {
    ($c:expr, $p:expr) => {
        clients::table
            .left_join(
                profiles::table.on(profiles::client_id
                    .eq(clients::id)
                    .and(profiles::ext_id.eq($p.to_owned()))),
            )
            .left_join(units::table.on(unit_of_profile()))
            .filter(clients::ext_id.eq($c))
    };
}

/// The columns of the profile shape without an item.
type ProfileColumns = (ClientRow, Option<ProfileRow>, Option<UnitRow>);

macro_rules! profile_columns {
    () => {
        (
            ClientRow::as_select(),
            Option::<ProfileRow>::as_select(),
            Option::<UnitRow>::as_select(),
        )
    };
}

/// An item of the profile (`p` already [`key`]ed), with the profile shape's parts.
fn profile_item(
    conn: &mut DbConnection,
    c: &str,
    p: &str,
    item: &ItemKey,
    address: &Address,
) -> R<Located> {
    let (head, item) = match item {
        ItemKey::Authorization(a) => {
            let row = native!(conn, |conn| profile_join!(c, p)
                .left_join(
                    authorizations::table.on(authorizations::profile_id
                        .eq(profiles::id)
                        .and(authorizations::ext_id.eq(key(a).to_owned()))),
                )
                .left_join(roles::table.on(roles::id.eq(authorizations::role_id)))
                .select((
                    ClientRow::as_select(),
                    Option::<ProfileRow>::as_select(),
                    Option::<UnitRow>::as_select(),
                    Option::<AuthorizationRow>::as_select(),
                    roles::ext_id.nullable(),
                ))
                .get_result::<(
                    ClientRow,
                    Option<ProfileRow>,
                    Option<UnitRow>,
                    Option<AuthorizationRow>,
                    Option<String>,
                )>(conn)
                .optional())?;
            match row {
                None => (None, None),
                Some((c, p, unit, authorization, role_ext_id)) => {
                    let head = (c, p, unit);
                    let item = authorization
                        .zip(role_ext_id)
                        .map(|(a, r)| Item::Authorization(a.into_domain(r)));
                    (Some(head), item)
                }
            }
        }
        _ => return Err(unsupported(address)),
    };
    profile_located(head, item)
}

/// The profile shape's row (none: no such client) as a [`Located`].
fn profile_located(head: Option<ProfileColumns>, item: Option<Item>) -> R<Located> {
    let Some((client, profile, unit)) = head else {
        return Ok(Located::default());
    };
    let client = client.into_domain()?;
    let client_ext_id = client.meta.ext_id.clone();
    let (profile, profile_unit) = match (profile, unit) {
        (Some(p), Some(unit)) => {
            let unit = unit.into_domain(client_ext_id.clone())?;
            let profile =
                p.into_domain(client_ext_id, unit.meta.ext_id.clone(), unit.path.clone())?;
            (Some(profile), Some(unit))
        }
        (None, _) => (None, None),
        // A foreign key makes a profile without its unit impossible.
        (Some(_), None) => return Err(E(RepoError::Other("profile without its unit".into()))),
    };
    Ok(Located {
        client: Some(client),
        item: if profile.is_some() { item } else { None },
        profile,
        profile_unit,
        ..Located::default()
    })
}

/// The look-ups one statement answers, each with its query (the macros above) and the function
/// that converts its rows. Both paths dispatch on it with [`answer_shape`]: the blocking one
/// for the primary part of every address without an item, the pipelined one ([`pipelined`])
/// when that part is all of the address ([`Shape::whole`]).
pub(crate) enum Shape<'a> {
    /// The client alone.
    Client,
    /// The client with the rules of a new user (a create).
    ClientRules,
    /// A unit of the client.
    Unit(&'a str),
    /// A profile and its unit (the ★ read).
    Profile(&'a str),
    /// A user and the units of its profiles (a read or a delete).
    User(&'a str),
    /// A user with the client's policy and the user's values (an update).
    UserWrite(&'a str),
}

impl<'a> Shape<'a> {
    /// The primary part of `address` (which addresses no item): the statement [`locate`] runs
    /// first. A create's rules, and a user write's rules and values, come in it (both columns,
    /// whichever was asked: one statement to cache); what it does not carry, [`locate`] reads
    /// after it.
    fn primary(address: &'a Address) -> R<Shape<'a>> {
        let asks_rules = address.client_policy || address.mandatory_properties;
        Ok(
            match (address.user.as_deref(), address.profile.as_deref()) {
                (None, None) => match address.unit.as_deref() {
                    Some(u) => Shape::Unit(key(u)),
                    None if asks_rules => Shape::ClientRules,
                    None => Shape::Client,
                },
                (None, Some(p)) => Shape::Profile(key(p)),
                (Some(u), None) if address.client_policy || address.user_property_values => {
                    Shape::UserWrite(key(u))
                }
                (Some(u), None) => Shape::User(key(u)),
                (Some(_), Some(_)) => return Err(unsupported(address)),
            },
        )
    }

    /// Whether this primary statement answers all of `address`, so [`locate`] would add
    /// nothing after it: no item, no other unit, no unit beside a user or profile, and every
    /// rule asked for carried by the statement. (Property values asked without a user add
    /// nothing.)
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    fn whole(&self, address: &Address) -> bool {
        if address.item.is_some() || address.other_unit.is_some() {
            return false;
        }
        let no_rules = !address.client_policy && !address.mandatory_properties;
        match self {
            Shape::Client | Shape::ClientRules => true,
            Shape::Unit(_) => no_rules,
            Shape::Profile(_) => address.unit.is_none() && no_rules,
            Shape::User(_) | Shape::UserWrite(_) => {
                address.unit.is_none() && !address.mandatory_properties
            }
        }
    }
}

/// Runs the statement of the [`Shape`] `$shape` and converts its rows, with the runners of the
/// calling path: `$one!(query, Row)` is the optional single row, `$all!(query, Row)` all rows
/// (blocking `RunQueryDsl` or `diesel_async`'s). A macro, so which query and which converter
/// belong to a shape is written once for both paths.
macro_rules! answer_shape {
    ($shape:expr, $c:expr, $address:expr, $one:ident, $all:ident) => {
        match $shape {
            Shape::Client => client_located($one!(client_plain_query!($c), ClientRow)),
            Shape::ClientRules => {
                client_rules_located($one!(client_rules_query!($c), ClientRulesRow), $address)
            }
            Shape::Unit(u) => unit_located($one!(unit_query!($c, u), UnitShapeRow)),
            Shape::Profile(p) => profile_located(
                $one!(
                    profile_join!($c, p).select(profile_columns!()),
                    ProfileColumns
                ),
                None,
            ),
            Shape::User(u) => {
                fold_user_rows($all!(user_plain_query!($c, u), UserPlainRow), |_| Ok(None))
            }
            Shape::UserWrite(u) => {
                user_write_located($all!(user_write_query!($c, u), UserWriteRow), $address)
            }
        }
    };
}

/// `shape`'s statement on the blocking connection.
fn one_statement(
    conn: &mut DbConnection,
    c: &str,
    shape: Shape<'_>,
    address: &Address,
) -> R<Located> {
    macro_rules! one {
        ($q:expr, $row:ty) => {
            native!(conn, |conn| $q.get_result::<$row>(conn).optional())?
        };
    }
    macro_rules! all {
        ($q:expr, $row:ty) => {
            native!(conn, |conn| $q.load::<$row>(conn))?
        };
    }
    answer_shape!(shape, c, address, one, all)
}

/// PostgreSQL: the shapes that are one statement and nothing else, run on the calling
/// worker's pipelined connection ([`crate::pipeline`]): the ★ read (a profile's unit), the
/// look-ups of a client, a unit or a user (reads, deletes, and the user writes with the rules
/// they are checked against). Each runs the very query of
/// the blocking path (the shared macros above) and converts its rows with the same function.
#[cfg(feature = "postgres")]
pub(crate) mod pipelined {
    use diesel::{
        BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods,
        OptionalExtension, QueryDsl, SelectableHelper,
    };
    use diesel_async::RunQueryDsl;
    use idm_ports::locate::{Address, Located};

    use super::{
        client_located, client_rules_located, fold_user_rows, profile_located, unit_located,
        unit_of_profile, user_write_located, AnyMandatoryProperty, ClientPolicyOf, ClientRulesRow,
        ProfileColumns, Shape, UnitShapeRow, UserPlainRow, UserValuesOf, UserWriteRow,
    };
    use crate::clients::ClientRow;
    use crate::pipeline::Pipeline;
    use crate::profiles::ProfileRow;
    use crate::schema::{clients, profiles, units, users};
    use crate::units::UnitRow;
    use crate::users::UserRow;
    use crate::R;

    /// The shape of `address` when one statement answers all of it, exactly as the blocking
    /// path's [`super::locate`] would; `None` sends the look-up down that path.
    fn shape(address: &Address) -> Option<Shape<'_>> {
        if address.client.contains('\0') {
            return None;
        }
        let shape = Shape::primary(address).ok()?;
        shape.whole(address).then_some(shape)
    }

    /// `Some` when `address` is a shape served here and this worker's connection answered;
    /// `None` sends the look-up down the blocking path (also after a failure on the
    /// connection).
    pub(crate) async fn locate(pipeline: &Pipeline, address: &Address) -> Option<R<Located>> {
        let shape = shape(address)?;
        let lease = pipeline.connection()?;
        let c = address.client.as_str();
        macro_rules! one {
            ($q:expr, $row:ty) => {{
                let read = $q.get_result::<$row>(&mut lease.conn());
                lease.answer(async { read.await.optional() }).await?
            }};
        }
        macro_rules! all {
            ($q:expr, $row:ty) => {{
                let read = $q.load::<$row>(&mut lease.conn());
                lease.answer(read).await?
            }};
        }
        // A row that does not convert is the data's fault, not the connection's: reported.
        Some(answer_shape!(shape, c, address, one, all))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    /// A client `c` with unit `u`, user `x` and its profile `p` in unit `u`.
    const ROWS: &str = "\
        INSERT INTO clients (ext_id, name, created, last_modified) \
            VALUES ('c', 'c', '2026-01-01 00:00:00', '2026-01-01 00:00:00'); \
        INSERT INTO units (client_id, ext_id, path, hierarchical_name, name, state, created, \
            last_modified) SELECT id, 'u', '/1/', 'u', 'u', 'active', created, last_modified \
            FROM clients; \
        INSERT INTO users (client_id, ext_id, login_id, state, created, last_modified) \
            SELECT id, 'x', 'x', 'active', created, last_modified FROM clients; \
        INSERT INTO profiles (client_id, user_id, unit_id, ext_id, user_ext_id, state, \
            created, last_modified) SELECT clients.id, users.id, units.id, 'p', 'x', 'active', \
            clients.created, clients.last_modified FROM clients, users, units;";

    /// A migrated connection holding [`ROWS`]: SQLite in memory, or a schema of its own on the
    /// test database (dropped by [`Fixture`]'s drop).
    struct Fixture {
        conn: DbConnection,
        schema: Option<String>,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            if let Some(schema) = &self.schema {
                let _ = self
                    .conn
                    .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }

    async fn migrated(backend: crate::Backend) -> Option<Fixture> {
        let mut conn = crate::cached::tests::probe_connection(backend).await?;
        let schema = (backend == crate::Backend::Postgres)
            .then(|| format!("locate_{}", uuid::Uuid::new_v4().simple()));
        if let Some(schema) = &schema {
            conn.batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path TO {schema}"
            ))
            .unwrap();
        }
        let mut fixture = Fixture { conn, schema };
        crate::pool::run_migrations(&mut fixture.conn).unwrap();
        fixture.conn.batch_execute(ROWS).unwrap();
        Some(fixture)
    }

    /// Every address without an item that the blocking path answers: each combination of the
    /// parts and rules an address may ask for.
    fn addresses() -> Vec<Address> {
        let mut all = Vec::new();
        for bits in 0_u32..128 {
            let on = |bit: u32| bits & (1 << bit) != 0;
            if on(0) && on(1) {
                // A user and a profile together: no route addresses that.
                continue;
            }
            all.push(Address {
                client: "c".into(),
                user: on(0).then(|| "x".into()),
                profile: on(1).then(|| "p".into()),
                unit: on(2).then(|| "u".into()),
                other_unit: on(3).then(|| "u".into()),
                client_policy: on(4),
                user_property_values: on(5),
                mandatory_properties: on(6),
                item: None,
            });
        }
        all
    }

    crate::dual_test!(
        a_look_up_is_one_statement_exactly_when_its_shape_says_the_statement_answers_it_whole,
        setup = migrated,
        |fixture: Fixture| {
            let mut fixture = fixture;
            // The store's own statement counter, as every pooled connection has.
            let counters = Arc::new(crate::pool::PoolCounters::default());
            native!(&mut fixture.conn, |c| c.set_instrumentation(
                crate::pool::statement_counter(counters.clone())
            ));
            let mut whole = 0;
            for address in addresses() {
                let before = counters.statements.load(Ordering::Relaxed);
                let found = locate(&mut fixture.conn, &address).unwrap();
                let statements = counters.statements.load(Ordering::Relaxed) - before;
                // Every part exists, so every part asked for was found.
                assert!(found.client.is_some(), "{address:?}");
                assert_eq!(found.user.is_some(), address.user.is_some(), "{address:?}");
                assert_eq!(
                    found.profile.is_some(),
                    address.profile.is_some(),
                    "{address:?}"
                );
                assert_eq!(
                    found.other_unit.is_some(),
                    address.other_unit.is_some(),
                    "{address:?}"
                );
                let shape = Shape::primary(&address).unwrap();
                assert_eq!(
                    shape.whole(&address),
                    statements == 1,
                    "{address:?} ran {statements} statement(s)"
                );
                whole += usize::from(statements == 1);
            }
            // Both kinds occur: the property is not vacuous.
            assert!(whole >= 10, "only {whole} addresses were one statement");
        }
    );
}
