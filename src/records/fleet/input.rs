//! Reading one `--fleet` file into a host's records ([`HostRecords`]): its `mailsetup records
//! --json` output ([`from_json`], the shape of [`crate::records::render::json`]) or its answers
//! file ([`from_answers`]: every record but its DKIM key records). Parsing only.

use std::net::IpAddr;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::records::{MissingDkim, PtrRequest, Record, RecordSet, Rtype, Server, sts};
use crate::settings::Settings;
use crate::values::{Domain, ServerAddrs, StsMode};

/// Where a host's records were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Its `mailsetup records --json`: every record, its DKIM keys included.
    Records,
    /// Its answers file: every record but the DKIM key records, which need its keys.
    Answers,
}

/// One host's records, as [`read`] from one `--fleet` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecords {
    /// The file it was read from, as given (for messages).
    pub file: String,
    pub source: Source,
    /// Its records; `servers` holds exactly this host.
    pub set: RecordSet,
}

impl HostRecords {
    /// The host's hostname (`myhostname`).
    pub fn hostname(&self) -> &Domain {
        &self.set.servers[0].hostname
    }

    /// `mx1.example.org (mx1.json)`, for messages.
    pub(super) fn who(&self) -> String {
        format!("{} ({})", self.hostname(), self.file)
    }
}

/// Read one `--fleet` file: a host's `mailsetup records --json` output, or its answers file
/// (TOML). JSON when the name ends in `.json`, TOML when in `.toml`, else by its first
/// character (`{`: JSON). Errors ([`Error::Invalid`] naming the file): neither parses; the
/// JSON lacks a field or is a merged fleet's (several hosts); the answers give no address.
pub fn read(file: &str, text: &str) -> Result<HostRecords> {
    let json = if file.ends_with(".json") {
        true
    } else if file.ends_with(".toml") {
        false
    } else {
        text.trim_start().starts_with('{')
    };
    if json {
        from_json(file, text)
    } else {
        let settings = crate::answers::parse(text).map_err(|e| bad(file, e.to_string()))?;
        from_answers(file, &settings)
    }
}

/// A host's records from its answers: all but its DKIM key records (its keys are on it), which
/// the merge lists as missing. Errors: the answers give neither `ipv4` nor `ipv6` (another
/// host's interfaces cannot be looked at).
pub fn from_answers(file: &str, settings: &Settings) -> Result<HostRecords> {
    let addrs = ServerAddrs::new(settings.ipv4, settings.ipv6).ok_or_else(|| {
        bad(
            file,
            format!(
                "the answers of {} give neither `ipv4` nor `ipv6`; add its public address, or pass \
                 the output of `mailsetup records --json` on that host instead",
                settings.hostname
            ),
        )
    })?;
    let mut set = crate::records::build(settings, addrs, &Default::default());
    // its keys are unknown here, not absent: the merge says what to run on the host
    set.missing_keys.clear();
    set.missing_dkim = settings
        .domains
        .iter()
        .map(|d| MissingDkim {
            domain: d.clone(),
            host: settings.hostname.clone(),
            selector: Some(settings.selector.clone()),
            fix: format!(
                "run `mailsetup records --json` on {} and pass its output instead of {file}",
                settings.hostname
            ),
        })
        .collect();
    Ok(HostRecords {
        file: file.into(),
        source: Source::Answers,
        set,
    })
}

fn bad(file: &str, reason: impl Into<String>) -> Error {
    Error::Invalid {
        what: format!("--fleet {file}"),
        reason: reason.into(),
    }
}

/// A host's records from its `records --json` output ([`crate::records::render::json`]). The host is
/// the one of its `hosts` (older outputs without it: the PTR requests' name and addresses).
pub fn from_json(file: &str, text: &str) -> Result<HostRecords> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        bad(
            file,
            format!("not the JSON of `mailsetup records --json`: {e}"),
        )
    })?;
    let str_at = |v: &Value, key: &str, what: &str| -> Result<String> {
        v[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(file, format!("{what} has no string `{key}`")))
    };
    let domain = |s: &str, what: &str| {
        Domain::parse(s.trim_end_matches('.')).map_err(|e| bad(file, format!("{what}: {e}")))
    };
    let ip = |s: &str| {
        s.parse::<IpAddr>()
            .map_err(|e| bad(file, format!("address {s:?}: {e}")))
    };
    let list = |key: &str| v[key].as_array().cloned().unwrap_or_default();
    let mut ptr = Vec::new();
    for p in list("ptr") {
        ptr.push(PtrRequest {
            ip: ip(&str_at(&p, "ip", "a ptr entry")?)?,
            name: str_at(&p, "name", "a ptr entry")?,
            value: str_at(&p, "value", "a ptr entry")?,
            provider: p["provider"]
                .as_str()
                .and_then(|k| crate::provider::Provider::parse(k).ok()),
        });
    }
    let hosts = list("hosts");
    if hosts.len() > 1 {
        return Err(bad(
            file,
            "holds the records of several hosts (a merged fleet's); pass each host's own \
             `mailsetup records --json`",
        ));
    }
    let server = match hosts.first() {
        Some(h) => Server {
            hostname: domain(&str_at(h, "hostname", "the host")?, "hostname")?,
            addrs: h["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(ip)
                .collect::<Result<_>>()?,
        },
        None => Server {
            hostname: domain(
                &ptr.first()
                    .map(|p| p.value.clone())
                    .ok_or_else(|| bad(file, "names no host (no `hosts`, no `ptr`)"))?,
                "the PTR value",
            )?,
            addrs: ptr.iter().map(|p| p.ip).collect(),
        },
    };
    let mut records = Vec::new();
    for r in list("records") {
        let t = str_at(&r, "type", "a record")?;
        records.push(Record {
            zone: domain(&str_at(&r, "domain", "a record")?, "a record's domain")?,
            name: str_at(&r, "name", "a record")?,
            fqdn: str_at(&r, "fqdn", "a record")?,
            rtype: Rtype::parse(&t)
                .ok_or_else(|| bad(file, format!("record type {t:?} is not A, AAAA, MX or TXT")))?,
            value: str_at(&r, "value", "a record")?,
            why: r["why"].as_str().unwrap_or_default().to_string().into(),
            hosts: vec![server.hostname.clone()],
        });
    }
    let missing_keys = list("missing_keys")
        .iter()
        .filter_map(Value::as_str)
        .map(|d| domain(d, "missing_keys"))
        .collect::<Result<_>>()?;
    let mut policies = Vec::new();
    for p in list("mta_sts_policies") {
        let mode = str_at(&p, "mode", "an MTA-STS policy")?;
        policies.push(sts::StsPolicy {
            domain: domain(
                &str_at(&p, "domain", "an MTA-STS policy")?,
                "a policy's domain",
            )?,
            mode: StsMode::parse(&mode).map_err(|e| bad(file, format!("policy mode: {e}")))?,
            text: str_at(&p, "text", "an MTA-STS policy")?,
            id: str_at(&p, "id", "an MTA-STS policy")?,
            url: str_at(&p, "url", "an MTA-STS policy")?,
        });
    }
    Ok(HostRecords {
        file: file.into(),
        source: Source::Records,
        set: RecordSet {
            records,
            ptr,
            missing_keys,
            policies,
            servers: vec![server],
            missing_dkim: Vec::new(),
        },
    })
}
