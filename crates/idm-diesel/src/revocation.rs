//! The revocation bus between instances: PostgreSQL `LISTEN`/`NOTIFY` on one dedicated
//! connection per instance.
//!
//! Announcements are queued by the request path (never blocking it) and sent by the bus
//! thread, which also polls for the other instances' notifications. The channel name is
//! derived from the schema the pool works in, so deployments (and parallel test schemas)
//! sharing one database do not disturb each other. While the connection is down, the bus
//! says so (`/ready` reports it) and the cache TTL is the fallback; after a reconnect every
//! cached caller is dropped, because notifications sent meanwhile are lost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use idm_ports::revocation::{Announcer, Reach};

use crate::pool::Backend;
use crate::Store;

/// Announcements waiting for the bus thread; past this the next send widens to everyone.
const QUEUE: usize = 4096;
/// How often the bus thread wakes: to send what was announced since, all in one `NOTIFY`, and
/// to read the other instances' notifications. It does not wake for each announcement: under a
/// write load that was a thread wake-up per write (0.83 context switches per lifecycle call,
/// docs/performance.md) and a `NOTIFY` every few milliseconds. Against the cache TTL of a
/// second, a few milliseconds more for the other instances to hear of a revocation is nothing;
/// this instance evicts its own cache entries at once, before the answer.
const POLL: Duration = Duration::from_millis(5);
/// The largest payload one `NOTIFY` carries (PostgreSQL refuses 8,000 bytes and more).
const PAYLOAD_MAX: usize = 7_000;

/// Shared between the store clones and the bus thread.
pub(crate) struct Bus {
    url: String,
    backend: Backend,
    /// Identifies this instance's own notifications, which it ignores.
    instance: String,
    tx: SyncSender<Reach>,
    rx: Mutex<Option<Receiver<Reach>>>,
    /// An announcement could not be queued: the thread sends `Everyone` instead.
    overflow: AtomicBool,
    up: AtomicBool,
}

impl Bus {
    pub(crate) fn new(url: &str, backend: Backend) -> Self {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        Bus {
            url: url.to_owned(),
            backend,
            instance: format!(
                "{:x}-{nanos:x}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ),
            tx,
            rx: Mutex::new(Some(rx)),
            overflow: AtomicBool::new(false),
            up: AtomicBool::new(false),
        }
    }
}

/// What `/ready` reports about the revocation bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusState {
    /// One instance per database file: nothing to tell anyone (SQLite).
    NotNeeded,
    /// Not started (commands other than `serve`).
    Idle,
    /// Listening and announcing.
    Up,
    /// The connection is down; other instances learn of revocations only by TTL.
    Down,
}

impl Announcer for Store {
    fn announce(&self, reach: Reach) {
        if self.bus.backend != Backend::Postgres {
            return;
        }
        match self.bus.tx.try_send(reach) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.bus.overflow.store(true, Ordering::SeqCst);
            }
        }
    }
}

impl Store {
    /// The revocation bus's state, for `/ready`.
    pub fn bus_state(&self) -> BusState {
        if self.bus.backend != Backend::Postgres {
            BusState::NotNeeded
        } else if self.bus.rx.lock().is_ok_and(|rx| rx.is_some()) {
            BusState::Idle
        } else if self.bus.up.load(Ordering::SeqCst) {
            BusState::Up
        } else {
            BusState::Down
        }
    }

    /// Starts the bus thread (PostgreSQL only; a no-op otherwise or when already started).
    /// `on_revoke` runs on that thread for every other instance's announcement, and with
    /// [`Reach::Everyone`] after each reconnect. The thread ends when the last clone of this
    /// store is dropped.
    pub fn listen(&self, on_revoke: impl Fn(Reach) + Send + 'static) {
        if self.bus.backend != Backend::Postgres {
            return;
        }
        let Some(rx) = self.bus.rx.lock().ok().and_then(|mut rx| rx.take()) else {
            return;
        };
        let bus = Arc::downgrade(&self.bus);
        let spawned = std::thread::Builder::new()
            .name("idm-revocations".into())
            .spawn(move || run(&bus, &rx, &on_revoke));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the revocation bus; TTL fallback only");
        }
    }
}

#[cfg(not(feature = "postgres"))]
fn run(_bus: &std::sync::Weak<Bus>, _rx: &Receiver<Reach>, _on_revoke: &dyn Fn(Reach)) {}

#[cfg(feature = "postgres")]
fn run(bus: &std::sync::Weak<Bus>, rx: &Receiver<Reach>, on_revoke: &dyn Fn(Reach)) {
    let mut backoff = Duration::from_millis(50);
    let mut first = true;
    loop {
        let Some(strong) = bus.upgrade() else { return };
        let (url, instance) = (strong.url.clone(), strong.instance.clone());
        drop(strong);
        match pg::Session::open(&url) {
            Ok(mut session) => {
                backoff = Duration::from_millis(50);
                if let Some(b) = bus.upgrade() {
                    b.up.store(true, Ordering::SeqCst);
                }
                if !first {
                    // Whatever was announced while we were away is lost.
                    on_revoke(Reach::Everyone);
                }
                first = false;
                let outcome = session.serve(bus, rx, &instance, on_revoke);
                if let Some(b) = bus.upgrade() {
                    b.up.store(false, Ordering::SeqCst);
                }
                match outcome {
                    pg::End::StoreGone => return,
                    pg::End::Broken(e) => {
                        tracing::warn!(error = %e, "revocation bus connection lost; reconnecting");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "revocation bus cannot connect; retrying");
                // Drain what queued up meanwhile: the reconnect announces nothing for it, but
                // the queue must not fill and the TTL covers the other instances.
                loop {
                    match rx.try_recv() {
                        Ok(_) => {}
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return,
                    }
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// The `NOTIFY` payloads announcing `reaches`: `<instance>|<reach> <reach> …`, each below
/// [`PAYLOAD_MAX`]. An instance of an older release reads a list as one unreadable reach and
/// widens it to everyone, which is safe.
fn payloads(instance: &str, reaches: impl IntoIterator<Item = Reach>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for reach in reaches {
        let text = reach.encode();
        if !current.is_empty() && current.len() + 1 + text.len() > PAYLOAD_MAX {
            out.push(std::mem::take(&mut current));
        }
        if current.is_empty() {
            current = format!("{instance}|{text}");
        } else {
            current.push(' ');
            current.push_str(&text);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The sender and the reaches of a payload made by [`payloads`]; `None` for a payload without
/// a sender, which the caller must treat as reaching everyone.
fn heard(payload: &str) -> Option<(&str, impl Iterator<Item = Reach> + '_)> {
    let (from, reaches) = payload.split_once('|')?;
    Some((from, reaches.split(' ').map(Reach::decode)))
}

#[cfg(feature = "postgres")]
mod pg {
    use std::collections::HashSet;
    use std::sync::atomic::Ordering;
    use std::sync::mpsc::{Receiver, TryRecvError};

    use diesel::connection::SimpleConnection;
    use diesel::sql_types::Text;
    use diesel::{Connection, PgConnection, RunQueryDsl};
    use idm_ports::revocation::Reach;

    use super::{heard, payloads, Bus, POLL};

    pub(super) enum End {
        StoreGone,
        Broken(String),
    }

    pub(super) struct Session {
        conn: PgConnection,
        channel: String,
    }

    #[derive(diesel::QueryableByName)]
    struct Schema {
        #[diesel(sql_type = Text)]
        name: String,
    }

    impl Session {
        pub(super) fn open(url: &str) -> Result<Session, String> {
            let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
            let schema: Schema = diesel::sql_query("SELECT current_schema() AS name")
                .get_result(&mut conn)
                .map_err(|e| e.to_string())?;
            let channel = channel_for(&schema.name);
            conn.batch_execute(&format!("LISTEN \"{channel}\""))
                .map_err(|e| e.to_string())?;
            Ok(Session { conn, channel })
        }

        pub(super) fn serve(
            &mut self,
            bus: &std::sync::Weak<Bus>,
            rx: &Receiver<Reach>,
            instance: &str,
            on_revoke: &dyn Fn(Reach),
        ) -> End {
            loop {
                std::thread::sleep(POLL);
                let mut outgoing = HashSet::new();
                loop {
                    match rx.try_recv() {
                        Ok(r) => {
                            outgoing.insert(r);
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return End::StoreGone,
                    }
                }
                let Some(strong) = bus.upgrade() else {
                    return End::StoreGone;
                };
                if strong.overflow.swap(false, Ordering::SeqCst) {
                    outgoing.insert(Reach::Everyone);
                }
                drop(strong);
                if outgoing.contains(&Reach::Everyone) {
                    outgoing.retain(|r| *r == Reach::Everyone);
                }
                for payload in payloads(instance, outgoing) {
                    if let Err(e) = diesel::sql_query("SELECT pg_notify($1, $2)")
                        .bind::<Text, _>(&self.channel)
                        .bind::<Text, _>(&payload)
                        .execute(&mut self.conn)
                    {
                        return End::Broken(e.to_string());
                    }
                }
                for note in self.conn.notifications_iter() {
                    match note {
                        Ok(note) => match heard(&note.payload) {
                            Some((from, _)) if from == instance => {}
                            Some((_, reaches)) => reaches.for_each(on_revoke),
                            None => on_revoke(Reach::Everyone),
                        },
                        Err(e) => return End::Broken(e.to_string()),
                    }
                }
            }
        }
    }

    /// `idm_rev_<schema>`, kept to PostgreSQL's 63-byte identifier limit and to characters
    /// that need no quoting rules beyond the double quotes used above.
    fn channel_for(schema: &str) -> String {
        let clean: String = schema
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(50)
            .collect();
        format!("idm_rev_{clean}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(payload: &str) -> (String, Vec<Reach>) {
        let (from, reaches) = heard(payload).unwrap();
        (from.to_owned(), reaches.collect())
    }

    #[test]
    fn announcements_collected_together_go_out_in_one_payload_that_reads_back_as_each() {
        let sent = [Reach::User(7), Reach::Client(3), Reach::Everyone];
        let out = payloads("i-1", sent);
        assert_eq!(out, vec!["i-1|u:7 c:3 *".to_owned()]);
        assert_eq!(read(&out[0]), ("i-1".to_owned(), sent.to_vec()));
    }

    #[test]
    fn a_batch_too_large_for_one_notify_is_split_without_losing_an_announcement() {
        let sent: Vec<Reach> = (0..2_000).map(Reach::User).collect();
        let out = payloads("instance", sent.clone());
        assert!(out.len() > 1);
        assert!(out.iter().all(|p| p.len() <= PAYLOAD_MAX));
        let back: Vec<Reach> = out.iter().flat_map(|p| read(p).1).collect();
        assert_eq!(back, sent);
    }

    #[test]
    fn nothing_to_announce_sends_nothing() {
        assert!(payloads("i", []).is_empty());
    }
}
