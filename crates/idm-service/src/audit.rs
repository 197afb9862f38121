//! The audit trail (idm extension): reading a client's records (`GET core/:c/audit`) and
//! verifying the chains (`idm audit verify`). Records are appended by the adapter inside each
//! write's transaction (see `idm_ports::audit`), not here.

use idm_domain::access::{Caller, Requirement};
use idm_domain::audit::{ChainBreak, ChainVerifier};
use idm_domain::rights::Right;
use idm_ports::audit::{AuditFilter, AuditRecord};
use idm_ports::locate::Address;

use crate::admit::Gate;
use crate::{AppResult, Services};

const VIEW: Requirement = Requirement::all(&[&[Right::AuditView]]);

/// Records read per round trip while verifying: bounded memory for a chain of any length.
const VERIFY_BATCH: usize = 1000;

/// One page of a client's audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The records, in sequence order.
    pub items: Vec<AuditRecord>,
    /// Sequence number after which the next page starts; `None` on the last page.
    pub next: Option<i64>,
}

/// The verdict on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The chain (client extId).
    pub chain: String,
    /// Records verified before the end or the first break.
    pub verified: i64,
    /// The head's hash (to be recorded elsewhere, so a rewritten tail is detected too).
    pub head_hash: Option<String>,
    /// The first break, if any.
    pub broken: Option<ChainBreak>,
}

impl Services {
    /// A keyset page of the client's audit records matching `filter`, after sequence number
    /// `after` (0 = from the start).
    ///
    /// # Errors
    /// 403 without `AccessControl.AuditView` on the client; 404 for an unknown client.
    pub async fn list_audit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        filter: &AuditFilter,
        after: i64,
        limit: usize,
    ) -> AppResult<AuditPage> {
        self.admit(caller, Gate::new(&VIEW), Address::client(client_ext_id))
            .await?;
        let mut items = self
            .repo
            .audit_records(client_ext_id, filter, after, limit + 1)
            .await?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items.last().map(|r| r.entry.seq)
        } else {
            None
        };
        Ok(AuditPage { items, next })
    }

    /// Verifies every chain (or the chain of `client`): each record's hash, each link to its
    /// predecessor, no gap, and the head against the last record. An operator task (the CLI),
    /// so it takes no caller.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn verify_audit(&self, client: Option<&str>) -> AppResult<Vec<ChainReport>> {
        let chains = self.repo.audit_chains(client).await?;
        let mut reports = Vec::with_capacity(chains.len());
        for chain in chains {
            let mut verifier = ChainVerifier::default();
            let mut after = 0;
            let mut broken = None;
            'walk: loop {
                let batch = self
                    .repo
                    .audit_records(&chain.chain, &AuditFilter::default(), after, VERIFY_BATCH)
                    .await?;
                for record in &batch {
                    if let Err(b) = verifier.feed(&record.entry, &record.hash) {
                        broken = Some(b);
                        break 'walk;
                    }
                    after = record.entry.seq;
                }
                if batch.len() < VERIFY_BATCH {
                    break;
                }
            }
            let head = chain.head.as_ref().map(|(seq, hash)| (*seq, hash.as_str()));
            if broken.is_none() {
                broken = verifier.finish(head).err();
            }
            reports.push(ChainReport {
                verified: verifier.checked(),
                head_hash: chain.head.map(|(_, hash)| hash),
                chain: chain.chain,
                broken,
            });
        }
        Ok(reports)
    }
}
