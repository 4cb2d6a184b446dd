//! The held-out style sweep over the DNS finding ids (issue 12): for every id that `check`
//! reports about DNS, a [`Case`] breaks one thing in a healthy [`World`] so that the real
//! binary (`check --json`, on a tree `apply --yes` set up) reports it; then the finding's
//! printed `fix` is followed the way an operator follows it ([`follow`]: the record pasted
//! into the provider's panel, the advice done as literally as it reads), and `check` runs
//! again: the id must be gone, and no error-severity finding (id and subject) may be there
//! that was not there before. [`sweep_every_finding_id_is_swept_or_excused`] keeps the table
//! complete: an id with no case here, not one of the local ids (`sweep_local.rs` sweeps
//! those) and not excused with its reason fails it.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use mailsetup::check::ids;

use crate::support::dns_server::zone;
use crate::support::follow::{ANSWERS_IN_TREE, Following, Found, answers_path, check, follow};
use crate::support::scenario::fixture_zones_keys;
use crate::support::world::World;
use crate::support::zonefile::{Rr, Zone};
use crate::support::{ANSWERS, Tree};

/// The server's IPv6 address in the dual-stack and IPv6-only bases.
const V6: &str = "2001:db8::10";

/// Local ids, by prefix: this server's files and daemons, swept by `tests/it/sweep_local.rs`
/// (and `tests/e2e/run.sh`); `local.unreadable` (a file this user may not read); and the
/// selftest's, which asks OpenDKIM, not the zones.
pub(crate) const LOCAL: &[&str] = &[
    "milter.",
    "opendkim.",
    "opendmarc.",
    "postfix.",
    "signer.",
    "local.",
    "selftest.",
    "spf-policy.",
    "tls.",
];

/// DNS ids no case produces, with the reason.
const EXCUSED: &[(&str, &str)] = &[
    (
        ids::DKIM_ROTATION_PENDING,
        "a rotation in progress (its state on disk), not a record a fix publishes: \
         `mailsetup rotate` clears it once every server serves the new record; \
         tests/it/rotate.rs produces it with a lagging server",
    ),
    (
        ids::DKIM_NO_SELECTOR,
        "only the remote check (`check DOMAIN`, no answers) reports it, an info no record \
         clears; tests/it/remote.rs produces it",
    ),
    (
        ids::RBL_UNKNOWN,
        "\"could not ask\": a list refused the query or did not answer; nothing in the zones \
         is wrong, so no published record or removal clears it (its fix is to ask from \
         another resolver)",
    ),
    (
        ids::DNS_UNVERIFIABLE,
        "\"could not ask\": a lookup timed out, was refused or failed; it says nothing about \
         the records, so no change to them clears it (tests/it/check.rs covers it)",
    ),
    (
        ids::SMTP_PORT25_BLOCKED,
        "this machine's network, not the zones: no record clears it, and the sweep's `check` \
         runs on a --root tree without a --port25-* option, so no probe runs; \
         tests/it/port25.rs produces it against a closed loopback port",
    ),
    (
        ids::MTA_STS_MISSING,
        "the sweep's bases do not set mta_sts (opt-in, absent from the fixture answers); \
         tests/it/mta_sts.rs produces it against the in-process DNS server, the e2e against BIND",
    ),
    (
        ids::MTA_STS_SYNTAX,
        "as mta-sts.missing: tests/it/mta_sts.rs, the e2e",
    ),
    (
        ids::MTA_STS_MULTIPLE,
        "as mta-sts.missing: tests/it/mta_sts.rs",
    ),
    (
        ids::MTA_STS_ID_STALE,
        "as mta-sts.missing: tests/it/mta_sts.rs",
    ),
    (
        ids::MTA_STS_POLICY_UNREACHABLE,
        "the HTTPS fetch of the policy is not a DNS check and needs an HTTPS server; \
         tests/it/mta_sts.rs serves the policy on loopback with a test CA",
    ),
    (ids::MTA_STS_POLICY_SYNTAX, "as mta-sts.policy-unreachable"),
    (
        ids::MTA_STS_POLICY_MISMATCH,
        "as mta-sts.policy-unreachable",
    ),
    (
        ids::TLS_RPT_MISSING,
        "the sweep's bases do not set tls_rpt_rua; tests/it/mta_sts.rs, the e2e",
    ),
    (ids::TLS_RPT_SYNTAX, "as tls-rpt.missing"),
    (ids::TLS_RPT_MULTIPLE, "as tls-rpt.missing"),
    (
        ids::SMTP_PORT25_UNKNOWN,
        "\"could not ask\": the port-25 target did not resolve; tests/it/port25.rs covers it",
    ),
];

/// Which healthy world (and tree) a case starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// `tests/fixtures/answers.toml` with 2048-bit keys: mail.example.org at 192.0.2.10,
    /// example.org and example.net, `inet_protocols = "ipv4"`; the zones of
    /// [`fixture_zones_keys`] with the tree's keys.
    V4,
    /// As [`Base::V4`] with `ipv6 = 2001:db8::10` and `inet_protocols = "all"`: the AAAA
    /// record, SPF with `ip6:`, the IPv6 PTR.
    DualStack,
    /// As [`Base::V4`] with `ipv6 = 2001:db8::10` instead of the IPv4 address
    /// (`inet_protocols = "ipv6"`): the AAAA record instead of the A, SPF with `ip6:` only,
    /// the IPv6 PTR.
    V6Only,
    /// As [`Base::V4`] with the fixture's 1024-bit keys, published.
    Weak,
}

/// The tree's public keys (`p=`), per domain.
#[derive(Debug, Clone)]
struct Keys {
    org: String,
    net: String,
}

/// One sweep case: what breaks, from which base, and which alternative of the fix to follow.
struct Case {
    id: &'static str,
    what: &'static str,
    base: Base,
    /// The alternative of the fix to follow; 0 is the first.
    alternative: usize,
    /// Following the fix writes the tree (the answers, a file, `mailsetup apply`): the case
    /// gets its own copy of it.
    writes: bool,
    breaks: fn(&mut World, &Keys),
}

fn case(id: &'static str, what: &'static str, base: Base, breaks: fn(&mut World, &Keys)) -> Case {
    Case {
        id,
        what,
        base,
        alternative: 0,
        writes: false,
        breaks,
    }
}

impl Case {
    fn alternative(mut self, n: usize) -> Case {
        self.alternative = n;
        self
    }

    fn writes(mut self) -> Case {
        self.writes = true;
        self
    }
}

const ORG: &str = "example.org";
const DKIM: &str = "mail._domainkey.example.org";
const DMARC: &str = "_dmarc.example.org";
const HOST: &str = "mail.example.org";
const REVERSE: &str = "2.0.192.in-addr.arpa";
const REVERSE6: &str = "8.b.d.0.1.0.0.2.ip6.arpa";

/// The records at `owner` of type `rtype` whose value starts with `kind` (any when empty)
/// replaced by `values`, as records of that type.
fn replace(w: &mut World, owner: &str, rtype: &str, kind: &str, values: &[&str]) {
    w.edit_at(owner, |z| {
        let kind = kind.to_ascii_lowercase();
        z.remove(|r| {
            r.owner == owner
                && r.rtype == rtype
                && r.shown().to_ascii_lowercase().starts_with(&kind)
        });
        for v in values {
            z.add(if rtype == "TXT" {
                Rr::txt(owner, v)
            } else {
                Rr {
                    owner: owner.into(),
                    rtype: rtype.into(),
                    rdata: v.split_whitespace().map(String::from).collect(),
                }
            });
        }
    });
}

fn dkim(w: &mut World, values: &[&str]) {
    replace(w, DKIM, "TXT", "", values);
}

fn spf(w: &mut World, values: &[&str]) {
    replace(w, ORG, "TXT", "v=spf1", values);
}

fn dmarc(w: &mut World, values: &[&str]) {
    replace(w, DMARC, "TXT", "", values);
}

/// Add a zone-file line (relative to `origin`) to that zone.
fn add(w: &mut World, origin: &str, line: &str) {
    w.edit(origin, |z| z.add_line(line));
}

/// ns2.example.org, the machine 127.0.0.2, listed as a nameserver of example.org (with its
/// address record when `address`); it serves nothing yet.
fn second_ns(w: &mut World, address: bool) {
    w.machines
        .insert("ns2.example.org".into(), "127.0.0.2".parse().unwrap());
    add(w, ORG, "@ IN NS ns2.example.org.");
    if address {
        add(w, ORG, "ns2 IN A 127.0.0.2");
    }
}

/// The reverse name of the dual-stack base's IPv6 address, relative to [`REVERSE6`].
fn v6_ptr_owner() -> String {
    let ip: IpAddr = V6.parse().unwrap();
    let name = mailsetup::dns::reverse_name(ip);
    name.strip_suffix(&format!(".{REVERSE6}"))
        .unwrap()
        .to_string()
}

/// The blocklist `list` lists `ip` (as Spamhaus's SBL does: 127.0.0.2).
fn list(w: &mut World, list: &str, ip: &str) {
    let reverse = mailsetup::dns::reverse_name(ip.parse().unwrap());
    let labels = reverse
        .strip_suffix(".in-addr.arpa")
        .or_else(|| reverse.strip_suffix(".ip6.arpa"))
        .unwrap();
    let owner = format!("{labels}.{list}");
    w.edit(list, |z| {
        z.add(Rr {
            owner,
            rtype: "A".into(),
            rdata: vec!["127.0.0.2".into()],
        })
    });
}

/// Every case: one thing broken each.
fn cases() -> Vec<Case> {
    use Base::*;
    vec![
        // DKIM
        case(
            ids::DKIM_MISSING,
            "no record at the selector",
            V4,
            |w, _| dkim(w, &[]),
        ),
        case(ids::DKIM_SYNTAX, "no p= tag", V4, |w, _| {
            dkim(w, &["v=DKIM1; k=rsa"])
        }),
        case(ids::DKIM_SYNTAX, "v=DKIM2", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM2; k=rsa; p={}", k.org)])
        }),
        case(
            ids::DKIM_SYNTAX,
            "two records at the selector",
            V4,
            |w, k| {
                dkim(
                    w,
                    &[
                        &format!("v=DKIM1; k=rsa; p={}", k.org),
                        "v=DKIM1; k=rsa; p=QUJD",
                    ],
                )
            },
        ),
        case(
            ids::DKIM_KEY_MISMATCH,
            "another domain's key",
            V4,
            |w, k| dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", k.net)]),
        ),
        case(ids::DKIM_KEY_MISMATCH, "revoked (empty p=)", V4, |w, _| {
            dkim(w, &["v=DKIM1; k=rsa; p="])
        }),
        case(ids::DKIM_PASTE_ERROR, "quotes pasted inside", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa; p=\"{}\"", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "parentheses pasted", V4, |w, k| {
            dkim(w, &[&format!("( v=DKIM1; k=rsa; p={} )", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "h=rsa-sha256", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; h=rsa-sha256; k=rsa; p={}", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "k=rsa-sha256", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa-sha256; p={}", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "key cut at 250", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", &k.org[..250])])
        }),
        case(
            ids::DKIM_PASTE_ERROR,
            "owner and type pasted",
            V4,
            |w, k| {
                dkim(
                    w,
                    &[&format!(
                        "mail._domainkey IN TXT v=DKIM1; k=rsa; p={}",
                        k.org
                    )],
                )
            },
        ),
        case(ids::DKIM_PASTE_ERROR, "missing ; before p=", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa p={}", k.org)])
        }),
        case(
            ids::DKIM_PASTE_ERROR,
            "space inside p= (warning)",
            V4,
            |w, k| {
                let (a, b) = k.org.split_at(200);
                dkim(w, &[&format!("v=DKIM1; k=rsa; p={a} {b}")])
            },
        ),
        case(
            ids::DKIM_PASTE_ERROR,
            "published under the doubled zone name",
            V4,
            |w, k| {
                dkim(w, &[]);
                let doubled = format!("{DKIM}.{ORG}");
                let value = format!("v=DKIM1; k=rsa; p={}", k.org);
                w.edit(ORG, |z| z.add(Rr::txt(&doubled, &value)));
            },
        ),
        // the break is the tree's: 1024-bit keys, published as they are
        case(ids::DKIM_WEAK_KEY, "1024-bit keys", Weak, |_, _| {}).writes(),
        // SPF
        case(ids::SPF_MISSING, "no v=spf1 record", V4, |w, _| spf(w, &[])),
        case(ids::SPF_MULTIPLE, "two v=spf1 records", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.10 -all", "v=spf1 mx -all"])
        }),
        case(ids::SPF_SYNTAX, "ip4:192.0.2.300", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.300 -all"])
        }),
        case(
            ids::SPF_IP_NOT_PERMITTED,
            "another IPv4 address",
            V4,
            |w, _| spf(w, &["v=spf1 ip4:192.0.2.99 -all"]),
        ),
        case(
            ids::SPF_IP_NOT_PERMITTED,
            "no ip6: for the IPv6 address",
            DualStack,
            |w, _| spf(w, &["v=spf1 ip4:192.0.2.10 -all"]),
        ),
        case(
            ids::SPF_TOO_MANY_LOOKUPS,
            "11 lookups through nested includes",
            V4,
            |w, _| {
                let hosts: Vec<String> = (1..=9).map(|i| format!("a:h{i}.example.org")).collect();
                spf(w, &["v=spf1 ip4:192.0.2.10 include:l1.example.org -all"]);
                let l1 = "v=spf1 include:l2.example.org -all".to_string();
                let l2 = format!("v=spf1 {} -all", hosts.join(" "));
                w.edit(ORG, |z| {
                    z.add(Rr::txt("l1.example.org", &l1));
                    z.add(Rr::txt("l2.example.org", &l2));
                    for i in 1..=9 {
                        z.add_line(&format!("h{i} IN A 192.0.2.{}", 100 + i));
                    }
                });
            },
        ),
        case(
            ids::SPF_TOO_MANY_LOOKUPS,
            "an include that includes the domain again",
            V4,
            |w, _| {
                spf(w, &["v=spf1 ip4:192.0.2.10 include:l1.example.org -all"]);
                let l1 = "v=spf1 include:example.org -all";
                w.edit(ORG, |z| z.add(Rr::txt("l1.example.org", l1)));
            },
        ),
        case(
            ids::SPF_TOO_MANY_VOID_LOOKUPS,
            "three names that do not exist",
            V4,
            |w, _| {
                spf(
                    w,
                    &[
                        "v=spf1 ip4:192.0.2.10 a:gone1.example.org mx:gone2.example.org \
                       a:gone3.example.org -all",
                    ],
                )
            },
        ),
        case(ids::SPF_PERMISSIVE_ALL, "+all (error)", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.10 +all"])
        }),
        case(ids::SPF_PERMISSIVE_ALL, "?all (warning)", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.10 ?all"])
        }),
        // DMARC
        case(ids::DMARC_MISSING, "no record", V4, |w, _| dmarc(w, &[])),
        case(ids::DMARC_MULTIPLE, "two records", V4, |w, _| {
            dmarc(
                w,
                &[
                    "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org",
                    "v=DMARC1; p=none",
                ],
            )
        }),
        case(ids::DMARC_SYNTAX, "p=bogus", V4, |w, _| {
            dmarc(w, &["v=DMARC1; p=bogus"])
        }),
        case(ids::DMARC_SYNTAX, "no p= (warning)", V4, |w, _| {
            dmarc(w, &["v=DMARC1; rua=mailto:postmaster@example.org"])
        }),
        case(
            ids::DMARC_MONITOR_ONLY,
            "p=none, as mailsetup's default",
            V4,
            |w, _| dmarc(w, &["v=DMARC1; p=none; rua=mailto:postmaster@example.org"]),
        )
        .writes(),
        case(
            ids::DMARC_RUA_UNAUTHORIZED,
            "example.net reports to example.org, which does not authorise it",
            V4,
            |w, _| replace(w, "example.net._report._dmarc.example.org", "TXT", "", &[]),
        ),
        // MX
        case(ids::MX_MISSING, "no MX", V4, |w, _| {
            replace(w, ORG, "MX", "", &[])
        }),
        case(ids::MX_NOT_THIS_HOST, "another host", V4, |w, _| {
            replace(w, ORG, "MX", "", &["10 mx1.example.net."])
        }),
        case(ids::MX_NOT_THIS_HOST, "a null MX", V4, |w, _| {
            replace(w, ORG, "MX", "", &["0 ."])
        }),
        // the hostname's address
        case(ids::HOST_A_MISSING, "no A", V4, |w, _| {
            replace(w, HOST, "A", "", &[])
        }),
        case(ids::HOST_A_MISMATCH, "another IPv4 address", V4, |w, _| {
            replace(w, HOST, "A", "", &["192.0.2.99"])
        }),
        case(ids::HOST_A_MISSING, "no AAAA", DualStack, |w, _| {
            replace(w, HOST, "AAAA", "", &[])
        }),
        case(
            ids::HOST_A_MISMATCH,
            "another IPv6 address",
            DualStack,
            |w, _| replace(w, HOST, "AAAA", "", &["2001:db8::99"]),
        ),
        // PTR
        case(ids::PTR_MISSING, "no PTR", V4, |w, _| {
            replace(w, &format!("10.{REVERSE}"), "PTR", "", &[])
        }),
        case(
            ids::PTR_MISMATCH,
            "the provider's default name",
            V4,
            |w, _| {
                replace(
                    w,
                    &format!("10.{REVERSE}"),
                    "PTR",
                    "",
                    &["host-10.provider.example."],
                )
            },
        ),
        case(
            ids::PTR_MISMATCH,
            "the hostname does not resolve back",
            V4,
            |w, _| replace(w, HOST, "A", "", &["192.0.2.99"]),
        ),
        case(
            ids::IPV6_NO_PTR,
            "no IPv6 PTR: ask for one",
            DualStack,
            |w, _| replace(w, &format!("{}.{REVERSE6}", v6_ptr_owner()), "PTR", "", &[]),
        ),
        case(
            ids::IPV6_NO_PTR,
            "no IPv6 PTR: send over IPv4 only",
            DualStack,
            |w, _| replace(w, &format!("{}.{REVERSE6}", v6_ptr_owner()), "PTR", "", &[]),
        )
        .alternative(1)
        .writes(),
        // blocklists
        case(ids::RBL_LISTED, "Spamhaus ZEN", V4, |w, _| {
            add(w, "zen.spamhaus.org", "10.2.0.192 IN A 127.0.0.2")
        }),
        case(ids::RBL_LISTED, "SpamCop", V4, |w, _| {
            add(w, "bl.spamcop.net", "10.2.0.192 IN A 127.0.0.2")
        }),
        case(ids::RBL_LISTED, "Barracuda", V4, |w, _| {
            add(w, "b.barracudacentral.org", "10.2.0.192 IN A 127.0.0.2")
        }),
        case(
            ids::RBL_LISTED,
            "Spamhaus ZEN, the IPv6 address",
            DualStack,
            |w, _| list(w, "zen.spamhaus.org", V6),
        ),
        // an IPv6-only server: no IPv4 to fall back on
        case(ids::PTR_MISSING, "no IPv6 PTR", V6Only, |w, _| {
            replace(w, &format!("{}.{REVERSE6}", v6_ptr_owner()), "PTR", "", &[])
        }),
        case(
            ids::PTR_MISMATCH,
            "the provider's IPv6 name",
            V6Only,
            |w, _| {
                let owner = format!("{}.{REVERSE6}", v6_ptr_owner());
                replace(w, &owner, "PTR", "", &["host-10.provider.example."])
            },
        ),
        case(
            ids::PTR_MISMATCH,
            "the hostname does not resolve back to the IPv6 address",
            V6Only,
            |w, _| replace(w, HOST, "AAAA", "", &["2001:db8::99"]),
        ),
        case(ids::HOST_A_MISSING, "no AAAA", V6Only, |w, _| {
            replace(w, HOST, "AAAA", "", &[])
        }),
        case(
            ids::SPF_IP_NOT_PERMITTED,
            "another IPv6 address",
            V6Only,
            |w, _| spf(w, &["v=spf1 ip6:2001:db8::99 -all"]),
        ),
        case(ids::RBL_LISTED, "Spamhaus ZEN", V6Only, |w, _| {
            list(w, "zen.spamhaus.org", V6)
        }),
        // the nameservers
        case(
            ids::DNS_NS_DISAGREE,
            "a secondary still at the zone from before the DKIM record",
            V4,
            |w, k| {
                second_ns(w, true);
                w.serve(1, ORG);
                dkim(w, &[]);
                w.freeze(1, ORG);
                dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", k.org)]);
            },
        ),
        case(
            ids::DNS_NS_LAME,
            "a listed server refuses the zone",
            V4,
            |w, _| second_ns(w, true),
        ),
        case(
            ids::DNS_NS_LAME,
            "a listed server's name has no address: publish it",
            V4,
            |w, _| {
                second_ns(w, false);
                w.serve(1, ORG);
            },
        ),
        case(
            ids::DNS_NS_LAME,
            "a listed server's name has no address: unlist it",
            V4,
            |w, _| {
                second_ns(w, false);
                w.serve(1, ORG);
            },
        )
        .alternative(1),
        case(
            ids::DNS_PROPAGATING,
            "the resolver cached the zone from before the DKIM record",
            V4,
            |w, k| {
                dkim(w, &[]);
                w.cache(ORG);
                dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", k.org)]);
            },
        ),
        case(
            ids::DNS_PROPAGATING,
            "the resolver cached the SPF record before it changed",
            V4,
            |w, _| {
                spf(w, &["v=spf1 ip4:192.0.2.10 ~all"]);
                w.cache(ORG);
                spf(w, &["v=spf1 ip4:192.0.2.10 -all"]);
            },
        ),
    ]
}

/// The trees the cases check on: one per base, set up by `apply --yes`.
struct Trees {
    v4: Arc<Tree>,
    dual: Arc<Tree>,
    v6: Arc<Tree>,
    weak: Arc<Tree>,
}

impl Trees {
    fn of(&self, base: Base) -> &Arc<Tree> {
        match base {
            Base::V4 => &self.v4,
            Base::DualStack => &self.dual,
            Base::V6Only => &self.v6,
            Base::Weak => &self.weak,
        }
    }
}

/// The public key (`p=`) of `domain`'s `mail` key in `tree`.
fn key_of(tree: &Tree, domain: &str) -> String {
    let pem = tree.read(&format!("/etc/opendkim/keys/{domain}/mail.private"));
    mailsetup::keys::public_from_pem(&pem).unwrap().p
}

/// A Debian 12 tree set up by `apply --yes` with the fixture answers edited by `edit`.
fn applied(edit: impl Fn(String) -> String) -> Tree {
    let tree = Tree::debian12_fast();
    tree.write(
        ANSWERS_IN_TREE,
        &edit(std::fs::read_to_string(ANSWERS).unwrap()),
    );
    tree.run(&["apply", "--yes", "--answers", &answers_path(&tree)])
        .expect_code(0);
    tree
}

/// The healthy zones for `tree`'s keys: [`fixture_zones_keys`].
fn v4_world(tree: &Tree) -> (World, Keys) {
    let keys = Keys {
        org: key_of(tree, ORG),
        net: key_of(tree, "example.net"),
    };
    (
        World::new(&fixture_zones_keys(&keys.org, Some(&keys.net))),
        keys,
    )
}

/// [`v4_world`] for a dual-stack server: its AAAA, SPF with `ip6:` (both domains), the IPv6
/// reverse zone with its PTR.
fn dual_stack(mut w: World) -> World {
    add(&mut w, ORG, &format!("mail IN AAAA {V6}"));
    let value = format!("v=spf1 ip4:192.0.2.10 ip6:{V6} -all");
    for d in [ORG, "example.net"] {
        replace(&mut w, d, "TXT", "v=spf1", &[&value]);
    }
    let ptr = format!("{} IN PTR mail.example.org.", v6_ptr_owner());
    w.zones.push(Zone::parse(&zone(REVERSE6, &[&ptr])));
    w
}

/// [`dual_stack`] without the IPv4 address: no A record, SPF with `ip6:` only.
fn v6_only(mut w: World) -> World {
    w = dual_stack(w);
    replace(&mut w, HOST, "A", "", &[]);
    let value = format!("v=spf1 ip6:{V6} -all");
    for d in [ORG, "example.net"] {
        replace(&mut w, d, "TXT", "v=spf1", &[&value]);
    }
    w
}

/// A tree set up for `base` from the 2048-bit [`Base::V4`] tree: a copy with the answers
/// edited by `edit`, applied again (the keys stay).
fn reapplied(v4: &Tree, edit: impl Fn(String) -> String) -> Tree {
    let tree = v4.copy();
    tree.write(ANSWERS_IN_TREE, &edit(tree.read(ANSWERS_IN_TREE)));
    tree.run(&["apply", "--yes", "--answers", &answers_path(&tree)])
        .expect_code(0);
    tree
}

/// Error-severity findings as `id subject`.
fn errors(findings: &[Found]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .filter(|f| f.severity == "error")
        .map(|f| (f.id.clone(), f.subject.clone()))
        .collect()
}

fn listing(findings: &[Found]) -> String {
    findings
        .iter()
        .map(|f| format!("  {}\n", f.line()))
        .collect()
}

/// Run one case; Ok: a one-line summary; Err: what went wrong, with what it takes to see it
/// again.
async fn run_case(
    case: &Case,
    trees: &Trees,
    bases: &[(Base, World, Keys)],
) -> Result<String, String> {
    let (_, base, keys) = bases.iter().find(|(b, _, _)| *b == case.base).unwrap();
    let mut world = base.clone();
    (case.breaks)(&mut world, keys);
    let shared = trees.of(case.base);
    let tree = if case.writes {
        Arc::new(shared.copy())
    } else {
        Arc::clone(shared)
    };
    let name = format!("{} ({}, {:?} base)", case.id, case.what, case.base);
    let before = check(&tree, &world)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let targets: Vec<&Found> = before.iter().filter(|f| f.id == case.id).collect();
    if targets.is_empty() {
        return Err(format!(
            "{name}: the break does not produce it; check found:\n{}",
            listing(&before)
        ));
    }
    let mut st = Following::new(&mut world, &tree, case.writes);
    let mut followed: Vec<(String, Option<String>)> = Vec::new();
    for f in &targets {
        let key = (f.subject.clone(), f.fix.clone());
        if followed.contains(&key) {
            continue;
        }
        followed.push(key);
        follow(f, case.alternative, &mut st).await.map_err(|e| {
            format!(
                "{name}: following the fix of {} failed: {e}\nfix: {:?}\nsteps: {:#?}",
                f.line(),
                f.fix,
                st.log
            )
        })?;
    }
    let log = st.log;
    let after = check(&tree, &world)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let still: Vec<&Found> = after.iter().filter(|f| f.id == case.id).collect();
    let new: Vec<(String, String)> = errors(&after)
        .difference(&errors(&before))
        .cloned()
        .collect();
    if still.is_empty() && new.is_empty() {
        let kept: Vec<String> = after.iter().map(Found::line).collect();
        let steps: Vec<&str> = log
            .iter()
            .map(|l| l.split_once(": ").map_or(l.as_str(), |(_, a)| a))
            .collect();
        return Ok(format!(
            "{name}: cleared by {}{}",
            steps.join("; "),
            if kept.is_empty() {
                String::new()
            } else {
                format!("; left: {}", kept.join(", "))
            }
        ));
    }
    let fixes: Vec<String> = targets
        .iter()
        .map(|f| format!("  {}\n    fix: {:?}", f.line(), f.fix))
        .collect();
    Err(format!(
        "{name}: following the printed fix {}{}\nfindings before:\n{}the fixes followed:\n{}\n\
         steps: {log:#?}\nfindings after:\n{}zones after:\n{}",
        if still.is_empty() {
            String::new()
        } else {
            format!("left {} in place", case.id)
        },
        if new.is_empty() {
            String::new()
        } else {
            format!(" brought new errors {new:?}")
        },
        listing(&before),
        fixes.join("\n"),
        listing(&after),
        world
            .zones
            .iter()
            .filter(|z| !z.origin.contains("spamhaus")
                && !z.origin.contains("spamcop")
                && !z.origin.contains("barracuda"))
            .map(Zone::text)
            .collect::<String>()
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn sweep_every_dns_finding_is_cleared_by_its_printed_fix() {
    let start = Instant::now();
    let v4 = applied(|a| a.replace("key_bits = 1024", "key_bits = 2048"));
    let dual = reapplied(&v4, |a| {
        a.replace("inet_protocols = \"ipv4\"", "inet_protocols = \"all\"")
            + &format!("ipv6 = \"{V6}\"\n")
    });
    let v6 = reapplied(&v4, |a| {
        let a = a.replace("inet_protocols = \"ipv4\"", "inet_protocols = \"ipv6\"");
        let v4_line = a.lines().find(|l| l.starts_with("ipv4 = ")).unwrap();
        a.replace(v4_line, &format!("ipv6 = \"{V6}\""))
    });
    let weak = applied(|a| a);
    let (v4_base, v4_keys) = v4_world(&v4);
    let (weak_base, weak_keys) = v4_world(&weak);
    let bases = vec![
        (Base::V4, v4_base.clone(), v4_keys.clone()),
        (
            Base::DualStack,
            dual_stack(v4_base.clone()),
            v4_keys.clone(),
        ),
        (Base::V6Only, v6_only(v4_base), v4_keys),
        (Base::Weak, weak_base, weak_keys),
    ];
    let trees = Trees {
        v4: Arc::new(v4),
        dual: Arc::new(dual),
        v6: Arc::new(v6),
        weak: Arc::new(weak),
    };
    // the bases are healthy: nothing but the weak keys' warning
    for (base, world, _) in &bases {
        let found = check(trees.of(*base), world).await.unwrap();
        let bad: Vec<&Found> = found
            .iter()
            .filter(|f| f.severity != "info" && f.id != ids::DKIM_WEAK_KEY)
            .collect();
        assert!(bad.is_empty(), "{base:?} base is not healthy:\n{found:#?}");
    }
    let cases = cases();
    let results: Vec<Result<String, String>> = futures_util::stream::iter(&cases)
        .map(|case| run_case(case, &trees, &bases))
        .buffered(4)
        .collect()
        .await;
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(line) => println!("{line}"),
            Err(e) => failures.push(e),
        }
    }
    println!(
        "{} case(s), {} failed, {:.1} s",
        cases.len(),
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn sweep_every_finding_id_is_swept_or_excused() {
    let swept: BTreeSet<&str> = cases().iter().map(|c| c.id).collect();
    let local = |id: &str| LOCAL.iter().any(|l| id.starts_with(l));
    let excused = |id: &str| EXCUSED.iter().any(|(e, _)| *e == id);
    for id in ids::ALL {
        let ways = [swept.contains(id), local(id), excused(id)];
        assert!(
            ways.iter().filter(|w| **w).count() == 1,
            "{id}: needs exactly one of a DNS sweep case here, a place in the local sweep \
             (sweep_local.rs) or an excuse with its reason (swept, local, excused: {ways:?})"
        );
    }
    for (id, why) in EXCUSED {
        assert!(ids::ALL.contains(id), "{id} is excused but is no id");
        assert!(!why.is_empty());
    }
}
