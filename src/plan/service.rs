//! The services a plan restarts or reloads, as values: which daemon, which verb, and why.
//! Carrying them out is [`crate::host::services::perform`]'s job.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postfix,
    Opendkim,
    /// amavisd-new (Debian's init script and unit are named `amavis`).
    Amavis,
    /// OpenDMARC (inbound DMARC), a milter after OpenDKIM.
    Opendmarc,
    /// The second OpenDKIM instance, which signs `ed25519-sha256` (answers `algorithms`):
    /// `/usr/sbin/opendkim -x /etc/opendkim-ed25519.conf`, unit `opendkim-ed25519`.
    OpendkimEd25519,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Postfix => "postfix",
            Service::Opendkim => "opendkim",
            Service::Amavis => "amavis",
            Service::Opendmarc => "opendmarc",
            Service::OpendkimEd25519 => "opendkim-ed25519",
        }
    }

    /// The service of a name [`Service::name`] gives (as run records store them).
    pub fn from_name(name: &str) -> Option<Service> {
        [
            Service::Postfix,
            Service::Opendkim,
            Service::Amavis,
            Service::Opendmarc,
            Service::OpendkimEd25519,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// The order services are (re)started in: the milters (and amavisd-new, Postfix's
    /// content filter) first, so that their sockets exist when Postfix comes back.
    pub fn start_rank(self) -> u8 {
        match self {
            Service::Opendkim => 0,
            Service::OpendkimEd25519 => 1,
            Service::Opendmarc => 2,
            Service::Amavis => 3,
            Service::Postfix => 4,
        }
    }
}

/// What a service needs. `Restart` for Postfix is a full stop and start. `Stop`: stopped
/// (and, under systemd, disabled), for the Ed25519 instance once `algorithms` leaves
/// `ed25519-sha256` out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Reload,
    Restart,
    Stop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAction {
    pub service: Service,
    pub verb: Verb,
    pub why: String,
}

impl ServiceAction {
    pub fn new(service: Service, verb: Verb, why: &str) -> ServiceAction {
        ServiceAction {
            service,
            verb,
            why: why.into(),
        }
    }
}

impl fmt::Display for ServiceAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.service, self.verb) {
            (Service::Postfix, Verb::Restart) => "stop and start postfix",
            (Service::Postfix, Verb::Reload) => "reload postfix",
            (Service::OpendkimEd25519, Verb::Stop) => {
                "stop opendkim-ed25519 (and disable it where systemd runs)"
            }
            (Service::OpendkimEd25519, _) => "restart opendkim-ed25519",
            (_, Verb::Stop) => "stop it",
            (Service::Opendkim, _) => "restart opendkim",
            (Service::Amavis, _) => "restart amavisd-new",
            (Service::Opendmarc, _) => "restart opendmarc",
        };
        write!(f, "{what}: {}", self.why)
    }
}
