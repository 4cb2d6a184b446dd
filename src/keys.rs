//! DKIM keys, RSA and Ed25519: generation (the one place randomness enters), reading an existing
//! private key, and deriving the public key record value `p=` (RFC 6376 §3.6.1: base64 of the
//! DER SubjectPublicKeyInfo for RSA; RFC 8463 §4.2: base64 of the raw 32-byte key for Ed25519).
//! Writing the key file with its owner and mode is [`crate::host::apply`]'s job.

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::values::KeyBits;

/// The kind of a DKIM key (RFC 6376 §3.6.1 `k=`): RSA of a size, or Ed25519 (RFC 8463).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa(KeyBits),
    Ed25519,
}

impl KeyKind {
    /// The key record's `k=` value: `rsa` or `ed25519`.
    pub fn k(self) -> &'static str {
        match self {
            KeyKind::Rsa(_) => "rsa",
            KeyKind::Ed25519 => "ed25519",
        }
    }

    /// The key size in bits: the RSA modulus, 256 for Ed25519.
    pub fn bits(self) -> usize {
        match self {
            KeyKind::Rsa(b) => b.bits(),
            KeyKind::Ed25519 => 256,
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa(b) => write!(f, "{}-bit RSA", b.bits()),
            KeyKind::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// A private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what Debian 12's
/// `opendkim-genkey` writes), with its public half already derived.
pub struct PrivateKey {
    pem: Zeroizing<String>,
    public: PublicKey,
}

/// The public half of a DKIM key as published in DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The `p=` tag value: base64 of the DER SubjectPublicKeyInfo (392 characters for 2048
    /// bits); for Ed25519 base64 of the raw 32-byte key (44 characters, RFC 8463 §4.2).
    pub p: String,
    /// Modulus size in bits; 256 for an Ed25519 key.
    pub bits: usize,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}-bit, secret hidden)", self.public.bits)
    }
}

impl PrivateKey {
    /// Generate a new RSA key of `bits` from the operating system's random source.
    ///
    /// Errors: a message from the rsa crate (practically never).
    pub fn generate(bits: KeyBits) -> Result<PrivateKey, String> {
        let key =
            RsaPrivateKey::new(&mut rand::rngs::OsRng, bits.bits()).map_err(|e| e.to_string())?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?;
        let public = public_of(&key)?;
        Ok(PrivateKey { pem, public })
    }

    /// Generate a new key of `kind` ([`Self::generate`] for RSA, [`Self::generate_ed25519`]).
    ///
    /// Errors: as those.
    pub fn generate_kind(kind: KeyKind) -> Result<PrivateKey, String> {
        match kind {
            KeyKind::Rsa(bits) => Self::generate(bits),
            KeyKind::Ed25519 => Self::generate_ed25519(),
        }
    }

    /// Generate a new Ed25519 key (RFC 8032) from the operating system's random source,
    /// written as PKCS#8 **v1** (RFC 5208, what `openssl genpkey -algorithm ed25519` writes):
    /// OpenSSL 3.0, and so OpenDKIM, cannot load the v2 form (RFC 5958, with the public key).
    ///
    /// Errors: a message from the pkcs8 encoder (practically never).
    pub fn generate_ed25519() -> Result<PrivateKey, String> {
        use ed25519::pkcs8::EncodePrivateKey as _;
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        let pem = ed25519::KeypairBytes {
            secret_key: sk.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(ed25519::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| e.to_string())?;
        Ok(PrivateKey {
            pem: Zeroizing::new(pem.to_string()),
            public: ed25519_public(&sk),
        })
    }

    /// The PEM text to write to `<selector>.private`. Secret: never print it.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

/// Read a PEM private key as OpenDKIM accepts it (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1
/// `BEGIN RSA PRIVATE KEY`) and derive its public half.
///
/// Errors: a sentence saying why the text is not a usable RSA key.
pub fn public_from_pem(pem: &str) -> Result<PublicKey, String> {
    let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| format!("not a PKCS#1 RSA key: {e}"))?
    } else if pem.contains("BEGIN PRIVATE KEY") {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| {
            format!("not a PKCS#8 RSA key (an Ed25519 key is not supported yet): {e}")
        })?
    } else {
        return Err("no `BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY` block".into());
    };
    public_of(&key)
}

/// Read an Ed25519 private key in PKCS#8 PEM (`BEGIN PRIVATE KEY`, v1 or v2) and derive its
/// public half (`p=`: the raw 32-byte key in base64, RFC 8463 §4.2; `bits` 256).
///
/// Errors: a sentence saying why the text is not a usable Ed25519 key.
pub fn ed25519_public_from_pem(pem: &str) -> Result<PublicKey, String> {
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    if !pem.contains("BEGIN PRIVATE KEY") {
        return Err("no `BEGIN PRIVATE KEY` block (an Ed25519 key is PKCS#8)".into());
    }
    let sk = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
        .map_err(|e| format!("not a PKCS#8 Ed25519 key: {e}"))?;
    Ok(ed25519_public(&sk))
}

/// [`public_from_pem`] or [`ed25519_public_from_pem`], by `kind`.
///
/// Errors: as those.
pub fn public_from_pem_kind(kind: KeyKind, pem: &str) -> Result<PublicKey, String> {
    match kind {
        KeyKind::Rsa(_) => public_from_pem(pem),
        KeyKind::Ed25519 => ed25519_public_from_pem(pem),
    }
}

fn ed25519_public(sk: &ed25519_dalek::SigningKey) -> PublicKey {
    PublicKey {
        p: base64::engine::general_purpose::STANDARD.encode(sk.verifying_key().as_bytes()),
        bits: 256,
    }
}

fn public_of(key: &RsaPrivateKey) -> Result<PublicKey, String> {
    let public = RsaPublicKey::from(key);
    let der = public.to_public_key_der().map_err(|e| e.to_string())?;
    Ok(PublicKey {
        p: base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        bits: public.n().bits(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_reads_back_with_the_same_public_half() {
        let key = PrivateKey::generate(KeyBits::B1024).expect("keygen");
        assert!(key.pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(key.public().bits, 1024);
        // SPKI for RSA always starts with this DER prefix (sequence, rsaEncryption OID).
        assert!(key.public().p.starts_with("MIGfMA0GCSqGSIb3DQEBAQUAA4GN"));
        let again = public_from_pem(key.pem()).expect("reads back");
        assert_eq!(&again, key.public());
        assert!(
            !format!("{key:?}").contains("PRIVATE"),
            "Debug hides the secret"
        );
    }

    #[test]
    fn rejects_what_is_not_an_rsa_key() {
        assert!(public_from_pem("hello").is_err());
        assert!(
            public_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
    }

    #[test]
    fn ed25519_key_is_pkcs8_v1_and_reads_back() {
        let key = PrivateKey::generate_kind(KeyKind::Ed25519).expect("keygen");
        let pem = key.pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        // v1 (RFC 5208): version 0, no [1] public key: 48 bytes of DER, one base64 line
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64");
        assert_eq!(der.len(), 48, "PKCS#8 v1 of an Ed25519 key is 48 bytes");
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00], "version 0 (v1)");
        assert_eq!(key.public().p.len(), 44, "raw 32-byte key in base64");
        assert_eq!(key.public().bits, 256);
        let again = ed25519_public_from_pem(pem).expect("reads back");
        assert_eq!(&again, key.public());
        assert!(public_from_pem(pem).is_err(), "not an RSA key");
        assert!(
            ed25519_public_from_pem(PrivateKey::generate(KeyBits::B1024).unwrap().pem()).is_err()
        );
        assert_ne!(
            PrivateKey::generate_ed25519().unwrap().public().p,
            key.public().p,
            "every key is new"
        );
    }

    #[test]
    fn reads_openssl_ed25519_keys() {
        // `openssl genpkey -algorithm ed25519` (RFC 8032 §7.1 test 1's secret key)
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
                   -----END PRIVATE KEY-----\n";
        let p = ed25519_public_from_pem(pem).expect("openssl's form");
        // RFC 8032 §7.1 test 1's public key d75a98…511a, in base64
        assert_eq!(p.p, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    }

    #[test]
    fn reads_pkcs1_keys_too() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("keygen");
        let pem = key.to_pkcs1_pem(LineEnding::LF).expect("pem");
        let p = public_from_pem(&pem).expect("pkcs1");
        assert_eq!(p, public_of(&key).expect("spki"));
    }
}
