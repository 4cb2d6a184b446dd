//! The hosting provider of the server's address (pure): where its reverse DNS (PTR) is set,
//! what that needs first, and whether outbound TCP port 25 is blocked by default. Chosen by
//! the answers key `provider` (the wizard asks it), else [`guess`]ed from the PTR name the
//! address has now. Only the owner of an address block can publish its PTR (RFC 1035 §3.5,
//! RFC 1912 §2.1), so the fix of `ptr.*` and `smtp.port25-blocked` is the provider's
//! procedure ([`ptr_steps`], [`port25_steps`]).
//!
//! The procedures are what each provider's own documentation said as of 2026; panels are
//! renamed often, so each entry names the place and the search term rather than a URL.

use std::fmt;

use crate::values::Rule;

/// A hosting provider with a known reverse-DNS procedure. Add variants at the end only;
/// the answers names ([`Provider::key`]) are a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Ovh,
    Hetzner,
    Ionos,
    Aws,
    Gcp,
    Azure,
    DigitalOcean,
    Linode,
    Vultr,
    Scaleway,
    Alibaba,
    Contabo,
}

/// Outbound TCP port 25 on a new server of the provider, per its documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port25 {
    /// Open by default (the provider may still close it after abuse).
    Open,
    /// Blocked by default; [`Info::port25_how`] says how to have it opened, if at all.
    Blocked,
    /// Depends on the account, product or region: [`Info::port25_how`] says what to look for.
    Varies,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    pub provider: Provider,
    /// The answers name (`provider = "ovh"`).
    pub key: &'static str,
    /// The name people know it by.
    pub name: &'static str,
    /// Where the reverse DNS of an address is set: the panel path and/or the CLI command
    /// (`{host}`, `{ip}` stand for the server's).
    pub rdns: &'static str,
    /// What the provider requires before it accepts the PTR.
    pub first: &'static str,
    pub port25: Port25,
    /// How to have outbound port 25 opened (or why it cannot be).
    pub port25_how: &'static str,
}

/// Every provider, in [`Provider`] order.
pub const TABLE: &[Info] = &[
    Info {
        provider: Provider::Ovh,
        key: "ovh",
        name: "OVHcloud",
        rdns: "OVHcloud Control Panel → Bare Metal Cloud (or Public Cloud) → Network → IP → \
               the \"…\" button beside {ip} → \"Modify the reverse path\" (reverse DNS)",
        first: "the A/AAAA record of {host} must already resolve to {ip}: OVHcloud checks \
                it before it accepts the reverse",
        port25: Port25::Open,
        port25_how: "not blocked by default (as of 2026, per OVHcloud's documentation); \
                     OVHcloud blocks it on an address that sends spam: the Control Panel's \
                     IP page then shows the anti-spam block and how to lift it",
    },
    Info {
        provider: Provider::Hetzner,
        key: "hetzner",
        name: "Hetzner",
        rdns: "Cloud Console → project → server → Networking → {ip} → \"Edit Reverse DNS\", \
               or `hcloud server set-rdns SERVER --ip {ip} --hostname {host}`; a dedicated \
               server: Robot → Servers → the server → IPs → the reverse DNS field",
        first: "nothing but {host}'s A/AAAA record pointing at {ip} (so that the PTR confirms)",
        port25: Port25::Blocked,
        port25_how: "Hetzner Cloud blocks outgoing ports 25 and 465 on new accounts (as of \
                     2026, per Hetzner's documentation); ask for the block to be lifted with \
                     a limit request in the Cloud Console (granted once the account is older \
                     than a month and its first invoice is paid)",
    },
    Info {
        provider: Provider::Ionos,
        key: "ionos",
        name: "IONOS",
        rdns: "IONOS Cloud Panel → Server & Cloud → Network → Public IP → select {ip} → \
               Actions → \"Edit Reverse DNS\"",
        first: "{host}'s A/AAAA record must resolve to {ip}",
        port25: Port25::Varies,
        port25_how: "depends on the product and the account's age (as of 2026); search IONOS's \
                     help for \"port 25\" and ask IONOS support to open it",
    },
    Info {
        provider: Provider::Aws,
        key: "aws",
        name: "Amazon Web Services (EC2)",
        rdns: "EC2 console → Network & Security → Elastic IPs → select {ip} → Actions → \
               \"Update reverse DNS\", or `aws ec2 modify-address-attribute --allocation-id \
               eipalloc-… --domain-name {host}`; the \"Request to remove email sending \
               limitations\" form (AWS Support) also sets it",
        first: "an Elastic IP associated with the instance (an auto-assigned public IP cannot \
                have a PTR), and {host}'s A record pointing at it",
        port25: Port25::Blocked,
        port25_how: "EC2 blocks (throttles) outbound port 25 by default (as of 2026, per AWS's \
                     documentation); submit the \"Request to remove email sending \
                     limitations\" form in the AWS Support Center, with the Elastic IP and the \
                     reverse DNS",
    },
    Info {
        provider: Provider::Gcp,
        key: "gcp",
        name: "Google Cloud (Compute Engine)",
        rdns: "Console → Compute Engine → VM instance → Edit → Network interfaces → External \
               IPv4 → \"Enable PTR record\" with {host}, or `gcloud compute instances \
               update-access-config INSTANCE --zone ZONE --public-ptr --public-ptr-domain \
               {host}.`",
        first: "a static external IP, and {host}'s domain verified as yours in Google Search \
                Console by the same account",
        port25: Port25::Blocked,
        port25_how: "Compute Engine blocks outbound port 25 and does not open it for most \
                     projects (as of 2026, per Google Cloud's documentation): send through a \
                     relay on port 587 or 465 (Postfix relayhost) instead",
    },
    Info {
        provider: Provider::Azure,
        key: "azure",
        name: "Microsoft Azure",
        rdns: "Azure CLI only: `az network public-ip update --resource-group RG --name \
               PUBLIC-IP-NAME --dns-name LABEL --reverse-fqdn {host}.`",
        first: "a static public IP resource with a DNS name label, and {host} resolving to \
                IP (or CNAME to the label's name) before the reverse FQDN is accepted",
        port25: Port25::Blocked,
        port25_how: "Azure blocks outbound port 25 for most subscription types, e.g. \
                     pay-as-you-go and free trials (as of 2026, per Azure's documentation \
                     \"Troubleshoot outbound SMTP connectivity\"); Enterprise Agreement \
                     subscriptions are not blocked; otherwise send through a relay on port \
                     587",
    },
    Info {
        provider: Provider::DigitalOcean,
        key: "digitalocean",
        name: "DigitalOcean",
        rdns: "the PTR follows the Droplet's name: rename the Droplet to {host} (Control \
               Panel → the Droplet → its name → rename, or `doctl compute droplet-action \
               rename DROPLET-ID --droplet-name {host}`)",
        first: "the Droplet's name must be exactly {host} (a fully qualified name)",
        port25: Port25::Blocked,
        port25_how: "DigitalOcean blocks outbound SMTP ports on Droplets of new accounts (as of \
                     2026, per DigitalOcean's documentation); ask support to lift it, or send \
                     through a relay on port 587",
    },
    Info {
        provider: Provider::Linode,
        key: "linode",
        name: "Akamai Cloud (Linode)",
        rdns: "Cloud Manager → Linodes → the Linode → Network → {ip}'s \"…\" → \"Edit RDNS\" \
               with {host}, or `linode-cli networking ip-update {ip} --rdns {host}`",
        first: "{host}'s A/AAAA record must already resolve to {ip} (Linode checks it)",
        port25: Port25::Blocked,
        port25_how: "outbound SMTP is restricted on new accounts (as of 2026, per Linode's \
                     documentation); once the rDNS is set, open a support ticket asking for \
                     the restriction to be lifted",
    },
    Info {
        provider: Provider::Vultr,
        key: "vultr",
        name: "Vultr",
        rdns: "customer portal → Products → the instance → Settings → IPv4 (or IPv6) → the \
               Reverse DNS field beside {ip}",
        first: "{host}'s A/AAAA record pointing at {ip}",
        port25: Port25::Blocked,
        port25_how: "SMTP is blocked on new accounts (as of 2026, per Vultr's documentation); \
                     open a support ticket asking for port 25 to be opened",
    },
    Info {
        provider: Provider::Scaleway,
        key: "scaleway",
        name: "Scaleway",
        rdns: "Console → Instances → the instance (or Network → Flexible IPs) → the flexible \
               IP {ip} → edit the reverse DNS to {host}",
        first: "a flexible IP, and {host}'s A/AAAA record resolving to it",
        port25: Port25::Blocked,
        port25_how: "Instances' security groups block outbound SMTP by default (as of 2026, \
                     per Scaleway's documentation); once the account's identity is verified, \
                     turn off \"Block SMTP\" in the instance's security group",
    },
    Info {
        provider: Provider::Alibaba,
        key: "alibaba",
        name: "Alibaba Cloud (ECS)",
        rdns: "Alibaba Cloud sets the PTR of an ECS address on request: open a ticket (or look \
               in the ECS console for \"reverse DNS\" / \"PTR\") with {ip} and {host}",
        first: "{host}'s A record resolving to the ECS instance's public IP or EIP",
        port25: Port25::Blocked,
        port25_how: "ECS blocks outbound TCP port 25 by default (as of 2026, per Alibaba \
                     Cloud's documentation); apply to unblock it in the console (search for \
                     \"TCP 25 port\" / \"Apply to Unblock Port 25\"), or use port 465/587 \
                     to a relay",
    },
    Info {
        provider: Provider::Contabo,
        key: "contabo",
        name: "Contabo",
        rdns: "Customer Control Panel → \"Reverse DNS Management\" → the pen beside {ip} → \
               {host}",
        first: "{host}'s A/AAAA record pointing at {ip}",
        port25: Port25::Open,
        port25_how: "not blocked by default (as of 2026, per Contabo's documentation); Contabo \
                     may block it after spam complaints: ask its support",
    },
];

impl Provider {
    /// This provider's row of [`TABLE`].
    pub fn info(self) -> &'static Info {
        TABLE
            .iter()
            .find(|i| i.provider == self)
            .expect("every provider has a row")
    }

    /// The answers name, e.g. `"ovh"`.
    pub fn key(self) -> &'static str {
        self.info().key
    }

    /// The answers names, in table order, `, `-separated (for errors and help).
    pub fn known() -> String {
        TABLE.iter().map(|i| i.key).collect::<Vec<_>>().join(", ")
    }

    /// The provider named `s` (an answers name, case-insensitive). Errors: an unknown name,
    /// with every known one.
    pub fn parse(s: &str) -> Result<Provider, Rule> {
        TABLE
            .iter()
            .find(|i| i.key.eq_ignore_ascii_case(s.trim()))
            .map(|i| i.provider)
            .ok_or_else(|| {
                Rule::new(format!(
                    "the known ones are: {}; for another provider, leave the key out",
                    Provider::known()
                ))
            })
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The provider a PTR name (the one the address has now) obviously belongs to, if any:
/// the providers' default reverse names, e.g. `ns3012345.ip-51-75-12.eu` (OVHcloud),
/// `ec2-3-120-1-2.eu-central-1.compute.amazonaws.com`,
/// `static.4.3.2.1.clients.your-server.de` (Hetzner). Case and a final dot are ignored.
/// DigitalOcean, IONOS and Alibaba Cloud have no telling default name: never guessed.
pub fn guess(ptr_name: &str) -> Option<Provider> {
    let name = ptr_name.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    let ends = |suffix: &str| name.ends_with(&format!(".{suffix}"));
    let rules: &[(Provider, &[&str])] = &[
        (Provider::Ovh, &["ovh.net", "ovh.ca", "ovh.us", "ovh.com"]),
        (
            Provider::Aws,
            &["compute.amazonaws.com", "compute-1.amazonaws.com"],
        ),
        (Provider::Gcp, &["bc.googleusercontent.com"]),
        (Provider::Hetzner, &["your-server.de"]),
        (
            Provider::Linode,
            &["linodeusercontent.com", "members.linode.com"],
        ),
        (Provider::Vultr, &["vultrusercontent.com"]),
        (Provider::Contabo, &["contaboserver.net"]),
        (Provider::Scaleway, &["scw.cloud", "scaleway.com"]),
        (Provider::Azure, &["cloudapp.azure.com"]),
    ];
    if let Some((p, _)) = rules.iter().find(|(_, s)| s.iter().any(|s| ends(s))) {
        return Some(*p);
    }
    // OVHcloud's dedicated servers: `nsNNN.ip-A-B-C.eu` (or .net, .us)
    match labels.as_slice() {
        [.., zone, tld]
            if ["eu", "net", "us"].contains(tld) && labels.len() >= 3 && ovh_ip_label(zone) =>
        {
            Some(Provider::Ovh)
        }
        _ => None,
    }
}

/// `ip-51-75-12`: `ip-` and three dash-separated numbers (OVHcloud's block names).
fn ovh_ip_label(label: &str) -> bool {
    label.strip_prefix("ip-").is_some_and(|rest| {
        let parts: Vec<&str> = rest.split('-').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The first provider any of `ptr_names` obviously belongs to ([`guess`]).
pub fn guess_any<'a>(ptr_names: impl IntoIterator<Item = &'a str>) -> Option<Provider> {
    ptr_names.into_iter().find_map(guess)
}

/// The procedure to have `ip`'s reverse DNS set to `hostname` at `provider`: where, and
/// what it needs first; `{host}` and `{ip}` filled in.
pub fn ptr_steps(provider: Provider, ip: &str, hostname: &str) -> String {
    let i = provider.info();
    let fill = |s: &str| s.replace("{host}", hostname).replace("{ip}", ip);
    format!("at {}: {}; first: {}", i.name, fill(i.rdns), fill(i.first))
}

/// Whether and how outbound port 25 is opened at `provider`.
pub fn port25_steps(provider: Provider) -> String {
    let i = provider.info();
    format!("{}: {}", i.name, i.port25_how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_provider_once_in_order() {
        let all = [
            Provider::Ovh,
            Provider::Hetzner,
            Provider::Ionos,
            Provider::Aws,
            Provider::Gcp,
            Provider::Azure,
            Provider::DigitalOcean,
            Provider::Linode,
            Provider::Vultr,
            Provider::Scaleway,
            Provider::Alibaba,
            Provider::Contabo,
        ];
        let rows: Vec<Provider> = TABLE.iter().map(|i| i.provider).collect();
        assert_eq!(rows, all);
        for p in all {
            assert_eq!(Provider::parse(p.key()), Ok(p));
            assert_eq!(Provider::parse(&p.key().to_uppercase()), Ok(p));
            let i = p.info();
            assert!(!i.rdns.is_empty() && !i.first.is_empty() && !i.port25_how.is_empty());
        }
        assert_eq!(
            Provider::known(),
            "ovh, hetzner, ionos, aws, gcp, azure, digitalocean, linode, vultr, scaleway, \
             alibaba, contabo"
        );
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let e = Provider::parse("ovhcloud").unwrap_err().to_string();
        assert!(e.contains("ovh, hetzner"), "{e}");
        assert!(e.contains("contabo"), "{e}");
        assert!(Provider::parse("").is_err());
    }

    #[test]
    fn guesses_from_default_reverse_names() {
        let table: &[(&str, Option<Provider>)] = &[
            ("vps-1a2b3c4d.vps.ovh.net", Some(Provider::Ovh)),
            ("ns3012345.ip-51-75-12.eu", Some(Provider::Ovh)),
            ("ns512345.ip-198-27-64.net.", Some(Provider::Ovh)),
            ("ip-51-75-12.eu", None),
            ("mail.ip-51-75.eu", None),
            ("host.ip-1-2-x.eu", None),
            (
                "ec2-3-120-1-2.eu-central-1.compute.amazonaws.com",
                Some(Provider::Aws),
            ),
            ("ec2-54-1-2-3.compute-1.amazonaws.com", Some(Provider::Aws)),
            ("s3.amazonaws.com", None),
            ("2.1.168.34.bc.googleusercontent.com", Some(Provider::Gcp)),
            ("googleusercontent.com", None),
            (
                "static.4.3.2.1.clients.your-server.de",
                Some(Provider::Hetzner),
            ),
            (
                "STATIC.88.198.1.2.CLIENTS.YOUR-SERVER.DE.",
                Some(Provider::Hetzner),
            ),
            ("li123-45.members.linode.com", Some(Provider::Linode)),
            (
                "172-104-1-2.ip.linodeusercontent.com",
                Some(Provider::Linode),
            ),
            ("45.76.1.2.vultrusercontent.com", Some(Provider::Vultr)),
            ("vmi123456.contaboserver.net", Some(Provider::Contabo)),
            ("1-2-3-4.instances.scw.cloud", Some(Provider::Scaleway)),
            ("163-172-1-2.rev.poneytelecom.eu", None),
            ("myvm.westeurope.cloudapp.azure.com", Some(Provider::Azure)),
            ("mail.example.org", None),
            ("evil-ovh.net", None),
            ("", None),
        ];
        for (name, want) in table {
            assert_eq!(guess(name), *want, "{name}");
        }
        assert_eq!(
            guess_any(["mail.example.org", "vmi1.contaboserver.net"]),
            Some(Provider::Contabo)
        );
    }

    #[test]
    fn steps_fill_in_the_host_and_address() {
        let s = ptr_steps(Provider::Hetzner, "192.0.2.25", "mail.example.org");
        assert!(
            s.contains("hcloud server set-rdns SERVER --ip 192.0.2.25 --hostname mail.example.org"),
            "{s}"
        );
        let s = ptr_steps(Provider::DigitalOcean, "192.0.2.25", "mail.example.org");
        assert!(s.contains("rename the Droplet to mail.example.org"), "{s}");
        let s = ptr_steps(Provider::Aws, "192.0.2.25", "mail.example.org");
        assert!(s.contains("Elastic IP") && s.contains("Request to remove email sending"));
        assert!(port25_steps(Provider::Gcp).contains("587"));
    }
}
