//! `selftest --via-postfix --to ADDRESS`: real test messages through Postfix, one per
//! signing domain and way in: by SMTP to the local smtpd (signed by `smtpd_milters`) and by
//! sendmail(1) (signed by `non_smtpd_milters`). When ADDRESS is a local mailbox
//! ([`mailbox::locate`]), the messages are read back as delivered and their DKIM-Signature
//! verified like the milter self-test's; otherwise the results say what to look for at the
//! receiver. Sending is lettre's (SMTP client and sendmail transport); what the messages
//! are ([`probes`]) and how the results read ([`judge`]) are values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::Transport;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::extension::ClientId;

use super::mailbox::{self, Mailbox, NotHere};
use crate::check::{Checked, Finding, JobResult, Severity, ids, status};
use crate::dns::Authority;
use crate::settings::Settings;
use crate::values::Domain;

/// How a test message enters Postfix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// SMTP to the local smtpd (127.0.0.1:25): `smtpd_milters` sign it.
    Smtp,
    /// The sendmail(1) command (postdrop → pickup → cleanup): `non_smtpd_milters` sign it.
    Sendmail,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Via::Smtp => "SMTP",
            Via::Sendmail => "sendmail",
        }
    }
}

/// One test message: from `postmaster@<domain>`, identified by its `Message-ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub domain: Domain,
    pub via: Via,
    pub from: String,
    /// With angle brackets: `<selftest.TOKEN.smtp@domain>`.
    pub message_id: String,
    /// The message (RFC 5322), CRLF line ends.
    pub text: String,
}

impl Probe {
    /// What results about this message are about: `example.org by SMTP`.
    pub fn subject(&self) -> String {
        format!("{} by {}", self.domain, self.via.label())
    }
}

/// The test messages for every signing domain, both ways in. `token` makes the Message-IDs
/// unique to this run; `date`: an RFC 5322 date.
pub fn probes(settings: &Settings, to: &str, token: &str, date: &str) -> Vec<Probe> {
    let host = settings.hostname.to_string();
    let mut out = Vec::new();
    for d in &settings.domains {
        for via in [Via::Smtp, Via::Sendmail] {
            let from = format!("postmaster@{d}");
            let tag = via.label().to_ascii_lowercase();
            let message_id = format!("<selftest.{token}.{tag}@{d}>");
            let text = [
                format!("From: {from}"),
                format!("To: {to}"),
                format!("Subject: mailsetup selftest: {d} by {}", via.label()),
                format!("Date: {date}"),
                format!("Message-ID: {message_id}"),
                "MIME-Version: 1.0".into(),
                "Content-Type: text/plain; charset=us-ascii".into(),
                String::new(),
                format!(
                    "This message tests that mail from {d}, handed to Postfix on {host} by {},",
                    via.label()
                ),
                "leaves signed with DKIM. `mailsetup selftest --via-postfix` sent it; it can be"
                    .into(),
                "deleted.".into(),
                String::new(),
            ]
            .join("\r\n");
            out.push(Probe {
                domain: d.clone(),
                via,
                from,
                message_id,
                text,
            });
        }
    }
    out
}

/// Where to hand the messages to Postfix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// The local smtpd: 127.0.0.1:25.
    pub smtp: SocketAddr,
    /// The name to greet it with (EHLO).
    pub helo: String,
    /// Postfix's sendmail(1): /usr/sbin/sendmail.
    pub sendmail: PathBuf,
}

/// Hand `probe` to Postfix (I/O, blocking): Ok(what Postfix answered), or Err(why not).
pub fn send(probe: &Probe, to: &Address, relay: &Relay) -> Result<String, String> {
    let from: Address = probe
        .from
        .parse()
        .map_err(|e| format!("{}: {e}", probe.from))?;
    let envelope = Envelope::new(Some(from), vec![to.clone()]).map_err(|e| e.to_string())?;
    match probe.via {
        Via::Smtp => {
            let smtp = lettre::SmtpTransport::builder_dangerous(relay.smtp.ip().to_string())
                .port(relay.smtp.port())
                .hello_name(ClientId::Domain(relay.helo.clone()))
                .timeout(Some(Duration::from_secs(30)))
                .build();
            let reply = smtp
                .send_raw(&envelope, probe.text.as_bytes())
                .map_err(|e| format!("the SMTP server at {} refused it: {e}", relay.smtp))?;
            Ok(format!(
                "{} {}",
                reply.code(),
                reply.message().collect::<Vec<_>>().join(" ")
            ))
        }
        Via::Sendmail => {
            let text = probe.text.replace("\r\n", "\n");
            lettre::SendmailTransport::new_with_command(&relay.sendmail)
                .send_raw(&envelope, text.as_bytes())
                .map_err(|e| format!("{} failed: {e}", relay.sendmail.display()))?;
            Ok("accepted".into())
        }
    }
}

/// What became of one probe: the send's answer, and (for a local mailbox) the message as
/// delivered, if it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub probe: Probe,
    pub answer: Result<String, String>,
    pub delivered: Option<String>,
}

/// Read what arrives in the mailbox after `mark` until every sent message is there or
/// `wait` has passed (I/O). Errors: the mailbox cannot be read.
pub async fn collect(
    sent: &mut [Sent],
    mailbox: &Mailbox,
    mark: &mailbox::Mark,
    wait: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let messages =
            mailbox::read_since(mailbox, mark).map_err(|e| format!("read {mailbox}: {e}"))?;
        for s in sent.iter_mut().filter(|s| s.answer.is_ok()) {
            s.delivered = mailbox::find(&messages, &s.probe.message_id);
        }
        let pending = sent
            .iter()
            .any(|s| s.answer.is_ok() && s.delivered.is_none());
        if !pending || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The results, one per probe: `selftest.not-sent`, `selftest.not-delivered`,
/// `selftest.unsigned`, the verification's findings (see [`super::verify`]), or, when
/// `mailbox` cannot be read (Err), `selftest.sent` with what to look for: info for another
/// host's address, a warning for one delivered on this server where we cannot look.
pub async fn judge(
    sent: &[Sent],
    mailbox: &Result<Mailbox, NotHere>,
    wait: Duration,
    settings: &Settings,
    auth: &Authority,
    local: &super::LocalKeys,
) -> Vec<JobResult> {
    let mut out = Vec::new();
    for s in sent {
        let subject = s.probe.subject();
        let findings = match verdict(s, mailbox, wait, settings) {
            Some(findings) => findings,
            None => {
                let (d, text) = (&s.probe.domain, s.delivered.as_deref().unwrap_or(""));
                super::verify(text, settings, d, &subject, auth, local).await
            }
        };
        out.push(JobResult {
            checked: Checked {
                check: "selftest",
                subject: subject.clone(),
                status: status(&findings),
                group: s.probe.domain.to_string(),
            },
            findings,
        });
    }
    out
}

/// What one probe shows before any signature is verified: not sent, sent elsewhere, not
/// delivered, delivered unsigned; None when it arrived signed (the signature is verified
/// next).
fn verdict(
    s: &Sent,
    mailbox: &Result<Mailbox, NotHere>,
    wait: Duration,
    settings: &Settings,
) -> Option<Vec<Finding>> {
    let subject = s.probe.subject();
    let finding = |id, severity, message: String, fix: &str| {
        vec![Finding::new(id, severity, &subject, message).fix(Some(fix.to_string()))]
    };
    Some(match (&s.answer, mailbox, &s.delivered) {
        (Err(why), _, _) => finding(
            ids::SELFTEST_NOT_SENT,
            Severity::Error,
            format!(
                "Postfix did not take the message from {}: {why}",
                s.probe.from
            ),
            "mailsetup check names a stopped Postfix (postfix.not-running); the mail log \
             says why a message was refused",
        ),
        (Ok(answer), Err(not_here), _) => finding(
            ids::SELFTEST_SENT,
            match not_here {
                NotHere::Elsewhere(_) => Severity::Info,
                // it stays on this server, where we could not look: nothing is proven
                NotHere::Unreadable(_) => Severity::Warning,
            },
            format!(
                "sent with Message-ID {} (Postfix: {answer}); {not_here}",
                s.probe.message_id
            ),
            &format!(
                "at the receiver, open the message's headers: Authentication-Results should \
                 say dkim=pass header.d={} (header.s={})",
                s.probe.domain, settings.selector
            ),
        ),
        (Ok(answer), Ok(mb), None) => finding(
            ids::SELFTEST_NOT_DELIVERED,
            Severity::Error,
            format!(
                "Postfix took the message ({answer}), but it did not reach {mb} within {} s",
                wait.as_secs()
            ),
            &format!(
                "see what holds it: postqueue -p, and the mail log for {}",
                s.probe.message_id
            ),
        ),
        (Ok(_), Ok(mb), Some(text)) if !has_signature(text) => finding(
            ids::SELFTEST_UNSIGNED,
            Severity::Error,
            format!(
                "the message arrived in {mb} without a DKIM-Signature: Postfix did not \
                 pass it through OpenDKIM, or OpenDKIM did not sign it"
            ),
            match s.probe.via {
                Via::Smtp => "mailsetup check names the cause (milter.not-configured, opendkim.*)",
                Via::Sendmail => {
                    "mailsetup check names the cause (milter.non-smtpd-missing, opendkim.*)"
                }
            },
        ),
        (Ok(_), Ok(_), Some(_)) => return None,
    })
}

fn has_signature(text: &str) -> bool {
    text.lines().take_while(|l| !l.is_empty()).any(|l| {
        l.split_once(':')
            .is_some_and(|(n, _)| n.eq_ignore_ascii_case("DKIM-Signature"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_domain_gets_a_message_both_ways_with_its_own_message_id() {
        let settings = Settings::new(
            Domain::parse("mail.example.org").unwrap(),
            vec![
                Domain::parse("example.org").unwrap(),
                Domain::parse("example.net").unwrap(),
            ],
        );
        let ps = probes(
            &settings,
            "root@localhost",
            "T1",
            "Sat, 21 Nov 2026 23:59:00 +0000",
        );
        assert_eq!(ps.len(), settings.domains.len() * 2);
        let d = &settings.domains[0];
        assert_eq!(ps[0].via, Via::Smtp);
        assert_eq!(ps[1].via, Via::Sendmail);
        assert_eq!(ps[0].message_id, format!("<selftest.T1.smtp@{d}>"));
        assert_eq!(ps[1].message_id, format!("<selftest.T1.sendmail@{d}>"));
        assert_eq!(ps[0].subject(), format!("{d} by SMTP"));
        let text = &ps[0].text;
        assert!(text.starts_with(&format!("From: postmaster@{d}\r\nTo: root@localhost\r\n")));
        assert!(text.contains("\r\nMessage-ID: <selftest.T1.smtp@"));
        assert!(text.contains("\r\nDate: Sat, 21 Nov 2026 23:59:00 +0000\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
        assert!(
            mailbox::find(
                &mailbox::mbox_messages(&format!("From x  y\n{text}")),
                &ps[0].message_id
            )
            .is_some()
        );
    }

    #[test]
    fn only_a_dkim_signature_in_the_header_counts() {
        assert!(has_signature(
            "Received: x\r\nDKIM-Signature: v=1\r\n\r\nbody"
        ));
        assert!(!has_signature(
            "Subject: x\r\n\r\nDKIM-Signature: in the body\r\n"
        ));
    }
}
