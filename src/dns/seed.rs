//! [`SeedTxt`]: hands mail-auth's SPF evaluator the domain's own SPF record as the
//! authoritative servers serve it (and its DKIM verifier a given key record), so the evaluation does not depend on what a recursive
//! resolver has cached; everything else (includes, `a`, `mx`) is looked up as usual.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::Spf;
use mail_auth::{ResolverCache, Txt};

/// A read-only TXT "cache" holding at most one entry: `<domain>.` → its SPF record.
pub(super) struct SeedTxt(HashMap<Box<str>, Txt>);

impl SeedTxt {
    /// Seed `domain`'s SPF record with `record` (when given). A record mail-auth cannot
    /// parse is seeded as its parse error, so the evaluation gives permerror as it would.
    pub(super) fn spf(domain: &str, record: Option<&str>) -> SeedTxt {
        let mut map = HashMap::new();
        if let Some(record) = record {
            let key = format!("{}.", domain.trim_end_matches('.').to_ascii_lowercase());
            map.insert(
                key.into_boxed_str(),
                Txt::from(Spf::parse(record.as_bytes())),
            );
        }
        SeedTxt(map)
    }
}

impl SeedTxt {
    /// Seed the DKIM key record `record` at `name` (`<selector>._domainkey.<domain>`), so a
    /// signature is verified against exactly this key.
    pub(super) fn dkim(name: &str, record: &str) -> SeedTxt {
        let key = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        let parsed = mail_auth::common::verify::DomainKey::parse(record.as_bytes());
        SeedTxt(HashMap::from([(key.into_boxed_str(), Txt::from(parsed))]))
    }
}

impl ResolverCache<Box<str>, Txt> for SeedTxt {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: Instant) {}
}
