//! Finding ids: a public contract (scripts match on them in `--json` output; the README
//! lists them). Add freely; never rename.

/// No TXT record at `<selector>._domainkey.<domain>`.
pub const DKIM_MISSING: &str = "dkim.missing";
/// The published `p=` differs from the local key's (RFC 6376 §3.6.1), or is revoked.
pub const DKIM_KEY_MISMATCH: &str = "dkim.key-mismatch";
/// The DKIM record is not a valid key record: no `p=`, `v=` not `DKIM1`, a broken
/// tag-list, or several TXT records at the selector.
pub const DKIM_SYNTAX: &str = "dkim.syntax";
/// The DKIM record is a recognisably mis-pasted version of the right one: quotes or
/// parentheses inside it, whitespace inside `p=`, `h=rsa-sha256`, a truncated key, the
/// zone-file owner pasted in, or the record published at `<name>.<zone>` (zone doubled).
pub const DKIM_PASTE_ERROR: &str = "dkim.paste-error";
/// The published RSA key is shorter than 2048 bits (RFC 8301 §3.2).
pub const DKIM_WEAK_KEY: &str = "dkim.weak-key";
/// The remote check (`check DOMAIN`) without `--selector` found a key record at none of
/// the common selectors it asks (info: selectors cannot be listed from DNS).
pub const DKIM_NO_SELECTOR: &str = "dkim.no-selector";
/// A DKIM key rotation (`mailsetup rotate`) is in progress: the new selector's record is not
/// served with the new key by every authoritative server yet (warning; the old key keeps
/// signing), or OpenDKIM signs with the new selector and the old key waits for `rotate
/// --finish` (info, with the date its record may be removed).
pub const DKIM_ROTATION_PENDING: &str = "dkim.rotation-pending";
/// No `v=spf1` TXT record at the domain (RFC 7208 §4.5).
pub const SPF_MISSING: &str = "spf.missing";
/// More than one `v=spf1` record: permerror for every receiver (RFC 7208 §4.5).
pub const SPF_MULTIPLE: &str = "spf.multiple";
/// The SPF record does not follow the RFC 7208 §12 grammar: permerror (§4.6).
pub const SPF_SYNTAX: &str = "spf.syntax";
/// SPF evaluation for the server's IPv4 (or IPv6) is not `pass`.
pub const SPF_IP_NOT_PERMITTED: &str = "spf.ip-not-permitted";
/// More than 10 DNS-querying terms across includes and redirects (RFC 7208 §4.6.4).
pub const SPF_TOO_MANY_LOOKUPS: &str = "spf.too-many-lookups";
/// More than 2 lookups that find nothing (RFC 7208 §4.6.4).
pub const SPF_TOO_MANY_VOID_LOOKUPS: &str = "spf.too-many-void-lookups";
/// `+all` or `?all`: every sender on the Internet passes or is neutral (RFC 7208 §5.1).
pub const SPF_PERMISSIVE_ALL: &str = "spf.permissive-all";
/// No `v=DMARC1` TXT record at `_dmarc.<domain>` (RFC 7489 §6.1).
pub const DMARC_MISSING: &str = "dmarc.missing";
/// More than one DMARC record: receivers apply no policy (RFC 7489 §6.6.3).
pub const DMARC_MULTIPLE: &str = "dmarc.multiple";
/// The DMARC record does not parse, or has no `p=` (RFC 7489 §6.3).
pub const DMARC_SYNTAX: &str = "dmarc.syntax";
/// `p=none`: reports only, nothing is rejected (info, with the next step).
pub const DMARC_MONITOR_ONLY: &str = "dmarc.monitor-only";
/// A `rua=` address in another domain that has not published
/// `<domain>._report._dmarc.<rua-domain>` (RFC 7489 §7.1): no reports are sent there.
pub const DMARC_RUA_UNAUTHORIZED: &str = "dmarc.rua-unauthorized";
/// The domain has no MX record.
pub const MX_MISSING: &str = "mx.missing";
/// No MX target of the domain is this host.
pub const MX_NOT_THIS_HOST: &str = "mx.not-this-host";
/// The hostname has no A (or, with an IPv6 address, no AAAA) record. The `subject` is
/// the hostname; the `Checked` line is `a` or `aaaa`.
pub const HOST_A_MISSING: &str = "host.a-missing";
/// The hostname's A (AAAA) records do not include the server's IPv4 (IPv6).
pub const HOST_A_MISMATCH: &str = "host.a-mismatch";
/// The server's IP has no PTR record.
pub const PTR_MISSING: &str = "ptr.missing";
/// The server's IP has PTR records, none of them the hostname, or the PTR name does
/// not resolve back to the IP (forward-confirmed reverse DNS, RFC 8601 §3 iprev).
pub const PTR_MISMATCH: &str = "ptr.mismatch";
/// `inet_protocols` lets Postfix send over IPv6, but the server's IPv6 address has no
/// PTR naming the hostname (receivers such as Gmail reject that mail).
pub const IPV6_NO_PTR: &str = "ipv6.no-ptr";
/// A blocklist lists one of the server's addresses.
pub const RBL_LISTED: &str = "rbl.listed";
/// A blocklist could not say (info; the `rbl` line is unknown): it refused the query
/// (127.255.255.x, e.g. through a public resolver), did not answer, or its RFC 5782 §5 test
/// entries did not behave (127.0.0.2 not listed, or 127.0.0.1 listed), so that neither its
/// "listed" nor its "not listed" can be trusted. Never reported as listed.
pub const RBL_UNKNOWN: &str = "rbl.unknown";
/// The authoritative servers of a zone serve different data (a lagging secondary).
pub const DNS_NS_DISAGREE: &str = "dns.ns-disagree";
/// A listed nameserver does not serve the zone (REFUSED, no SOA: a lame delegation),
/// or an NS name has no address.
pub const DNS_NS_LAME: &str = "dns.ns-lame";
/// Published at every authoritative server, but a recursive resolver still has an older
/// answer cached; says when every cache has expired it (info).
pub const DNS_PROPAGATING: &str = "dns.propagating";
/// OpenDKIM is not in main.cf `smtpd_milters`: mail from SMTP clients is not signed.
pub const MILTER_NOT_CONFIGURED: &str = "milter.not-configured";
/// OpenDKIM is not in `non_smtpd_milters`: mail from cron, sendmail or PHP goes out unsigned.
pub const MILTER_NON_SMTPD_MISSING: &str = "milter.non-smtpd-missing";
/// The socket OpenDKIM listens on (opendkim.conf `Socket`, overridden by
/// /etc/default/opendkim `SOCKET`) is not the one main.cf names.
pub const MILTER_SOCKET_MISMATCH: &str = "milter.socket-mismatch";
/// The socket as Postfix names it cannot be reached: it is outside the queue directory
/// while smtpd runs chrooted there, or (with `--root /`) it does not exist or refuses a
/// connection; also the second (Ed25519) OpenDKIM instance's socket.
pub const MILTER_SOCKET_UNREACHABLE: &str = "milter.socket-unreachable";
/// (With `--root /`) Postfix's user cannot open the socket: no write permission on it
/// (group membership, OpenDKIM's UMask) or no search permission on a directory above it.
pub const MILTER_SOCKET_PERMISSION: &str = "milter.socket-permission";
/// The SigningTable holds wildcard entries (`*@domain`) but opendkim.conf does not read it
/// as `refile:`: those entries never match (opendkim.conf(5) SigningTable).
pub const OPENDKIM_SIGNING_TABLE_NO_REFILE: &str = "opendkim.signing-table-no-refile";
/// A domain of the answers has no SigningTable entry: its mail is not signed.
pub const OPENDKIM_SIGNING_TABLE_MISSING_DOMAIN: &str = "opendkim.signing-table-missing-domain";
/// A KeyTable key file does not exist, or the opendkim user cannot read it.
pub const OPENDKIM_KEY_MISSING: &str = "opendkim.key-missing";
/// OpenDKIM would refuse the key as "key data is not secure": a component of its path, from
/// `/`, can be changed or the key read by someone other than root and opendkim.
pub const OPENDKIM_KEY_INSECURE: &str = "opendkim.key-insecure";
/// `opendkim -n` refuses the configuration (checked with `--root /` only).
pub const OPENDKIM_CONFIG_INVALID: &str = "opendkim.config-invalid";
/// (`inbound_dmarc`) OpenDMARC is not in main.cf `smtpd_milters`: incoming mail is not
/// judged by DMARC.
pub const OPENDMARC_NOT_CONFIGURED: &str = "opendmarc.not-configured";
/// (`inbound_dmarc`) OpenDMARC comes before OpenDKIM in `smtpd_milters`: it judges the
/// message before the signature is verified, so DKIM never counts for DMARC.
pub const OPENDMARC_ORDER: &str = "opendmarc.order";
/// (`inbound_dmarc`) /etc/opendmarc.conf does not exist: the opendmarc package is missing.
pub const OPENDMARC_PACKAGE_MISSING: &str = "opendmarc.package-missing";
/// (`inbound_dmarc`, with `--root /`) No opendmarc process runs: Postfix accepts mail
/// unjudged (milter_default_action = accept).
pub const OPENDMARC_NOT_RUNNING: &str = "opendmarc.not-running";
/// (`inbound_dmarc`) The socket OpenDMARC listens on (opendmarc.conf `Socket`, else
/// /etc/default/opendmarc `SOCKET`) is not the one main.cf names.
pub const OPENDMARC_SOCKET_MISMATCH: &str = "opendmarc.socket-mismatch";
/// (`inbound_dmarc`) OpenDMARC's socket as Postfix names it cannot be reached: outside the
/// queue directory while smtpd runs chrooted there, or (with `--root /`) it does not exist
/// or refuses a connection.
pub const OPENDMARC_SOCKET_UNREACHABLE: &str = "opendmarc.socket-unreachable";
/// (`inbound_dmarc`, with `--root /`) Postfix's user cannot open OpenDMARC's socket: no
/// write permission on it (group opendmarc, OpenDMARC's UMask) or no search permission on
/// a directory above it.
pub const OPENDMARC_SOCKET_PERMISSION: &str = "opendmarc.socket-permission";
/// `postconf -n` warns about main.cf or master.cf.
pub const POSTFIX_CONFIG_WARNING: &str = "postfix.config-warning";
/// (With `--root /`) main.cf's `inet_protocols` or `inet_interfaces` is not what the running
/// Postfix listens with: it was changed and Postfix only reloaded, which ignores both
/// (postconf(5)).
pub const POSTFIX_RESTART_PENDING: &str = "postfix.restart-pending";
/// Another signer also signs for the domains: amavisd-new with `$enable_dkim_signing`, or
/// rspamd's DKIM signing module behind a milter Postfix uses. Mail then carries two
/// signatures, and rotating one key leaves the other behind. With OpenDKIM in
/// `smtpd_milters` whatever the answers' `signer`: the Signer step turns amavisd-new's
/// signing off (`signer = "opendkim"`) or takes OpenDKIM out of main.cf (`"amavisd-new"`).
pub const SIGNER_DOUBLE: &str = "signer.double";
/// No opendkim process runs (checked with `--root /` only); with Ed25519 dual signing, also
/// the second instance (subject `opendkim-ed25519`) when its PID file names no live process.
pub const OPENDKIM_NOT_RUNNING: &str = "opendkim.not-running";
/// The Postfix master does not run (checked with `--root /` only).
pub const POSTFIX_NOT_RUNNING: &str = "postfix.not-running";
/// `selftest`: OpenDKIM added no DKIM-Signature to a test message from the domain.
pub const SELFTEST_UNSIGNED: &str = "selftest.unsigned";
/// `selftest`: signed, but the key published in DNS does not verify the signature.
pub const SELFTEST_DKIM_FAIL_PUBLISHED: &str = "selftest.dkim-fail-published";
/// `selftest`: signed with another key than the local one the KeyTable names.
pub const SELFTEST_DKIM_FAIL_LOCAL: &str = "selftest.dkim-fail-local";
/// `selftest` (info): signed, and verified against the published key (`d=`, `s=`, algorithm).
pub const SELFTEST_SIGNED: &str = "selftest.signed";
/// `selftest --via-postfix`: Postfix did not take the test message (SMTP refused it, or
/// sendmail failed).
pub const SELFTEST_NOT_SENT: &str = "selftest.not-sent";
/// `selftest --via-postfix`: Postfix took the message, but it did not reach the local
/// mailbox in time.
pub const SELFTEST_NOT_DELIVERED: &str = "selftest.not-delivered";
/// `selftest --via-postfix` (info): sent to an address that is not a local mailbox; what
/// to look for at the receiver.
pub const SELFTEST_SENT: &str = "selftest.sent";
/// A lookup failed (timeout, SERVFAIL, network): the record state is unknown.
pub const DNS_UNVERIFIABLE: &str = "dns.unverifiable";
/// A file a local check needs exists but this user may not read it (e.g. the 0750 key
/// directory, for a user who is not root): the check's line is unknown, not judged.
pub const LOCAL_UNREADABLE: &str = "local.unreadable";
/// (`check` of this host) A TCP connection from this server to port 25 of a receiving mail
/// server (by default the most preferred MX of gmail.com; `--port25-target`,
/// `--port25-domain`) was refused or timed out (5 s) while DNS worked: outbound port 25 is
/// blocked, so no mail leaves. The fix is the hosting provider's procedure
/// ([`crate::provider`]).
pub const SMTP_PORT25_BLOCKED: &str = "smtp.port25-blocked";
/// (`check` of this host) The port-25 target could not be resolved (its MX or address
/// lookup failed): the connection was not tried, the `smtp` line is unknown.
pub const SMTP_PORT25_UNKNOWN: &str = "smtp.port25-unknown";
/// (With `inbound_spf = true`) master.cf has no `policyd-spf unix` service: Postfix cannot
/// reach the SPF policy agent, and mail it asks about is deferred.
pub const SPF_POLICY_SERVICE_MISSING: &str = "spf-policy.service-missing";
/// (With `inbound_spf = true`) master.cf's `policyd-spf` service is not spawn(8) running
/// `/usr/bin/policyd-spf` as the policyd-spf user: the operator's entry, left as it is.
pub const SPF_POLICY_SERVICE_MISMATCH: &str = "spf-policy.service-mismatch";
/// (With `inbound_spf = true`) main.cf `smtpd_recipient_restrictions` does not ask the agent
/// (`check_policy_service unix:private/policyd-spf`): incoming mail is not SPF-checked.
pub const SPF_POLICY_NOT_WIRED: &str = "spf-policy.not-wired";
/// (With `inbound_spf = true`) `smtpd_recipient_restrictions` asks the agent before
/// `reject_unauth_destination`: relay attempts reach it (SMTPD_POLICY_README). The
/// operator's order: reported with how to move it, never rewritten.
pub const SPF_POLICY_ORDER: &str = "spf-policy.order";
/// (With `inbound_spf = true`) `/usr/bin/policyd-spf` does not exist: the package
/// postfix-policyd-spf-python is not installed.
pub const SPF_POLICY_PACKAGE_MISSING: &str = "spf-policy.package-missing";
/// (With `inbound_spf = true`) the system user the agent runs as, policyd-spf, does not
/// exist (the package creates it).
pub const SPF_POLICY_USER_MISSING: &str = "spf-policy.user-missing";
/// main.cf turns outbound TLS off: `smtp_tls_security_level` not set, empty or `none` (and
/// no deprecated `smtp_use_tls = yes`): mail leaves in the clear, which Gmail and Yahoo
/// refuse from bulk senders (postconf(5)).
pub const TLS_OUTBOUND_OFF: &str = "tls.outbound-off";
/// The SMTP server offers no STARTTLS: `smtpd_tls_security_level` not set, empty or `none`,
/// no certificate configured, or the certificate or key main.cf names does not exist.
pub const TLS_INBOUND_OFF: &str = "tls.inbound-off";
/// (Warning) main.cf sets `smtp_use_tls`, `smtp_enforce_tls`, `smtpd_use_tls` or
/// `smtpd_enforce_tls`, deprecated since Postfix 2.3 for the `*_tls_security_level`
/// parameters.
pub const TLS_DEPRECATED_PARAMETER: &str = "tls.deprecated-parameter";
/// (Warning) A `smtp[d]_tls_[mandatory_]protocols` value main.cf sets enables SSLv2, SSLv3,
/// TLSv1 or TLSv1.1 (RFC 8996). Not set is not judged: Postfix's default `>=TLSv1` is
/// narrowed to TLS 1.2+ by Debian 12's OpenSSL 3 (security level 1 and up).
pub const TLS_WEAK_PROTOCOL: &str = "tls.weak-protocol";
/// (Info) The SMTP server presents Debian's self-signed snake-oil certificate: opportunistic
/// TLS works, but no one can verify it (MTA-STS, DANE). The fix says how to get one (certbot).
pub const TLS_SNAKEOIL: &str = "tls.snakeoil";
/// The server's private key may be read by someone other than root (and Debian's ssl-cert
/// group): another owner, a group other than root or ssl-cert, or every user.
pub const TLS_KEY_PERMISSIONS: &str = "tls.key-permissions";

/// (`check` of this host: `--root /` or `--starttls-target`) The listener on port 25 does not
/// offer STARTTLS in its EHLO reply (or nothing listens): mail to this server travels in
/// clear text (RFC 3207).
pub const TLS_STARTTLS_MISSING: &str = "tls.starttls-missing";
/// (`check` of this host) STARTTLS is offered, but the TLS handshake after it fails (the
/// TLS error is in the message): senders fall back to clear text or defer.
pub const TLS_HANDSHAKE_FAILED: &str = "tls.handshake-failed";
/// The certificate chain (the configured `smtpd_tls_cert_file` / `smtpd_tls_chain_files`, or
/// the one the live listener serves) does not verify against the trust anchors (the system
/// store, or `--tls-ca`): self-signed (snake-oil), a missing intermediate, another CA.
pub const TLS_CERT_UNTRUSTED: &str = "tls.cert-untrusted";
/// The certificate is not valid for `myhostname` or for an MX name of a domain that points
/// to this host (RFC 6125 §6.4).
pub const TLS_CERT_NAME_MISMATCH: &str = "tls.cert-name-mismatch";
/// (warning) The certificate expires within 21 days.
pub const TLS_CERT_EXPIRING: &str = "tls.cert-expiring";
/// The certificate is not valid now: expired, or not yet valid.
pub const TLS_CERT_EXPIRED: &str = "tls.cert-expired";
/// The configured private key (`smtpd_tls_key_file`, or the key in `smtpd_tls_chain_files`)
/// does not match the certificate's public key.
pub const TLS_KEY_MISMATCH: &str = "tls.key-mismatch";
/// (With `mta_sts` in the answers) no TXT record at `_mta-sts.<domain>` (RFC 8461 §3.1).
pub const MTA_STS_MISSING: &str = "mta-sts.missing";
/// The TXT records at `_mta-sts.<domain>`: none begins with `v=STSv1`, or the one that
/// does has no `id` of 1–32 letters and digits (RFC 8461 §3.1). Reported whether or not the
/// answers manage MTA-STS.
pub const MTA_STS_SYNTAX: &str = "mta-sts.syntax";
/// More than one `v=STSv1` record: senders apply no policy (RFC 8461 §3.1).
pub const MTA_STS_MULTIPLE: &str = "mta-sts.multiple";
/// (With `mta_sts`) the published `id` is not the id of the policy mailsetup prints (the
/// policy changed and the record did not, or the reverse): senders keep a cached policy.
pub const MTA_STS_ID_STALE: &str = "mta-sts.id-stale";
/// (With `mta_sts`, not `--offline`) the policy could not be fetched from
/// `https://mta-sts.<domain>/.well-known/mta-sts.txt`: no address, no connection, a
/// certificate not valid for the name, or an HTTP status other than 200 (RFC 8461 §3.3).
pub const MTA_STS_POLICY_UNREACHABLE: &str = "mta-sts.policy-unreachable";
/// The fetched policy does not parse (RFC 8461 §3.2).
pub const MTA_STS_POLICY_SYNTAX: &str = "mta-sts.policy-syntax";
/// The fetched policy's `mx:` patterns do not match every MX host of the domain (§4.1), or
/// its mode is not the answers' `mta_sts`.
pub const MTA_STS_POLICY_MISMATCH: &str = "mta-sts.policy-mismatch";
/// (With `tls_rpt_rua` in the answers) no TXT record at `_smtp._tls.<domain>` (RFC 8460 §3).
pub const TLS_RPT_MISSING: &str = "tls-rpt.missing";
/// The TXT records at `_smtp._tls.<domain>`: none begins with `v=TLSRPTv1`, or the one that
/// does has no valid `rua=` (mailto: or https:, RFC 8460 §3). Reported whether or not the
/// answers manage TLS-RPT.
pub const TLS_RPT_SYNTAX: &str = "tls-rpt.syntax";
/// More than one `v=TLSRPTv1` record: senders send no reports (RFC 8460 §3).
pub const TLS_RPT_MULTIPLE: &str = "tls-rpt.multiple";

/// Every id above, in this file's order.
pub const ALL: &[&str] = &[
    DKIM_MISSING,
    DKIM_KEY_MISMATCH,
    DKIM_SYNTAX,
    DKIM_PASTE_ERROR,
    DKIM_WEAK_KEY,
    DKIM_NO_SELECTOR,
    DKIM_ROTATION_PENDING,
    SPF_MISSING,
    SPF_MULTIPLE,
    SPF_SYNTAX,
    SPF_IP_NOT_PERMITTED,
    SPF_TOO_MANY_LOOKUPS,
    SPF_TOO_MANY_VOID_LOOKUPS,
    SPF_PERMISSIVE_ALL,
    DMARC_MISSING,
    DMARC_MULTIPLE,
    DMARC_SYNTAX,
    DMARC_MONITOR_ONLY,
    DMARC_RUA_UNAUTHORIZED,
    MX_MISSING,
    MX_NOT_THIS_HOST,
    HOST_A_MISSING,
    HOST_A_MISMATCH,
    PTR_MISSING,
    PTR_MISMATCH,
    IPV6_NO_PTR,
    RBL_LISTED,
    RBL_UNKNOWN,
    DNS_NS_DISAGREE,
    DNS_NS_LAME,
    DNS_PROPAGATING,
    MILTER_NOT_CONFIGURED,
    MILTER_NON_SMTPD_MISSING,
    MILTER_SOCKET_MISMATCH,
    MILTER_SOCKET_UNREACHABLE,
    MILTER_SOCKET_PERMISSION,
    OPENDKIM_SIGNING_TABLE_NO_REFILE,
    OPENDKIM_SIGNING_TABLE_MISSING_DOMAIN,
    OPENDKIM_KEY_MISSING,
    OPENDKIM_KEY_INSECURE,
    OPENDKIM_CONFIG_INVALID,
    OPENDMARC_NOT_CONFIGURED,
    OPENDMARC_ORDER,
    OPENDMARC_PACKAGE_MISSING,
    OPENDMARC_NOT_RUNNING,
    OPENDMARC_SOCKET_MISMATCH,
    OPENDMARC_SOCKET_UNREACHABLE,
    OPENDMARC_SOCKET_PERMISSION,
    POSTFIX_CONFIG_WARNING,
    POSTFIX_RESTART_PENDING,
    SIGNER_DOUBLE,
    OPENDKIM_NOT_RUNNING,
    POSTFIX_NOT_RUNNING,
    SELFTEST_UNSIGNED,
    SELFTEST_DKIM_FAIL_PUBLISHED,
    SELFTEST_DKIM_FAIL_LOCAL,
    SELFTEST_SIGNED,
    SELFTEST_NOT_SENT,
    SELFTEST_NOT_DELIVERED,
    SELFTEST_SENT,
    DNS_UNVERIFIABLE,
    LOCAL_UNREADABLE,
    SMTP_PORT25_BLOCKED,
    SMTP_PORT25_UNKNOWN,
    SPF_POLICY_SERVICE_MISSING,
    SPF_POLICY_SERVICE_MISMATCH,
    SPF_POLICY_NOT_WIRED,
    SPF_POLICY_ORDER,
    SPF_POLICY_PACKAGE_MISSING,
    SPF_POLICY_USER_MISSING,
    TLS_OUTBOUND_OFF,
    TLS_INBOUND_OFF,
    TLS_DEPRECATED_PARAMETER,
    TLS_WEAK_PROTOCOL,
    TLS_SNAKEOIL,
    TLS_KEY_PERMISSIONS,
    TLS_STARTTLS_MISSING,
    TLS_HANDSHAKE_FAILED,
    TLS_CERT_UNTRUSTED,
    TLS_CERT_NAME_MISMATCH,
    TLS_CERT_EXPIRING,
    TLS_CERT_EXPIRED,
    TLS_KEY_MISMATCH,
    MTA_STS_MISSING,
    MTA_STS_SYNTAX,
    MTA_STS_MULTIPLE,
    MTA_STS_ID_STALE,
    MTA_STS_POLICY_UNREACHABLE,
    MTA_STS_POLICY_SYNTAX,
    MTA_STS_POLICY_MISMATCH,
    TLS_RPT_MISSING,
    TLS_RPT_SYNTAX,
    TLS_RPT_MULTIPLE,
];
