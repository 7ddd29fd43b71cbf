//! The request journal tests read to count and inspect calls.

use serde::{Deserialize, Serialize};

/// One handled request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// Sequence number since start.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// `api-version` query value, if any.
    pub api_version: Option<String>,
    /// Status answered (0 when the connection was dropped).
    pub status: u16,
    /// RFC 3339 time the request arrived.
    pub time: String,
    /// `x-ms-request-id` answered.
    pub request_id: String,
    /// The request asked for a later page of a list (it followed a `nextLink`, whose
    /// `$skiptoken` it carries).
    #[serde(default)]
    pub next_page: bool,
}

/// Bounded list of journal entries (oldest dropped first).
#[derive(Debug, Default)]
pub struct Journal {
    entries: std::collections::VecDeque<JournalEntry>,
    next_seq: u64,
}

/// Most entries kept.
pub const JOURNAL_CAPACITY: usize = 100_000;

impl Journal {
    /// Records an entry, assigning its sequence number.
    pub fn record(&mut self, mut entry: JournalEntry) {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.entries.len() >= JOURNAL_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries.iter().cloned().collect()
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
