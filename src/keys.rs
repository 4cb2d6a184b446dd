//! DKIM RSA keys: generation (the one place randomness enters), reading an existing private key, and
//! deriving the public key record value `p=` (RFC 6376 §3.6.1: base64 of the DER
//! SubjectPublicKeyInfo). Writing the key file with its owner and mode is [`crate::host::apply`]'s job.

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::values::KeyBits;

/// A private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what Debian 12's
/// `opendkim-genkey` writes), with its public half already derived.
pub struct PrivateKey {
    pem: Zeroizing<String>,
    public: PublicKey,
}

/// The public half of a DKIM key as published in DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The `p=` tag value: base64 of the DER SubjectPublicKeyInfo (392 characters for 2048 bits).
    pub p: String,
    /// Modulus size in bits.
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
    fn reads_pkcs1_keys_too() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("keygen");
        let pem = key.to_pkcs1_pem(LineEnding::LF).expect("pem");
        let p = public_from_pem(&pem).expect("pkcs1");
        assert_eq!(p, public_of(&key).expect("spki"));
    }
}
