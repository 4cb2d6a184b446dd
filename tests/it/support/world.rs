//! A DNS world that a test edits the way an operator does and then serves on loopback: the
//! newest version of every zone (what the primary, 127.0.0.1, serves), secondaries on
//! 127.0.0.2, 127.0.0.3 … that serve some zones, possibly an older version, and optionally a
//! first-hop resolver that still has older versions cached. Every edit bumps the zone's SOA
//! serial, as a DNS panel does. [`World::start`] serves it ([`Lab`]) for one check.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::dns_server::TestDns;
use super::lab::Lab;
use super::zonefile::{Rr, Zone};

/// What a secondary serves of one zone.
#[derive(Debug, Clone)]
pub enum Served {
    /// The newest version: it follows the primary.
    Current,
    /// This older version: it has not transferred the newest yet.
    Frozen(Zone),
}

#[derive(Debug, Clone, Default)]
pub struct World {
    /// The newest version of every zone; all of them served by 127.0.0.1.
    pub zones: Vec<Zone>,
    /// Server `i + 1` (127.0.0.`i + 2`): the zones it serves, by origin; it refuses the rest.
    pub secondaries: Vec<BTreeMap<String, Served>>,
    /// `Some`: the first hop is a resolver of its own (not 127.0.0.1) that answers from these
    /// older versions of some zones (its cache), and from the newest version of the others.
    pub cached: Option<BTreeMap<String, Zone>>,
    /// Which machine a nameserver name is (what its operator knows): name → address.
    pub machines: BTreeMap<String, Ipv4Addr>,
}

/// A world being served: the lab and, when the world has one, the resolver.
pub struct Running {
    pub lab: Lab,
    pub resolver: Option<TestDns>,
}

impl Running {
    /// `--nameserver … --authoritative-port …` for the binary.
    pub fn args(&self) -> Vec<String> {
        let mut args = self.lab.args();
        if let Some(r) = &self.resolver {
            args[1] = r.addr().to_string();
        }
        args
    }
}

impl World {
    /// A world of these zone texts (each with `$ORIGIN`), all served by 127.0.0.1.
    pub fn new(zones: &[String]) -> World {
        World {
            zones: zones.iter().map(|z| Zone::parse(z)).collect(),
            ..World::default()
        }
    }

    /// The zone with this origin.
    pub fn zone(&self, origin: &str) -> &Zone {
        self.zones
            .iter()
            .find(|z| z.origin == origin)
            .unwrap_or_else(|| panic!("no zone {origin}"))
    }

    /// The zone `name` is in (the longest origin that contains it), if the world has one.
    pub fn zone_of(&self, name: &str) -> Option<&Zone> {
        self.zones
            .iter()
            .filter(|z| z.contains(name))
            .max_by_key(|z| z.origin.len())
    }

    /// Change the zone with origin `origin` with `f`, bumping its serial.
    pub fn edit<T>(&mut self, origin: &str, f: impl FnOnce(&mut Zone) -> T) -> T {
        let zone = self
            .zones
            .iter_mut()
            .find(|z| z.origin == origin)
            .unwrap_or_else(|| panic!("no zone {origin}"));
        let out = f(zone);
        zone.bump();
        out
    }

    /// Change the zone `name` is in with `f`, bumping its serial. Panics when no zone holds
    /// `name`.
    pub fn edit_at<T>(&mut self, name: &str, f: impl FnOnce(&mut Zone) -> T) -> T {
        let origin = self
            .zone_of(name)
            .unwrap_or_else(|| panic!("no zone holds {name}"))
            .origin
            .clone();
        self.edit(&origin, f)
    }

    /// The records at `name` of type `rtype`, as the newest zones have them.
    pub fn lookup(&self, name: &str, rtype: &str) -> Vec<Rr> {
        self.zone_of(name)
            .map(|z| z.at(name, rtype).cloned().collect())
            .unwrap_or_default()
    }

    /// Does `name` own any record?
    pub fn exists(&self, name: &str) -> bool {
        self.zone_of(name)
            .is_some_and(|z| z.records.iter().any(|r| r.owner == name))
    }

    /// Server `server` (1: 127.0.0.2, …) serves `origin`, its newest version.
    pub fn serve(&mut self, server: usize, origin: &str) {
        self.secondary(server)
            .insert(origin.to_string(), Served::Current);
    }

    /// Server `server` keeps the version of `origin` it has now, whatever changes next.
    pub fn freeze(&mut self, server: usize, origin: &str) {
        let zone = self.zone(origin).clone();
        self.secondary(server)
            .insert(origin.to_string(), Served::Frozen(zone));
    }

    /// Server `server` transfers the newest version of every zone it serves.
    pub fn sync(&mut self, server: usize) {
        for served in self.secondary(server).values_mut() {
            *served = Served::Current;
        }
    }

    /// The first-hop resolver caches the version of `origin` there is now.
    pub fn cache(&mut self, origin: &str) {
        let zone = self.zone(origin).clone();
        self.cached
            .get_or_insert_with(BTreeMap::new)
            .insert(origin.to_string(), zone);
    }

    /// The resolver's cache runs out: it answers from the newest versions.
    pub fn expire_cache(&mut self) {
        if let Some(c) = &mut self.cached {
            c.clear();
        }
    }

    /// Server index of the machine `name` is: 0 for 127.0.0.1, 1 for 127.0.0.2 …, from
    /// [`World::machines`], else from its A record.
    pub fn server_named(&self, name: &str) -> usize {
        let addr = self.machines.get(name).copied().or_else(|| {
            self.lookup(name, "A")
                .first()
                .and_then(|a| a.rdata[0].parse().ok())
        });
        let addr: Ipv4Addr = addr.unwrap_or_else(|| panic!("which machine is {name}?"));
        let [a, b, c, d] = addr.octets();
        assert_eq!([a, b, c], [127, 0, 0], "{name} is not a lab server: {addr}");
        usize::from(d) - 1
    }

    fn secondary(&mut self, server: usize) -> &mut BTreeMap<String, Served> {
        assert!(server >= 1, "server 0 serves every zone's newest version");
        while self.secondaries.len() < server {
            self.secondaries.push(BTreeMap::new());
        }
        &mut self.secondaries[server - 1]
    }

    /// The zone texts each server serves, server 0 first; a machine of [`World::machines`]
    /// that serves nothing is a server with no zone (it refuses every query).
    pub fn served(&self) -> Vec<Vec<String>> {
        let machines = self
            .machines
            .values()
            .map(|a| usize::from(a.octets()[3]) - 1);
        let count = machines.max().unwrap_or(0).max(self.secondaries.len());
        let mut out = vec![self.zones.iter().map(Zone::text).collect::<Vec<_>>()];
        for i in 0..count {
            let texts = self.secondaries.get(i).into_iter().flatten();
            out.push(
                texts
                    .map(|(origin, served)| match served {
                        Served::Current => self.zone(origin).text(),
                        Served::Frozen(z) => z.text(),
                    })
                    .collect(),
            );
        }
        out
    }

    /// Serve the world: the lab (every server on one port) and the resolver, if any.
    pub async fn start(&self) -> Running {
        let lab = Lab::several(&self.served()).await;
        let resolver = match &self.cached {
            None => None,
            Some(cached) => {
                let texts: Vec<String> = self
                    .zones
                    .iter()
                    .map(|z| cached.get(&z.origin).unwrap_or(z).text())
                    .collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                Some(TestDns::start(&refs).await)
            }
        };
        Running { lab, resolver }
    }
}
