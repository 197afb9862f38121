//! The audit trail: what a write request is, and reading the chains back.
//!
//! Appending is not a port method: a record must commit or roll back with the write it
//! describes, so the adapter writes it inside the write's own transaction, from the
//! [`AuditDraft`] the request carries (see `idm_diesel::audit`; an adapter may link it into
//! its chain later, as long as every read sees it linked). This port only reads.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use idm_domain::audit::AuditEntry;

use crate::RepoResult;

/// What the HTTP layer knows about a write request; the adapter completes it with the versions
/// the write saw and appends it to the chain of `chain` (else the caller's client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditDraft {
    /// The request id.
    pub request_id: String,
    /// Method and route pattern.
    pub operation: String,
    /// The client the addressed object belongs to, when the path names one.
    pub chain: Option<String>,
    /// The caller's client, once the caller is resolved.
    pub caller_client: Option<String>,
    /// The caller's user, once the caller is resolved.
    pub caller_user: Option<String>,
    /// The resource segment of the addressed object (the literal before the route's last
    /// parameter).
    pub object_type: String,
    /// extId of the addressed object (the route's last parameter).
    pub object_ext_id: Option<String>,
    /// The literal a route ends in after its last parameter (a collection or an action).
    pub collection: Option<String>,
    /// The extId a POST body names: the object it creates in `collection`.
    pub created_ext_id: Option<String>,
    /// The field names the body set.
    pub fields: Vec<String>,
}

impl AuditDraft {
    /// The chain a record of this draft goes to: the addressed client, else the caller's.
    /// `None` while neither is known (no caller resolved: nothing to record).
    pub fn chain(&self) -> Option<&str> {
        self.chain.as_deref().or(self.caller_client.as_deref())
    }
}

impl AuditDraft {
    /// The object the record names: a POST whose body names an extId on a route ending in a
    /// collection creates that object there; otherwise the route's addressed object.
    pub fn object(&self) -> (&str, Option<&str>) {
        match (&self.collection, &self.created_ext_id) {
            (Some(collection), Some(created)) => (collection, Some(created)),
            _ => (&self.object_type, self.object_ext_id.as_deref()),
        }
    }
}

/// A stored record: the entry and the hash stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// What the hash covers.
    pub entry: AuditEntry,
    /// The stored hash (equal to `entry.hash()` unless the record was tampered with).
    pub hash: String,
}

/// The head of one chain: its last sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The chain (client extId).
    pub chain: String,
    /// Last sequence number and hash per the head row; `None` when records exist without one.
    pub head: Option<(i64, String)>,
}

/// Filters of an audit list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only records of this object type.
    pub object_type: Option<String>,
    /// Only records of this object extId.
    pub object_ext_id: Option<String>,
    /// Only records written by this caller user (extId).
    pub user_ext_id: Option<String>,
    /// Only records at or after this time.
    pub from: Option<NaiveDateTime>,
    /// Only records before this time.
    pub to: Option<NaiveDateTime>,
}

/// Reading the audit trail.
#[async_trait]
pub trait AuditRepo {
    /// Up to `limit` records of `chain` matching `filter` with a sequence number above
    /// `after_seq`, in sequence order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn audit_records(
        &self,
        chain: &str,
        filter: &AuditFilter,
        after_seq: i64,
        limit: usize,
    ) -> RepoResult<Vec<AuditRecord>>;

    /// Every chain that has a head or records (only `chain` when given), with its head.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn audit_chains(&self, chain: Option<&str>) -> RepoResult<Vec<ChainHead>>;
}
