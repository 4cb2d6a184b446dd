//! MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) as values: the policy file's text, the policy
//! id that changes with it, the `_mta-sts` and `_smtp._tls` TXT values, where the policy is
//! served. Pure.

use sha2::{Digest, Sha256};

use crate::settings::Settings;
use crate::values::{Domain, StsMaxAge, StsMode, TlsRptUri};

/// The policy file for `mode`, the MX host `mx` and `max_age` (RFC 8461 §3.2), lines ended
/// by LF (`sts-policy-term` allows LF or CRLF): `version: STSv1`, `mode: …`, `mx: …`,
/// `max_age: …`, in that order, ending with a line end.
pub fn policy_text(mode: StsMode, mx: &[&Domain], max_age: StsMaxAge) -> String {
    let mut text = format!("version: STSv1\nmode: {}\n", mode.as_str());
    for host in mx {
        text.push_str(&format!("mx: {host}\n"));
    }
    text.push_str(&format!("max_age: {}\n", max_age.secs()));
    text
}

/// The policy id for `policy` (RFC 8461 §3.1 `id`: 1–32 of `A-Z a-z 0-9`): the first 32
/// hex digits of the SHA-256 of its text, so it changes whenever the text does and two
/// runs give the same id for the same policy.
pub fn policy_id(policy: &str) -> String {
    let digest = Sha256::digest(policy.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// `v=STSv1; id=<id>` (RFC 8461 §3.1).
pub fn mta_sts_value(id: &str) -> String {
    format!("v=STSv1; id={id}")
}

/// `v=TLSRPTv1; rua=<uri>` (RFC 8460 §3).
pub fn tls_rpt_value(rua: &TlsRptUri) -> String {
    format!("v=TLSRPTv1; rua={rua}")
}

/// `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3).
pub fn policy_url(domain: &Domain) -> String {
    format!("https://mta-sts.{domain}/.well-known/mta-sts.txt")
}

/// One domain's MTA-STS policy: its file, its id, where it is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsPolicy {
    pub domain: Domain,
    pub mode: StsMode,
    /// The file's exact text ([`policy_text`]).
    pub text: String,
    /// [`policy_id`] of `text`.
    pub id: String,
    /// [`policy_url`].
    pub url: String,
}

/// The policy of `domain` under `settings`, when the answers manage MTA-STS (`mta_sts`):
/// the MX host is the hostname (the MX record `records` asks for).
pub fn policy(settings: &Settings, domain: &Domain) -> Option<StsPolicy> {
    let mode = settings.mta_sts?;
    let text = policy_text(mode, &[&settings.hostname], settings.mta_sts_max_age);
    Some(StsPolicy {
        domain: domain.clone(),
        mode,
        id: policy_id(&text),
        url: policy_url(domain),
        text,
    })
}

/// What to tell the operator about serving the policy of `domain`: the host name needs an
/// address and a certificate, the file its URL; and how to go from `testing` to `enforce`.
pub fn serving_notes(p: &StsPolicy) -> String {
    let d = &p.domain;
    let next = match p.mode {
        StsMode::Testing => {
            "\nMode testing: senders report failures (to the TLS-RPT rua) but still deliver. \
             Once the reports show every sender's TLS to your MX succeeding for a few weeks, \
             set mta_sts = \"enforce\" in the answers, serve the new policy first, then \
             publish the new _mta-sts id (RFC 8461 §8.3)."
        }
        StsMode::Enforce => "",
        StsMode::None => {
            "\nMode none withdraws the policy: keep serving it until the old max_age has \
             passed, then remove the _mta-sts record and the file (RFC 8461 §8.3)."
        }
    };
    format!(
        "Serve this file at {url} (HTTPS, status 200, Content-Type text/plain): \
         mta-sts.{d} needs an A or AAAA record pointing at the web server that serves it, \
         and a certificate valid for mta-sts.{d} that senders trust (e.g. Let's Encrypt). \
         Serve the file before publishing the _mta-sts record; change both together \
         (the id follows the file).{next}",
        url = p.url
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Domain {
        Domain::parse(s).unwrap()
    }

    #[test]
    fn policy_text_is_the_rfc_form() {
        let mx = d("mail.example.org");
        let text = policy_text(StsMode::Testing, &[&mx], StsMaxAge::DEFAULT);
        assert_eq!(
            text,
            "version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 604800\n"
        );
    }

    #[test]
    fn id_is_32_alphanumerics_and_follows_the_text() {
        let mx = d("mail.example.org");
        let a = policy_id(&policy_text(StsMode::Testing, &[&mx], StsMaxAge::DEFAULT));
        let b = policy_id(&policy_text(StsMode::Enforce, &[&mx], StsMaxAge::DEFAULT));
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        assert_eq!(
            a,
            policy_id(&policy_text(StsMode::Testing, &[&mx], StsMaxAge::DEFAULT))
        );
    }

    #[test]
    fn values() {
        assert_eq!(mta_sts_value("abc"), "v=STSv1; id=abc");
        let rua = TlsRptUri::parse("mailto:tlsrpt@example.org").unwrap();
        assert_eq!(
            tls_rpt_value(&rua),
            "v=TLSRPTv1; rua=mailto:tlsrpt@example.org"
        );
        assert_eq!(
            policy_url(&d("example.org")),
            "https://mta-sts.example.org/.well-known/mta-sts.txt"
        );
    }
}
