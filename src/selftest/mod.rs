//! `mailsetup selftest`: prove that outgoing mail is signed with the published key, touching
//! nothing. For each signing domain, a test message is handed to OpenDKIM through the socket
//! Postfix uses ([`target`]), as Postfix would present a local submission from 127.0.0.1
//! ([`milter`]); the DKIM-Signature OpenDKIM returns is verified (mail-auth, RFC 6376 §6)
//! against the key published at the authoritative servers and against the local key; with
//! Ed25519 signing on, the Ed25519 signature too (RFC 8463), against its own key.
//! No file is written and no queue touched: the message never enters Postfix.

pub mod mailbox;
pub mod milter;
pub mod via_postfix;

use std::collections::BTreeMap;

use crate::check::{Checked, Finding, JobResult, Severity, ids, status};
use crate::dns::Authority;
use crate::dns::auth::ask;
use crate::host::system::Root;
use crate::milter::is_opendkim_entry;
use crate::postfix::{MainCf, split_list};
use crate::settings::Settings;
use crate::values::Domain;

pub use crate::local::socket::Address as Target;

/// The OpenDKIM entry of main.cf `smtpd_milters`, as a place to connect to:
/// `local:opendkim/opendkim.sock` is relative to Postfix's queue directory (its chroot),
/// `inet:127.0.0.1:8891` a TCP address (see [`crate::local::socket::address`]). A Unix path
/// comes back beneath the root.
/// `listens`: the socket OpenDKIM is configured to listen on, which identifies its entry.
/// Errors: no OpenDKIM entry, or one that names a host by name.
pub fn target(root: &Root, main_cf: &str, listens: Option<&str>) -> Result<Target, String> {
    let cf = MainCf::parse(main_cf);
    let list = cf.get("smtpd_milters").unwrap_or_default();
    let entry = split_list(&list)
        .into_iter()
        .find(|e| is_opendkim_entry(e, listens))
        .ok_or("main.cf smtpd_milters names no OpenDKIM milter (milter.not-configured)")?;
    match crate::local::socket::address(&entry)? {
        Target::Unix(path) => Ok(Target::Unix(root.path(path))),
        tcp => Ok(tcp),
    }
}

/// The second (Ed25519) OpenDKIM instance's entry of main.cf `smtpd_milters`
/// ([`crate::milter::is_ed25519_entry`]; `ours`: the entry its configured `Socket` makes),
/// as a place to connect to; None when main.cf names none. Errors: as [`target`].
pub fn ed25519_target(root: &Root, main_cf: &str, ours: &str) -> Result<Option<Target>, String> {
    let Some(entry) = crate::local::ed25519::postfix_entry(main_cf, ours) else {
        return Ok(None);
    };
    match crate::local::socket::address(&entry)? {
        Target::Unix(path) => Ok(Some(Target::Unix(root.path(path)))),
        tcp => Ok(Some(tcp)),
    }
}

/// The `p=` of the local keys per signing domain: the RSA one, and the Ed25519 one when
/// `algorithms` has `ed25519-sha256` (domains without a readable key are left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalKeys {
    pub rsa: BTreeMap<Domain, String>,
    pub ed25519: BTreeMap<Domain, String>,
}

/// One domain's test message through `targets` (OpenDKIM's socket, then the Ed25519
/// instance's when Postfix names one: each adds its signature, as Postfix hands the message
/// to one milter after the other), verified. `local`: the local keys' `p=`.
pub async fn run(
    targets: &[Target],
    settings: &Settings,
    auth: &Authority,
    local: &LocalKeys,
) -> Vec<JobResult> {
    let mut out = Vec::new();
    for d in &settings.domains {
        let findings = domain(targets, settings, d, auth, local).await;
        out.push(JobResult {
            checked: Checked {
                check: "selftest",
                subject: d.to_string(),
                status: status(&findings),
                group: d.to_string(),
            },
            findings,
        });
    }
    out
}

async fn domain(
    targets: &[Target],
    settings: &Settings,
    d: &Domain,
    auth: &Authority,
    local: &LocalKeys,
) -> Vec<Finding> {
    let subject = d.as_str();
    let from = format!("postmaster@{d}");
    let headers = [
        ("From", from.as_str()),
        ("To", "mailsetup-selftest@example.invalid"),
        ("Subject", "mailsetup selftest"),
        ("Message-ID", "<selftest@mailsetup.invalid>"),
    ];
    let body = "This message tests DKIM signing. It is never sent.\r\n";
    let hostname = settings.hostname.to_string();
    let msg = milter::Message {
        client_addr: "127.0.0.1",
        helo: &hostname,
        mail_from: &from,
        rcpt_to: "mailsetup-selftest@example.invalid",
        headers: &headers,
        body,
        macros: &[
            ("j", hostname.as_str()),
            ("i", "SELFTEST"),
            ("{daemon_name}", "mailsetup-selftest"),
        ],
    };
    let mut signatures: Vec<String> = Vec::new();
    let mut verdicts = Vec::new();
    for target in targets {
        let outcome = match send(target, &msg).await {
            Ok(o) => o,
            Err(e) => {
                return vec![
                    Finding::new(
                        ids::SELFTEST_UNSIGNED,
                        Severity::Error,
                        subject,
                        format!("could not hand a message to OpenDKIM: {e}"),
                    )
                    .fix(Some(
                        "mailsetup check names the local cause (milter.*, opendkim.not-running)"
                            .into(),
                    )),
                ];
            }
        };
        signatures.extend(
            outcome
                .added
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("DKIM-Signature"))
                .map(|(_, v)| v.clone()),
        );
        verdicts.push(outcome.verdict);
    }
    if signatures.is_empty() {
        return vec![
            Finding::new(
                ids::SELFTEST_UNSIGNED,
                Severity::Error,
                subject,
                format!(
                    "OpenDKIM did not sign mail from {from} (it answered {verdicts:?}): the \
                     SigningTable has no entry for {d}, the key could not be loaded, or \
                     127.0.0.1 is not in InternalHosts"
                ),
            )
            .fix(Some(
                "mailsetup check names the cause (opendkim.*); OpenDKIM logs why with LogWhy yes"
                    .into(),
            )),
        ];
    }
    let mut text = String::new();
    for signature in signatures {
        text.push_str(&format!(
            "DKIM-Signature: {}\r\n",
            signature.replace("\r\n", "\n").replace('\n', "\r\n")
        ));
    }
    for (n, v) in headers {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    verify(&text, settings, d, subject, auth, local).await
}

/// Verify the DKIM-Signature of `text` (RFC 5322, CRLF) from domain `d` against the key
/// published at the authoritative servers and against the local key's `p=`: the
/// `selftest.dkim-fail-*` findings, or `selftest.signed`. With `ed25519-sha256` in
/// `algorithms`, the signature of the Ed25519 selector likewise, after the RSA one (the same
/// ids, the message naming the selector). `subject`: what the findings are about (the
/// domain, and how the message travelled).
pub async fn verify(
    text: &str,
    settings: &Settings,
    d: &Domain,
    subject: &str,
    auth: &Authority,
    local: &LocalKeys,
) -> Vec<Finding> {
    let rsa = format!("{}._domainkey.{d}", settings.selector);
    let local_rsa = local.rsa.get(d).map(|p| format!("v=DKIM1; k=rsa; p={p}"));
    let mut findings = verify_key(text, d, subject, auth, &rsa, local_rsa).await;
    if let Some(ed) = &settings.ed25519 {
        let name = format!("{ed}._domainkey.{d}");
        let local_ed = local
            .ed25519
            .get(d)
            .map(|p| format!("v=DKIM1; k=ed25519; p={p}"));
        findings.extend(verify_key(text, d, subject, auth, &name, local_ed).await);
    }
    findings
}

/// [`verify`] of the signature by the key at `key_name`; `local_record`: the local key's
/// record.
async fn verify_key(
    text: &str,
    d: &Domain,
    subject: &str,
    auth: &Authority,
    key_name: &str,
    local_record: Option<String>,
) -> Vec<Finding> {
    let dns = auth.first_hop();
    let mut findings = Vec::new();
    let published = match auth
        .observe(key_name, ask::txt)
        .await
        .map(|o| o.best().cloned())
    {
        Ok(Ok(answer)) if !answer.is_empty() => Some(answer.records.join("")),
        _ => None,
    };
    let verdict_published = match &published {
        Some(record) => dns.dkim_verify(text.as_bytes(), key_name, record).await,
        None => Err(format!("no key record is published at {key_name}")),
    };
    if let Err(why) = &verdict_published {
        findings.push(
            Finding::new(
                ids::SELFTEST_DKIM_FAIL_PUBLISHED,
                Severity::Error,
                subject,
                format!(
                    "OpenDKIM signs mail from {d}, but the key published at {key_name} does not \
                     verify the signature ({why}): receivers see dkim=fail"
                ),
            )
            .fix(Some(
                "publish the record `mailsetup records` prints (the key in use), or wait \
                 until the new one has propagated"
                    .into(),
            )),
        );
    }
    if let Some(record) = local_record
        && let Err(why) = dns.dkim_verify(text.as_bytes(), key_name, &record).await
    {
        findings.push(
            Finding::new(
                ids::SELFTEST_DKIM_FAIL_LOCAL,
                Severity::Error,
                subject,
                format!(
                    "OpenDKIM signs mail from {d} with another key than the local one at the \
                     KeyTable's path ({why})"
                ),
            )
            .fix(Some(
                "restart OpenDKIM so that it loads the current key (mailsetup fix opendkim.key-missing shows the key)"
                    .into(),
            )),
        );
    }
    if let Ok((sd, ss, algorithm)) = &verdict_published {
        findings.push(Finding::new(
            ids::SELFTEST_SIGNED,
            Severity::Info,
            subject,
            format!("d={sd}, s={ss}, {algorithm}: verified against the published key"),
        ));
    }
    findings
}

async fn send(target: &Target, msg: &milter::Message<'_>) -> Result<milter::Outcome, String> {
    let timeout = std::time::Duration::from_secs(10);
    let job = async {
        match target {
            Target::Unix(path) => {
                let mut s = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| format!("connect to {}: {e}", path.display()))?;
                milter::send(&mut s, msg).await
            }
            Target::Tcp(addr) => {
                let mut s = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| format!("connect to {addr}: {e}"))?;
                milter::send(&mut s, msg).await
            }
        }
    };
    tokio::time::timeout(timeout, job)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_postfix_names_is_found_beneath_the_root() {
        let root = Root::new("/tmp/tree");
        assert_eq!(
            target(
                &root,
                "smtpd_milters = local:opendkim/opendkim.sock\n",
                None
            ),
            Ok(Target::Unix(
                "/tmp/tree/var/spool/postfix/opendkim/opendkim.sock".into()
            ))
        );
        assert_eq!(
            target(
                &root,
                "smtpd_milters = inet:127.0.0.1:8891, inet:localhost:11332\n",
                None
            ),
            Ok(Target::Tcp("127.0.0.1:8891".parse().unwrap()))
        );
        assert!(target(&root, "smtpd_milters = inet:localhost:11332\n", None).is_err());
        let listens = Some("inet:11332@127.0.0.1");
        assert_eq!(
            target(&root, "smtpd_milters = inet:127.0.0.1:11332\n", listens),
            Ok(Target::Tcp("127.0.0.1:11332".parse().unwrap())),
            "the entry naming the socket OpenDKIM listens on"
        );
        assert!(target(&root, "smtpd_milters = inet:milter.example:8891\n", None).is_err());
    }
}
