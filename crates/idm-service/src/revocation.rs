//! Which cached callers a write makes stale, here and on the other instances.
//!
//! Every write use case opens a [`WriteScope`] first (`let write = self.writing();`). When it
//! drops — at the end of the use case, on every early return, and when the request future is
//! dropped after the commit — the callers it reaches are evicted from this instance's cache and
//! announced to the others. The reach starts at [`Reach::Everyone`], the safe answer for a
//! write nobody has thought about; use cases narrow it once they know what they touch, so a
//! write-heavy load on users does not make every other caller look itself up again.

use std::sync::Mutex;

use idm_ports::revocation::Reach;

use crate::Services;

/// See the module documentation.
pub(crate) struct WriteScope<'a> {
    services: &'a Services,
    /// `None`: the write changes no caller (its own devices, terms, a new object no token
    /// can name yet).
    reach: Mutex<Option<Reach>>,
}

impl WriteScope<'_> {
    fn set(&self, reach: Option<Reach>) {
        if let Ok(mut r) = self.reach.lock() {
            *r = reach;
        }
    }

    /// The write changes the callers of this user only (its row, profiles, authorizations).
    pub(crate) fn reaches_user(&self, user_id: i64) {
        self.set(Some(Reach::User(user_id)));
    }

    /// The write changes callers of this client (the client row, its unit tree).
    pub(crate) fn reaches_client(&self, client_id: i64) {
        self.set(Some(Reach::Client(client_id)));
    }

    /// The write changes nothing a caller is resolved from.
    pub(crate) fn reaches_nobody(&self) {
        self.set(None);
    }
}

impl Drop for WriteScope<'_> {
    fn drop(&mut self) {
        // A poisoned lock cannot tell us what was narrowed: widen.
        let reach = self.reach.get_mut().map_or(Some(Reach::Everyone), |r| *r);
        if let Some(reach) = reach {
            self.services.revoke(reach);
            self.services.repo.announce(reach);
        }
    }
}

impl Services {
    /// Marks a write use case; see the module documentation. Every write use case starts with
    /// `let write = self.writing();` and narrows the reach when it can.
    pub(crate) fn writing(&self) -> WriteScope<'_> {
        WriteScope {
            services: self,
            reach: Mutex::new(Some(Reach::Everyone)),
        }
    }

    fn revoke(&self, reach: Reach) {
        self.callers.invalidate(reach);
    }

    /// What the revocation bus calls when another instance committed a write with this reach.
    /// It holds the cache weakly, so a bus thread never keeps stopped services alive.
    pub fn revocation_sink(&self) -> impl Fn(Reach) + Send + Sync + 'static {
        let callers = std::sync::Arc::downgrade(&self.callers);
        move |reach| {
            if let Some(callers) = callers.upgrade() {
                callers.invalidate(reach);
            }
        }
    }

    /// Caller look-ups that missed the cache since start (`/metrics`).
    pub fn caller_loads(&self) -> u64 {
        self.callers.loads()
    }
}
