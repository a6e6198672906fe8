//! How long a registry may take.
//!
//! The client's read timeout only bounds the wait between two reads, so a registry
//! that sends one byte a second is never timed out by it, and a scan of such a
//! registry never ends. Two deadlines close that: one for the whole scan's traffic
//! with the registry (`--timeout`, [`DEFAULT_TIMEOUT`] unless given), and a shorter
//! one for each document (a manifest, an index, a token, a referrers list), which
//! is small enough that [`DOCUMENT_TIMEOUT`] is far above what a working registry
//! takes. A layer has only the scan's: a large layer over a slow link may
//! rightly take long.

use crate::Error;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The whole scan's traffic with one registry, unless `--timeout` says otherwise:
/// an hour pulls tens of gigabytes over an ordinary link, and ends a stalled
/// scan the same day.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

/// One document, retries included. Documents are at most a few MiB; a registry
/// that needs five minutes for one has stalled.
pub const DOCUMENT_TIMEOUT: Duration = Duration::from_secs(300);

/// The deadlines of one scan, fixed when it connects to the registry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    scan_limit: Duration,
    scan_end: Instant,
}

/// When one piece of work must be done, and which limit set that.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    limit: Duration,
    whole_scan: bool,
}

impl Deadlines {
    /// The scan's deadline `limit` from now ([`DEFAULT_TIMEOUT`] when `None`).
    pub(crate) fn starting_now(limit: Option<Duration>) -> Deadlines {
        let scan_limit = limit.unwrap_or(DEFAULT_TIMEOUT);
        Deadlines {
            scan_limit,
            scan_end: later_by(Instant::now(), scan_limit),
        }
    }

    /// For a document requested now: [`DOCUMENT_TIMEOUT`], or the scan's end if sooner.
    pub(crate) fn for_document(&self) -> Deadline {
        let document_end = later_by(Instant::now(), DOCUMENT_TIMEOUT);
        if document_end < self.scan_end {
            Deadline {
                at: document_end,
                limit: DOCUMENT_TIMEOUT,
                whole_scan: false,
            }
        } else {
            self.for_blob()
        }
    }

    /// For a blob's bytes: the scan's end.
    pub(crate) fn for_blob(&self) -> Deadline {
        Deadline {
            at: self.scan_end,
            limit: self.scan_limit,
            whole_scan: true,
        }
    }
}

impl Deadline {
    /// `work`'s result, or the timeout error once the deadline passes.
    pub(crate) async fn bound<T, E: From<Error>>(
        &self,
        work: impl Future<Output = Result<T, E>>,
        what: &str,
        registry: &str,
    ) -> Result<T, E> {
        match tokio::time::timeout_at(self.at, work).await {
            Ok(result) => result,
            Err(_) => Err(self.expired(what, registry).into()),
        }
    }

    /// The error that says this deadline passed while fetching `what`.
    pub(crate) fn expired(&self, what: &str, registry: &str) -> Error {
        let hint = if self.whole_scan {
            format!(
                "raise --timeout if the registry is only slow (it bounds the whole scan's \
                 registry traffic; {} by default)",
                seconds(DEFAULT_TIMEOUT)
            )
        } else {
            "no registry document should take that long, so the registry has stalled".into()
        };
        Error::Timeout {
            what: what.to_string(),
            registry: registry.to_string(),
            after: seconds(self.limit),
            hint,
        }
    }
}

/// `start + by`, or a century on when that overflows (`--timeout` of u64::MAX seconds).
fn later_by(start: Instant, by: Duration) -> Instant {
    start
        .checked_add(by)
        .unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// "300 s", or "1.5 s" when there is a fraction.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_document_gets_the_sooner_of_its_own_limit_and_the_scans() {
        let long = Deadlines::starting_now(None);
        let document = long.for_document();
        assert!(!document.whole_scan);
        assert_eq!(document.limit, DOCUMENT_TIMEOUT);
        let short = Deadlines::starting_now(Some(Duration::from_secs(2)));
        let document = short.for_document();
        assert!(document.whole_scan);
        let line = document.expired("manifest r/a:1", "r").to_string();
        assert!(
            line.starts_with("timed out after 2 s fetching manifest r/a:1 from r; raise --timeout"),
            "{line}"
        );
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn work_past_the_deadline_is_the_timeout_error() {
        let deadlines = Deadlines::starting_now(Some(Duration::from_millis(1500)));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<(), Error>(())
        };
        let err = deadlines
            .for_blob()
            .bound(slow, "layer sha256:ab", "r")
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("timed out after 1.5 s fetching layer sha256:ab from r"),
            "{err}"
        );
    }

    #[test]
    fn an_absurd_timeout_does_not_overflow() {
        let deadlines = Deadlines::starting_now(Some(Duration::MAX));
        assert!(deadlines.for_blob().at > Instant::now());
    }
}
