//! The identity form: hostname, IPv4, IPv6, domains, then the DKIM selector and key size,
//! SPF's `all`, the DMARC policy and report address, OpenDKIM's trusted hosts, the
//! hosting provider (pre-filled with the guess from the PTR name, [`Form::guess_provider`]),
//! whether incoming mail is SPF-checked (`inbound_spf`, on/off), and (where amavisd-new is
//! installed, [`Form::ask_signer`]) the signer: every
//! answer but the socket (the OpenDKIM step's Tab) and `allow_private_ip` (answers file
//! only). Text the operator edits (the enumerated ones also cycle with ← →), validated field
//! by field with the rule a bad value breaks: the same parsers as the answers file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::provider::Provider;
use crate::settings::Settings;
use crate::values::{
    DmarcPolicy, Domain, InetProtocols, KeyBits, MailtoUri, PUBLIC_ADDRESS_WHY, Selector, Signer,
    SpfAll, TrustedHost, parse_public_ipv4, parse_public_ipv6, private_range,
};

/// The positions of the fields after the identity (see [`more_fields`]).
const SELECTOR: usize = 4;
const KEY_BITS: usize = 5;
const SPF_ALL: usize = 6;
const DMARC_POLICY: usize = 7;
const DMARC_RUA: usize = 8;
const TRUSTED_HOSTS: usize = 9;
const PROVIDER: usize = 10;

/// The `provider` field's choices: every answers name of [`crate::provider::TABLE`].
const PROVIDERS: &[&str] = &[
    "ovh",
    "hetzner",
    "ionos",
    "aws",
    "gcp",
    "azure",
    "digitalocean",
    "linode",
    "vultr",
    "scaleway",
    "alibaba",
    "contabo",
];
const INBOUND_SPF: usize = 11;
const INBOUND_DMARC: usize = 12;
const DMARC_REJECT: usize = 13;

/// One text field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The answers-file key (`hostname`, `ipv4`, `ipv6`, `domains`).
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    /// Why the value is refused, naming the rule; `None` when valid or not yet checked.
    pub error: Option<String>,
    /// What the field takes, shown under it while it has the focus ("" for nothing).
    pub hint: &'static str,
    /// The values ← and → cycle through (empty: free text only).
    pub choices: &'static [&'static str],
}

/// The form, with the focused field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<Field>,
    pub focus: usize,
}

impl Form {
    /// Pre-filled from the answers (if any) and what the scan detected (its IPv4 only when
    /// the answers give neither address).
    pub fn new(
        settings: Option<&Settings>,
        hostname: Option<&str>,
        ipv4: Option<Ipv4Addr>,
        ipv6: Option<Ipv6Addr>,
    ) -> Form {
        let text = |v: Option<String>| v.unwrap_or_default();
        let field = |key, label, value| Field {
            key,
            label,
            value,
            error: None,
            hint: "",
            choices: &[],
        };
        Form {
            fields: [
                field(
                    "hostname",
                    "Hostname (FQDN)",
                    text(
                        settings
                            .map(|s| s.hostname.to_string())
                            .or(hostname.map(str::to_string)),
                    ),
                ),
                field(
                    "ipv4",
                    "Server IPv4 (or IPv6)",
                    // the detected IPv4 only when the answers give neither address: answers
                    // with an IPv6 alone describe an IPv6-only server
                    text(
                        settings
                            .map_or(ipv4, |s| s.ipv4.or(ipv4.filter(|_| s.ipv6.is_none())))
                            .map(|ip| ip.to_string()),
                    ),
                ),
                field(
                    "ipv6",
                    "Server IPv6 (optional)",
                    text(
                        settings
                            .and_then(|s| s.ipv6)
                            .or(ipv6)
                            .map(|ip| ip.to_string()),
                    ),
                ),
                field(
                    "domains",
                    "Domains to sign",
                    text(settings.map(|s| {
                        s.domains
                            .iter()
                            .map(Domain::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })),
                ),
            ]
            .into_iter()
            .chain(more_fields(settings))
            .collect(),
            focus: 0,
        }
    }

    /// Pre-fill the `provider` field with `guess` (from the PTR name the address has now,
    /// [`crate::provider::guess`]) when the operator left it empty; the hint says it is a
    /// guess.
    pub fn guess_provider(&mut self, guess: Provider) {
        let f = &mut self.fields[PROVIDER];
        if f.value.trim().is_empty() {
            f.value = guess.key().to_string();
            f.hint = "guessed from the PTR name this address has now; ←→ another provider, \
                      or empty it for none of these";
        }
    }

    pub fn focused(&mut self) -> &mut Field {
        let i = self.focus.min(self.fields.len() - 1);
        &mut self.fields[i]
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len();
    }

    pub fn prev(&mut self) {
        self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
    }

    /// Type into the focused field (its error is cleared).
    pub fn input(&mut self, c: char) {
        let f = self.focused();
        f.value.push(c);
        f.error = None;
    }

    pub fn backspace(&mut self) {
        let f = self.focused();
        f.value.pop();
        f.error = None;
    }

    /// ← / → on a field with choices: the previous / next one (from the first or the last
    /// when the value typed is none of them). Free-text fields ignore it.
    pub fn choose(&mut self, by: i32) {
        let f = self.focused();
        let n = f.choices.len();
        if n == 0 {
            return;
        }
        let at = f.choices.iter().position(|c| *c == f.value.trim());
        let i = match (at, by >= 0) {
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
            (None, true) => 0,
            (None, false) => n - 1,
        };
        f.value = f.choices[i].to_string();
        f.error = None;
    }

    /// Add the `signer` choice (once) at the end: the wizard asks it only where amavisd-new
    /// is installed (or the answers name it), pre-filled from `settings`.
    pub fn ask_signer(&mut self, settings: Option<&Settings>) {
        if self.fields.iter().any(|f| f.key == "signer") {
            return;
        }
        let signer = settings.map_or(Signer::Opendkim, |s| s.signer);
        self.fields.push(Field {
            key: "signer",
            label: "DKIM signer",
            value: signer.as_str().to_string(),
            error: None,
            hint: "←→ opendkim (amavisd-new's signing turned off) · amavisd-new (OpenDKIM not \
                   wired in): one program signs",
            choices: &["opendkim", "amavisd-new"],
        });
    }

    /// Validate every field; on success, `base` (or defaults) with these values. On failure
    /// each bad field carries its error and the focus moves to the first one.
    ///
    /// The addresses are refused in a private, CGNAT, documentation or benchmarking range
    /// (`values::private_range`) unless `base` says `allow_private_ip` (the form has no such
    /// field; the flag comes from the answers file and is kept). Either address alone is
    /// enough (an IPv6-only server leaves the IPv4 empty); with neither, the IPv4 field says so.
    pub fn settings(&mut self, base: Option<&Settings>) -> Option<Settings> {
        let allow = base.is_some_and(|b| b.allow_private_ip);
        let hostname = self.check(0, |v| Domain::parse(v).map_err(|r| r.to_string()));
        let ipv4 = self.check(1, |v| {
            if v.is_empty() {
                return Ok(None);
            }
            let ip = parse_public_ipv4(v).map_err(|r| r.to_string())?;
            public(ip.into(), allow)?;
            Ok(Some(ip))
        });
        let ipv6 = self.check(2, |v| {
            if v.is_empty() {
                return Ok(None);
            }
            let ip = parse_public_ipv6(v).map_err(|r| r.to_string())?;
            public(ip.into(), allow)?;
            Ok(Some(ip))
        });
        if let (Some(None), Some(None)) = (ipv4, ipv6) {
            self.fields[1].error = Some(NO_ADDRESS.into());
        }
        let domains = self.check(3, parse_domains);
        // the answers' Ed25519 key (not in the form) keeps its own selector
        let ed25519 = base.and_then(|b| b.ed25519.clone());
        let selector = self.check(SELECTOR, |v| {
            let s = Selector::parse(v).map_err(|r| r.to_string())?;
            match &ed25519 {
                Some(ed) if ed.as_str().eq_ignore_ascii_case(s.as_str()) => Err(format!(
                    "{s} is the answers' ed25519_selector: the RSA key needs a selector of its own"
                )),
                _ => Ok(s),
            }
        });
        let key_bits = self.check(KEY_BITS, parse_key_bits);
        let spf_all = self.check(SPF_ALL, |v| SpfAll::parse(v).map_err(|r| r.to_string()));
        let dmarc_policy = self.check(DMARC_POLICY, |v| {
            DmarcPolicy::parse(v).map_err(|r| r.to_string())
        });
        let dmarc_rua = self.check(DMARC_RUA, |v| {
            if v.is_empty() {
                return Ok(None);
            }
            MailtoUri::parse(v).map(Some).map_err(|r| r.to_string())
        });
        let trusted_hosts = self.check(TRUSTED_HOSTS, parse_trusted_hosts);
        let provider = self.check(PROVIDER, |v| {
            if v.is_empty() {
                return Ok(None);
            }
            Provider::parse(v).map(Some).map_err(|r| r.to_string())
        });
        let inbound_spf = self.check(INBOUND_SPF, parse_on_off);
        let signer = match self.fields.iter().position(|f| f.key == "signer") {
            Some(i) => self.check(i, |v| Signer::parse(v).map_err(|r| r.to_string())),
            None => Some(base.map_or(Signer::Opendkim, |b| b.signer)),
        };
        let inbound_dmarc = self.check(INBOUND_DMARC, parse_on_off);
        let dmarc_reject = self.check(DMARC_REJECT, |v| {
            let reject = parse_on_off(v)?;
            if reject && inbound_dmarc == Some(false) {
                return Err(
                    "rejecting DMARC failures needs OpenDMARC: turn inbound_dmarc on, or \
                     this off"
                        .into(),
                );
            }
            Ok(reject)
        });
        if let Some(i) = self.fields.iter().position(|f| f.error.is_some()) {
            self.focus = i;
            return None;
        }
        let (hostname, ipv4, ipv6, domains) = (hostname?, ipv4?, ipv6?, domains?);
        let mut s = base
            .cloned()
            .unwrap_or_else(|| Settings::new(hostname.clone(), domains.clone()));
        // the default again when the IPv6 changed, or when IPv4 only lost its IPv4
        let v4_lost = ipv4.is_none() && s.inet_protocols == InetProtocols::Ipv4;
        if base.is_none_or(|b| b.ipv6 != ipv6) || v4_lost {
            s.inet_protocols = Settings::default_inet_protocols(ipv4, ipv6);
        }
        s.hostname = hostname;
        s.ipv4 = ipv4;
        s.ipv6 = ipv6;
        s.domains = domains;
        s.selector = selector?;
        s.key_bits = key_bits?;
        s.spf_all = spf_all?;
        s.dmarc_policy = dmarc_policy?;
        s.dmarc_rua = dmarc_rua?;
        s.trusted_hosts = trusted_hosts?;
        s.provider = provider?;
        s.inbound_spf = inbound_spf?;
        s.signer = signer?;
        s.inbound_dmarc = inbound_dmarc?;
        s.dmarc_reject_failures = dmarc_reject?;
        Some(s)
    }

    fn check<T>(&mut self, i: usize, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let f = &mut self.fields[i];
        match parse(f.value.trim()) {
            Ok(v) => {
                f.error = None;
                Some(v)
            }
            Err(e) => {
                f.error = Some(format!("{}: {e}", f.key));
                None
            }
        }
    }
}

/// The IPv4 field's error when neither address is given.
const NO_ADDRESS: &str = "ipv4: give this server's public IPv4, its IPv6, or both: at least one \
     address is needed (the SPF, A/AAAA and PTR records name it)";

/// The fields after the identity, pre-filled from `settings`, else with the answers file's
/// defaults (those of [`Settings::new`]).
fn more_fields(settings: Option<&Settings>) -> Vec<Field> {
    let text = |key, label, value, hint| Field {
        key,
        label,
        value,
        error: None,
        hint,
        choices: &[],
    };
    let choice = |key, label, value, hint, choices| Field {
        choices,
        ..text(key, label, value, hint)
    };
    let selector = settings.map_or_else(Selector::default, |s| s.selector.clone());
    let key_bits = settings.map_or(KeyBits::B2048, |s| s.key_bits);
    let spf_all = settings.map_or(SpfAll::SoftFail, |s| s.spf_all);
    let dmarc_policy = settings.map_or(DmarcPolicy::None, |s| s.dmarc_policy);
    let rua = settings.and_then(|s| s.dmarc_rua.as_ref());
    let trusted =
        settings.map_or_else(Settings::default_trusted_hosts, |s| s.trusted_hosts.clone());
    let inbound_spf = settings.is_some_and(|s| s.inbound_spf);
    let inbound_dmarc = settings.is_some_and(|s| s.inbound_dmarc);
    let dmarc_reject = settings.is_some_and(|s| s.dmarc_reject_failures);
    vec![
        text(
            "selector",
            "DKIM selector",
            selector.to_string(),
            "the key's name in DNS: <selector>._domainkey.<domain>; one label, e.g. mail",
        ),
        choice(
            "key_bits",
            "DKIM key size (bits)",
            key_bits.bits().to_string(),
            "←→ 1024 · 2048 · 3072 · 4096 (RFC 8301: 2048 recommended; 1024 is weak)",
            &["1024", "2048", "3072", "4096"],
        ),
        choice(
            "spf_all",
            "SPF all (other hosts)",
            spf_all.as_str().to_string(),
            "←→ ~all soft fail (accepted, marked) · -all fail (rejected) (RFC 7208 §5.1)",
            &["~all", "-all"],
        ),
        choice(
            "dmarc_policy",
            "DMARC policy",
            dmarc_policy.as_str().to_string(),
            "←→ none · quarantine · reject (RFC 7489 §6.3): start at none, raise it later",
            &["none", "quarantine", "reject"],
        ),
        text(
            "dmarc_rua",
            "DMARC rua (optional)",
            rua.map(ToString::to_string).unwrap_or_default(),
            "where aggregate reports go, e.g. mailto:postmaster@example.org; empty: none",
        ),
        text(
            "trusted_hosts",
            "Trusted hosts",
            trusted
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            "hosts whose mail OpenDKIM signs: IPs, networks (CIDR), names, with commas",
        ),
        choice(
            "provider",
            "Hosting provider",
            settings
                .and_then(|s| s.provider)
                .map(|p| p.key().to_string())
                .unwrap_or_default(),
            "←→ whose reverse-DNS (PTR) and port-25 steps to show; empty: none of these",
            PROVIDERS,
        ),
        choice(
            "inbound_spf",
            "Inbound SPF check",
            if inbound_spf { "on" } else { "off" }.to_string(),
            "←→ off · on: reject incoming mail whose sender's SPF fails (policyd-spf; \
             apt-get install postfix-policyd-spf-python)",
            &["off", "on"],
        ),
        choice(
            "inbound_dmarc",
            "Inbound DMARC",
            if inbound_dmarc { "on" } else { "off" }.to_string(),
            "←→ off · on: OpenDMARC judges incoming mail by its sender's DMARC policy \
             (RFC 7489 §6.6)",
            &["off", "on"],
        ),
        choice(
            "dmarc_reject_failures",
            "Reject DMARC failures",
            if dmarc_reject { "on" } else { "off" }.to_string(),
            "←→ off: only mark (Authentication-Results) · on: reject mail failing a \
             p=reject policy (needs inbound DMARC)",
            &["off", "on"],
        ),
    ]
}

/// `inbound_spf`, `inbound_dmarc`, `dmarc_reject_failures` as the form shows them: `on` / `off` (also `true` / `false`, `yes` / `no`).
fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("{text:?} is neither on nor off")),
    }
}

/// `key_bits` as typed. The answers file holds a TOML integer; text that is no number
/// breaks the same rule ([`KeyBits::from_bits`]).
fn parse_key_bits(text: &str) -> Result<KeyBits, String> {
    KeyBits::from_bits(text.parse().unwrap_or(0)).map_err(|r| r.to_string())
}

/// `127.0.0.1, ::1, localhost` (commas or spaces), each entry as the answers file's
/// `trusted_hosts[i]` ([`TrustedHost::parse`]), no duplicates (compared canonically, so
/// `::ffff:192.0.2.1` repeats `192.0.2.1`). Empty is an empty list, as `trusted_hosts = []`.
fn parse_trusted_hosts(text: &str) -> Result<Vec<TrustedHost>, String> {
    let mut out: Vec<TrustedHost> = Vec::new();
    for word in text.split([',', ' ']).filter(|w| !w.is_empty()) {
        let host = TrustedHost::parse(word)
            .map_err(|r| format!("{word:?} is not a valid trusted host: {r}"))?;
        if out.contains(&host) {
            return Err(format!("{host} is listed twice"));
        }
        out.push(host);
    }
    Ok(out)
}

/// Refuses an address in a private-use range unless `allow` (see [`Form::settings`]).
fn public(ip: IpAddr, allow: bool) -> Result<(), String> {
    match private_range(ip) {
        Some(range) if !allow => Err(format!(
            "{range}; {PUBLIC_ADDRESS_WHY}. Give the public address, or set \
             allow_private_ip = true in the answers file for a lab or NAT set-up you publish \
             yourself"
        )),
        _ => Ok(()),
    }
}

/// `a.example, b.example` (commas or spaces): at least one, no duplicates.
fn parse_domains(text: &str) -> Result<Vec<Domain>, String> {
    let mut out: Vec<Domain> = Vec::new();
    for word in text.split([',', ' ']).filter(|w| !w.is_empty()) {
        let d = Domain::parse(word).map_err(|r| r.to_string())?;
        if out.contains(&d) {
            return Err(format!("{d} is listed twice"));
        }
        out.push(d);
    }
    if out.is_empty() {
        return Err("at least one domain is needed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> Form {
        let mut f = Form::new(
            None,
            Some("mail.example.org"),
            Some("192.0.2.25".parse().unwrap()),
            None,
        );
        f.focus = 3;
        for c in "example.org, example.net".chars() {
            f.input(c);
        }
        f
    }

    /// Answers that allow the documentation addresses these tests use.
    fn lab() -> Settings {
        let mut s = Settings::new(
            Domain::parse("mail.example.org").unwrap(),
            vec![Domain::parse("example.org").unwrap()],
        );
        s.allow_private_ip = true;
        s
    }

    #[test]
    fn a_filled_form_gives_settings() {
        let mut f = filled();
        let s = f.settings(Some(&lab())).expect("valid");
        assert_eq!(s.hostname.as_str(), "mail.example.org");
        assert_eq!(s.ipv4, Some("192.0.2.25".parse().unwrap()));
        let domains: Vec<&str> = s.domains.iter().map(Domain::as_str).collect();
        assert_eq!(domains, ["example.org", "example.net"]);
        assert_eq!(s.inet_protocols.as_str(), "ipv4", "no IPv6 given");
    }

    #[test]
    fn bad_values_name_the_field_and_the_rule_and_take_the_focus() {
        let mut f = filled();
        f.fields[1].value = "127.0.0.1".into();
        f.fields[3].value = "example.org example.org".into();
        assert!(f.settings(None).is_none());
        assert_eq!(f.focus, 1);
        let ip = f.fields[1].error.as_deref().unwrap();
        assert!(ip.starts_with("ipv4: "), "{ip}");
        assert!(ip.contains("loopback") && ip.contains("RFC 1122"), "{ip}");
        assert!(
            f.fields[3]
                .error
                .as_deref()
                .unwrap()
                .contains("listed twice")
        );
        assert!(f.fields[0].error.is_none());
        f.input('0');
        assert!(
            f.fields[1].error.is_none(),
            "typing clears the field's error"
        );
    }

    #[test]
    fn focus_wraps_both_ways() {
        let mut f = filled();
        f.focus = 0;
        f.prev();
        assert_eq!(f.focus, DMARC_REJECT, "the last field");
        f.next();
        assert_eq!(f.focus, 0);
    }

    #[test]
    fn answers_prefill_and_keep_their_other_settings() {
        let mut base = Settings::new(
            Domain::parse("mx.example.org").unwrap(),
            vec![Domain::parse("example.org").unwrap()],
        );
        base.selector = crate::values::Selector::parse("s2026").unwrap();
        base.ipv4 = Some("192.0.2.7".parse().unwrap());
        base.allow_private_ip = true; // a documentation address
        let mut f = Form::new(Some(&base), Some("ignored.example"), None, None);
        assert_eq!(f.fields[0].value, "mx.example.org");
        assert_eq!(f.fields[1].value, "192.0.2.7");
        let s = f.settings(Some(&base)).unwrap();
        assert_eq!(s.selector.as_str(), "s2026");
        assert!(s.allow_private_ip, "the answers' flag is kept");
    }

    /// The answers' Ed25519 key is not in the form: it is kept, and the RSA selector may not
    /// take its name (the answers would refuse it).
    #[test]
    fn the_ed25519_selector_is_kept_and_not_taken() {
        let mut base = Settings::new(
            Domain::parse("mx.example.org").unwrap(),
            vec![Domain::parse("example.org").unwrap()],
        );
        base.ipv4 = Some("192.0.2.7".parse().unwrap());
        base.allow_private_ip = true;
        base.ed25519 = Some(crate::values::Selector::parse("ed25519").unwrap());
        let mut f = Form::new(Some(&base), None, None, None);
        let s = f.settings(Some(&base)).unwrap();
        assert_eq!(s.ed25519, base.ed25519);
        f.fields[SELECTOR].value = "ED25519".into();
        assert_eq!(f.settings(Some(&base)), None);
        let error = f.fields[SELECTOR].error.clone().unwrap();
        assert!(error.contains("ed25519_selector"), "{error}");
        assert_eq!(f.focus, SELECTOR);
    }

    /// Private, CGNAT and documentation addresses are refused, naming the range, unless the
    /// answers the form started from allow them; the flag is kept either way.
    #[test]
    fn private_addresses_need_the_answers_flag() {
        let mut f = filled();
        f.fields[1].value = "10.0.0.5".into();
        f.fields[2].value = "fd00::5".into();
        assert!(f.settings(None).is_none());
        assert_eq!(f.focus, 1);
        let v4 = f.fields[1].error.as_deref().unwrap();
        assert!(
            v4.starts_with("ipv4: 10.0.0.0/8 is a private range (RFC 1918); receivers see"),
            "{v4}"
        );
        assert!(v4.contains("allow_private_ip = true"), "{v4}");
        let v6 = f.fields[2].error.as_deref().unwrap();
        assert!(
            v6.starts_with("ipv6: fc00::/7 is a unique local range (RFC 4193)"),
            "{v6}"
        );
        // "192.0.2.25" from filled() is a documentation address: refused without a base.
        let mut f = filled();
        assert!(f.settings(None).is_none());
        assert!(f.fields[1].error.as_deref().unwrap().contains("RFC 5737"));
        let mut base = lab();
        base.allow_private_ip = false;
        assert!(f.settings(Some(&base)).is_none(), "the flag is off");
        let s = f.settings(Some(&lab())).expect("allowed by the answers");
        assert!(s.allow_private_ip);
        assert_eq!(s.ipv4, Some("192.0.2.25".parse().unwrap()));
    }

    /// An IPv6-only server leaves the IPv4 empty: `inet_protocols` becomes ipv6.
    #[test]
    fn an_ipv6_alone_is_enough() {
        let mut f = filled();
        f.fields[1].value.clear();
        f.fields[2].value = "2001:db8::25".into();
        let s = f.settings(Some(&lab())).expect("valid");
        assert_eq!(s.ipv4, None);
        assert_eq!(s.ipv6, Some("2001:db8::25".parse().unwrap()));
        assert_eq!(s.inet_protocols, InetProtocols::Ipv6);
        // answers with both and "ipv4": the IPv4 cleared, IPv4 only goes too
        let mut base = lab();
        base.ipv4 = Some("192.0.2.25".parse().unwrap());
        base.ipv6 = s.ipv6;
        base.inet_protocols = InetProtocols::Ipv4;
        let s = f.settings(Some(&base)).expect("valid");
        assert_eq!(s.inet_protocols, InetProtocols::Ipv6);
        // both given: all
        f.fields[1].value = "192.0.2.25".into();
        let s = f.settings(Some(&lab())).expect("valid");
        assert_eq!(s.inet_protocols, InetProtocols::All);
    }

    #[test]
    fn neither_address_is_refused_on_the_ipv4_field_naming_the_rule() {
        let mut f = filled();
        f.fields[1].value.clear();
        f.fields[2].value.clear();
        f.focus = 0;
        assert!(f.settings(Some(&lab())).is_none());
        assert_eq!(f.focus, 1);
        let e = f.fields[1].error.as_deref().unwrap();
        assert!(e.starts_with("ipv4: "), "{e}");
        assert!(e.contains("IPv4, its IPv6, or both"), "{e}");
        assert!(f.fields[2].error.is_none());
    }

    #[test]
    fn answers_with_an_ipv6_alone_are_not_given_the_detected_ipv4() {
        let mut base = lab();
        base.ipv6 = Some("2001:db8::25".parse().unwrap());
        let detected = Some("198.51.100.7".parse().unwrap());
        let f = Form::new(Some(&base), None, detected, None);
        assert_eq!(f.fields[1].value, "");
        assert_eq!(f.fields[2].value, "2001:db8::25");
        let f = Form::new(Some(&lab()), None, detected, None);
        assert_eq!(f.fields[1].value, "198.51.100.7", "neither given: detected");
    }
}

#[cfg(test)]
#[path = "form_answers_tests.rs"]
mod answers_tests;
