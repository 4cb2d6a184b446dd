//! The wizard's steps, in order, and which part of the plan each one edits.

use crate::plan::Part;

/// One screen of the wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// What is installed, what is configured, which keys exist.
    Scan,
    /// Hostname, IPs, the domains to sign.
    Identity,
    /// `inet_protocols`, with IPv6 readiness (main.cf `myhostname` and `inet_protocols`).
    InetProtocols,
    /// One DKIM signer: amavisd-new's signing off (OpenDKIM signs), or amavisd-new signs
    /// and OpenDKIM is not wired in (answers `signer`).
    Signer,
    /// opendkim.conf, /etc/default/opendkim, the socket.
    Opendkim,
    /// main.cf milter parameters.
    Milter,
    /// KeyTable, SigningTable, TrustedHosts.
    Tables,
    /// The DKIM keys.
    Keys,
    /// Inbound SPF: the policyd-spf agent in master.cf and main.cf (answers `inbound_spf`).
    InboundSpf,
    /// OpenDMARC judges incoming mail (answers `inbound_dmarc`): opendmarc.conf, its socket,
    /// and its place after OpenDKIM in `smtpd_milters`.
    InboundDmarc,
    /// TLS both ways: main.cf's TLS parameters and the server's certificate ([`crate::tls`]).
    Tls,
    /// The DNS records to publish.
    Records,
    /// Live DNS at every authoritative server.
    Verify,
    /// What changed, backups, rollback, next steps.
    Summary,
}

impl Step {
    pub const ALL: [Step; 14] = [
        Step::Scan,
        Step::Identity,
        Step::InetProtocols,
        Step::Signer,
        Step::Opendkim,
        Step::Milter,
        Step::Tables,
        Step::Keys,
        Step::InboundSpf,
        Step::InboundDmarc,
        Step::Tls,
        Step::Records,
        Step::Verify,
        Step::Summary,
    ];

    /// The last step's number (`step N/LAST` in titles).
    pub const LAST: usize = Step::ALL.len() - 1;

    /// Its position, 0-based (the step numbers).
    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn next(self) -> Step {
        Step::ALL.get(self.index() + 1).copied().unwrap_or(self)
    }

    pub fn prev(self) -> Step {
        self.index()
            .checked_sub(1)
            .and_then(|i| Step::ALL.get(i).copied())
            .unwrap_or(self)
    }

    /// `N/M`: the step's number among the steps shown, and the last one's (the Summary);
    /// the Signer step counts only when it is shown (`signer`: amavisd-new is installed,
    /// or the answers make it the signer).
    pub fn numbered(self, signer: bool) -> String {
        let number = |s: Step| {
            Step::ALL
                .iter()
                .take(s.index() + 1)
                .filter(|t| **t != Step::Scan && (signer || **t != Step::Signer))
                .count()
        };
        format!("{}/{}", number(self), number(Step::Summary))
    }

    /// [`Step::numbered`] on this server: the Signer step counts where amavisd-new is
    /// installed or signs.
    pub fn numbered_on(
        self,
        settings: &crate::settings::Settings,
        cur: &crate::plan::Current,
    ) -> String {
        self.numbered(
            cur.amavis.installed() || settings.signer == crate::values::Signer::AmavisdNew,
        )
    }

    /// The title shown at the top.
    pub fn title(self) -> &'static str {
        if let Some(part) = self.part() {
            return part.title();
        }
        match self {
            Step::Scan => "Scan",
            Step::Identity => "Identity",
            Step::Records => "DNS records",
            Step::Verify => "Verify",
            Step::Summary => "Summary",
            // the steps with a part are titled above
            _ => "",
        }
    }

    /// What the step does and why, in one or two short sentences.
    pub fn purpose(self) -> &'static str {
        match self {
            Step::Scan => "What is on this server now. Nothing is changed here.",
            Step::Identity => {
                "The server's name and addresses, and the domains whose mail it signs."
            }
            Step::InetProtocols => {
                "Which IP versions Postfix sends over. Receivers such as Gmail reject IPv6 mail \
                 from an address without a matching PTR."
            }
            Step::Signer => {
                "One program signs outgoing mail: OpenDKIM, with amavisd-new's signing off, or \
                 amavisd-new, with OpenDKIM left out of Postfix."
            }
            Step::Opendkim => "OpenDKIM's configuration and the socket Postfix reaches it through.",
            Step::Milter => "Postfix hands every message to OpenDKIM to be signed.",
            Step::Tables => "Which key signs which domain, and which hosts are trusted.",
            Step::Keys => "One RSA key per domain, readable by OpenDKIM only.",
            Step::InboundSpf => {
                "Incoming mail checked against its sender's SPF by policyd-spf: a `fail` is \
                 rejected at RCPT, the rest gets a Received-SPF header. Off unless inbound_spf \
                 is on (Identity)."
            }
            Step::InboundDmarc => {
                "OpenDMARC judges incoming mail by its sender's DMARC policy, after OpenDKIM \
                 has checked the signature (inbound_dmarc; off: nothing to do)."
            }
            Step::Tls => {
                "TLS 1.2+ both ways, and the certificate port 25 presents: tls_cert/tls_key, \
                 else Let's Encrypt's, else Debian's snake-oil (the note says how to get one)."
            }
            Step::Records => "Publish these records at your DNS provider.",
            Step::Verify => "What the world sees, asked of every authoritative server.",
            Step::Summary => "What changed, and what to do next.",
        }
    }

    /// The plan part this step edits, if any.
    pub fn part(self) -> Option<Part> {
        match self {
            Step::InetProtocols => Some(Part::Identity),
            Step::Signer => Some(Part::Signer),
            Step::Opendkim => Some(Part::Opendkim),
            Step::Milter => Some(Part::Milter),
            Step::Tables => Some(Part::Tables),
            Step::Keys => Some(Part::Keys),
            Step::InboundSpf => Some(Part::InboundSpf),
            Step::InboundDmarc => Some(Part::InboundDmarc),
            Step::Tls => Some(Part::Tls),
            _ => None,
        }
    }

    /// The step that edits `part`.
    pub fn of_part(part: Part) -> Step {
        Step::ALL
            .into_iter()
            .find(|s| s.part() == Some(part))
            .unwrap_or(Step::Summary)
    }

    /// The step that repairs the cause of a `check` finding, for `mailsetup fix <id>`.
    pub fn for_finding(id: &str) -> Option<Step> {
        let (area, _) = id.split_once('.')?;
        Some(match (area, id) {
            (_, "ipv6.no-ptr") => Step::InetProtocols,
            (
                _,
                "opendkim.not-running"
                | "postfix.not-running"
                | "opendmarc.not-running"
                | "opendmarc.package-missing",
            ) => return None,
            ("opendmarc", _) => Step::InboundDmarc,
            // the TLS step: main.cf's TLS parameters, the certificate, the key's mode
            ("tls", _) => Step::Tls,
            (
                _,
                "postfix.config-warning"
                | "postfix.restart-pending"
                | "opendkim.config-invalid"
                | "selftest.unsigned"
                | "selftest.signed",
            ) => {
                return None;
            }
            (_, "local.unreadable") => return None,
            // the package, the operator's own service entry and order: printed instructions
            (
                _,
                "spf-policy.package-missing"
                | "spf-policy.user-missing"
                | "spf-policy.service-mismatch"
                | "spf-policy.order",
            ) => return None,
            ("spf-policy", _) => Step::InboundSpf,
            // either signer: the Signer step turns amavisd-new's signing off, or (signer =
            // "amavisd-new") brings the Milter step, which takes OpenDKIM out of main.cf
            (_, "signer.double") => Step::Signer,
            (_, "selftest.dkim-fail-published") => Step::Records,
            (_, "selftest.dkim-fail-local") => Step::Keys,
            (_, "opendkim.signing-table-no-refile") => Step::Opendkim,
            // milter.socket-mismatch too: the Milter step brings the OpenDKIM step along
            // when OpenDKIM's side differs from the answers (`Part::needs`)
            ("milter", _) => Step::Milter,
            (_, "opendkim.signing-table-missing-domain") => Step::Tables,
            ("opendkim", _) => Step::Keys,
            // a weak key changes by a rotation (`mailsetup rotate`, waiting for DNS), which
            // no step does: the fix says so; a rotation in progress is rotate's to finish
            (_, "dkim.weak-key" | "dkim.rotation-pending") => return None,
            (_, "dkim.key-mismatch") => Step::Keys,
            ("dkim" | "spf" | "dmarc" | "mx" | "host" | "ptr" | "mta-sts" | "tls-rpt", _) => {
                Step::Records
            }
            ("dns" | "rbl", _) => Step::Verify,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_walk_in_order_and_stop_at_the_ends() {
        assert_eq!(Step::Scan.prev(), Step::Scan);
        assert_eq!(Step::Summary.next(), Step::Summary);
        let mut s = Step::Scan;
        let mut seen = vec![s];
        while s.next() != s {
            s = s.next();
            seen.push(s);
        }
        assert_eq!(seen, Step::ALL);
        assert_eq!(Step::Keys.index(), 7);
        assert_eq!(Step::Signer.prev(), Step::InetProtocols);
        assert_eq!(Step::Signer.next(), Step::Opendkim);
        // numbered as the walk shows them: the Signer step only where amavisd-new is
        assert_eq!(Step::Keys.numbered(false), "6/12");
        assert_eq!(Step::Keys.numbered(true), "7/13");
        assert_eq!(Step::Signer.numbered(true), "3/13");
        assert_eq!(Step::Identity.numbered(false), "1/12");
        assert_eq!(Step::Tls.numbered(false), "9/12");
        assert_eq!(Step::Records.numbered(false), "10/12");
        assert_eq!(Step::Summary.numbered(true), "13/13");
    }

    #[test]
    fn every_part_has_exactly_one_step() {
        for part in Part::ALL {
            let steps: Vec<Step> = Step::ALL
                .into_iter()
                .filter(|s| s.part() == Some(*part))
                .collect();
            assert_eq!(steps.len(), 1, "{part:?}");
        }
    }

    #[test]
    fn findings_lead_to_the_step_that_fixes_them() {
        assert_eq!(Step::for_finding("ipv6.no-ptr"), Some(Step::InetProtocols));
        assert_eq!(Step::for_finding("dkim.key-mismatch"), Some(Step::Keys));
        assert_eq!(Step::for_finding("dkim.missing"), Some(Step::Records));
        for id in [
            "mta-sts.missing",
            "mta-sts.syntax",
            "mta-sts.multiple",
            "mta-sts.id-stale",
            "mta-sts.policy-unreachable",
            "mta-sts.policy-syntax",
            "mta-sts.policy-mismatch",
            "tls-rpt.missing",
            "tls-rpt.syntax",
            "tls-rpt.multiple",
        ] {
            assert_eq!(Step::for_finding(id), Some(Step::Records), "{id}");
        }
        assert_eq!(
            Step::for_finding("spf.ip-not-permitted"),
            Some(Step::Records)
        );
        assert_eq!(Step::for_finding("dns.ns-disagree"), Some(Step::Verify));
        assert_eq!(Step::for_finding("signer.double"), Some(Step::Signer));
        assert_eq!(Step::for_finding("tls.weak-protocol"), Some(Step::Tls));
        // the certificate checks another module makes lead there too
        assert_eq!(Step::for_finding("tls.cert-expired"), Some(Step::Tls));
        assert_eq!(Step::for_finding("nonsense"), None);
        assert_eq!(Step::for_finding("foo.bar"), None);
        // either side may be the culprit: the Milter step writes Postfix's, and brings the
        // OpenDKIM step (/etc/default/opendkim's SOCKET, opendkim.conf) along when pending
        assert_eq!(
            Step::for_finding("milter.socket-mismatch"),
            Some(Step::Milter)
        );
        assert_eq!(
            Step::for_finding("milter.socket-permission"),
            Some(Step::Milter)
        );
        // an unknown option is the operator's line: no step removes it
        assert_eq!(Step::for_finding("opendkim.config-invalid"), None);
        assert_eq!(Step::for_finding("opendkim.key-insecure"), Some(Step::Keys));
        // the Inbound SPF step adds the service and the wiring; the package, an operator's
        // own entry and order are theirs (the finding says what to do)
        assert_eq!(
            Step::for_finding("spf-policy.service-missing"),
            Some(Step::InboundSpf)
        );
        assert_eq!(
            Step::for_finding("spf-policy.not-wired"),
            Some(Step::InboundSpf)
        );
        assert_eq!(Step::for_finding("spf-policy.order"), None);
        // a stopped daemon is started, and the operator's own parameters are theirs: no step
        assert_eq!(
            Step::for_finding("opendmarc.order"),
            Some(Step::InboundDmarc)
        );
        assert_eq!(
            Step::for_finding("opendmarc.socket-mismatch"),
            Some(Step::InboundDmarc)
        );
        let commands = [
            "opendmarc.not-running",
            "opendmarc.package-missing",
            "opendkim.not-running",
            "postfix.not-running",
            "postfix.config-warning",
            "postfix.restart-pending",
            "opendkim.config-invalid",
            "selftest.unsigned",
            "selftest.signed",
            "selftest.not-sent",
            "selftest.not-delivered",
            "selftest.sent",
            "local.unreadable",
            // outbound port 25 is opened by the provider: the fix prints its procedure
            "smtp.port25-blocked",
            "smtp.port25-unknown",
            "spf-policy.package-missing",
            "spf-policy.user-missing",
            "spf-policy.service-mismatch",
            "spf-policy.order",
            // changed by `mailsetup rotate`
            "dkim.weak-key",
            "dkim.rotation-pending",
        ];
        for id in crate::check::ids::ALL {
            assert_eq!(
                Step::for_finding(id).is_some(),
                !commands.contains(id),
                "{id}"
            );
        }
    }
}
