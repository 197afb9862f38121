//! Telling the other instances that cached callers went stale.
//!
//! Every instance caches resolved callers for a short time. A committed write that changes a
//! caller (its user, profiles, authorizations, unit tree, client) must reach every instance's
//! cache, not only the writer's; this port carries that news. The adapter decides how
//! (PostgreSQL `NOTIFY`; nothing for a single-file SQLite deployment).

/// Whose cached callers a committed write may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The caller(s) of one user (internal id): its user row, profiles or authorizations.
    User(i64),
    /// Every caller of one client (internal id): the client itself or its unit tree.
    Client(i64),
    /// Every caller: writes whose effect on callers is not narrowed (roles, imports, …).
    Everyone,
}

impl Reach {
    /// The compact text form used on the wire between instances (`u:7`, `c:3`, `*`).
    pub fn encode(self) -> String {
        match self {
            Reach::User(id) => format!("u:{id}"),
            Reach::Client(id) => format!("c:{id}"),
            Reach::Everyone => "*".to_owned(),
        }
    }

    /// Parses [`Reach::encode`]'s form; anything unreadable widens to [`Reach::Everyone`],
    /// because a lost revocation is worse than an emptied cache.
    pub fn decode(text: &str) -> Reach {
        let id = |s: &str| s.parse::<i64>().ok();
        match text.split_once(':') {
            Some(("u", n)) => id(n).map_or(Reach::Everyone, Reach::User),
            Some(("c", n)) => id(n).map_or(Reach::Everyone, Reach::Client),
            _ => Reach::Everyone,
        }
    }
}

/// Announces a committed write's [`Reach`] to the other instances (fire and forget: it must
/// never fail or slow down the write that triggered it).
pub trait Announcer {
    /// Queues the announcement; delivery is best effort, with the cache TTL as the fallback.
    fn announce(&self, reach: Reach);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reach_survives_the_wire_and_garbage_widens_to_everyone() {
        for r in [Reach::User(7), Reach::Client(-3), Reach::Everyone] {
            assert_eq!(Reach::decode(&r.encode()), r);
        }
        for junk in ["", "u:", "u:x", "x:1", "c:1.5", "u"] {
            assert_eq!(Reach::decode(junk), Reach::Everyone, "{junk}");
        }
    }
}
