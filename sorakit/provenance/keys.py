"""Signing keys for C2PA manifests: the user's own certificate chain and key, or a local development CA.

The C2PA library refuses a bare self-signed leaf, so without the user's own credentials sorakit creates,
on first use, a development CA and a signing certificate issued by it (EC P-256, ES256). They live in
the user's config directory (platformdirs; `SORAKIT_CONFIG_DIR` overrides it), in `signing/`, readable
by the owner alone, never in the repository. Clips signed with them validate on this machine when its
CA is given as the trust root, and as *untrusted* everywhere else: nobody else has reason to trust a
CA that a laptop made for itself.

Own credentials: `SigningKey.from_files(chain.pem, key.pem)`, or `SORAKIT_SIGNING_CERT` and
`SORAKIT_SIGNING_KEY` naming the two PEM files (what `sorakit generate` and the demo pick up).
"""
from __future__ import annotations

import datetime
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SigningKey", "config_dir", "default_signing_key", "development_ca", "development_key", "issue_signing_key",
           "make_certificate_authority"]

CONFIG_ENV = "SORAKIT_CONFIG_DIR"
CERT_ENV, KEY_ENV = "SORAKIT_SIGNING_CERT", "SORAKIT_SIGNING_KEY"
DEV_ORGANIZATION = "sorakit local development CA (untrusted)"  # verify recognises dev-signed clips by it
_CA, _CA_KEY, _CHAIN, _KEY = "dev-ca.pem", "dev-ca.key", "dev-signer-chain.pem", "dev-signer.key"
MAX_PEM_BYTES = 64 * 1024


@dataclass(frozen=True, repr=False)
class SigningKey:
    """A certificate chain (leaf first, PEM) and its private key (PEM), with the C2PA algorithm name."""

    chain_pem: bytes
    key_pem: bytes
    alg: str = "es256"
    development: bool = False  # issued by this machine's development CA

    def __repr__(self) -> str:  # never print the key
        return f"SigningKey(alg={self.alg!r}, development={self.development})"

    @classmethod
    def from_files(cls, chain: str | os.PathLike, key: str | os.PathLike) -> SigningKey:
        """A key from PEM files: the certificate chain (leaf first, up to but not including the root)
        and its private key. The algorithm follows the key (EC P-256/384/521, Ed25519, RSA-PSS)."""
        chain_pem, key_pem = _read_pem(chain, "certificate chain"), _read_pem(key, "private key")
        return cls(chain_pem, key_pem, alg=_algorithm(key_pem))


def _read_pem(path: str | os.PathLike, what: str) -> bytes:
    path = Path(path)
    if not path.is_file() or path.stat().st_size > MAX_PEM_BYTES:
        raise ValueError(f"{what} {path}: not a PEM file of at most {MAX_PEM_BYTES // 1024} KB")
    data = path.read_bytes()
    if b"-----BEGIN " not in data:
        raise ValueError(f"{what} {path}: not PEM (no -----BEGIN line)")
    return data


def _algorithm(key_pem: bytes) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the private key cannot be read (an unencrypted PEM key is needed): {exc}") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        names = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in names:
            raise ValueError(f"EC key on {key.curve.name}; C2PA signs with P-256, P-384 or P-521")
        return names[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise ValueError(f"a {type(key).__name__} cannot sign C2PA manifests; use EC, Ed25519 or RSA")


# --- where keys live ----------------------------------------------------------------------------
def config_dir() -> Path:
    """sorakit's config directory: $SORAKIT_CONFIG_DIR, else the platform's user config dir."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("sorakit", appauthor=False))


def default_signing_key() -> SigningKey:
    """The user's key from $SORAKIT_SIGNING_CERT/$SORAKIT_SIGNING_KEY, else the development key."""
    cert, key = os.environ.get(CERT_ENV), os.environ.get(KEY_ENV)
    if bool(cert) != bool(key):
        raise ValueError(f"set both {CERT_ENV} and {KEY_ENV} (PEM files), or neither")
    return SigningKey.from_files(cert, key) if cert else development_key()


def development_key() -> SigningKey:
    """This machine's development signing key, created (with its CA) on first use."""
    folder = _signing_dir()
    return SigningKey(_read_private(folder / _CHAIN), _read_private(folder / _KEY), "es256", development=True)


def development_ca() -> Path:
    """The PEM file of this machine's development CA (to pass as a trust root), created on first use."""
    return _signing_dir() / _CA


def _signing_dir() -> Path:
    folder = config_dir() / "signing"
    if not (folder / _KEY).is_file():
        _create_signing_dir(folder)
    return folder


def _read_private(path: Path) -> bytes:
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise ValueError(f"{path} can be read by other users; make it owner-only (chmod 600 {path})")
    return path.read_bytes()


def _create_signing_dir(folder: Path) -> None:
    """Write a new CA and signer into a private temporary folder, then rename it into place.

    The rename is atomic, so processes that start at once (a sweep's workers) all end up with the
    same key: a loser of the race discards its own folder and reads the winner's.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".signing-{uuid.uuid4().hex[:12]}")
    tmp.mkdir(mode=0o700)
    try:
        ca_pem, ca_key_pem, ca = make_certificate_authority(DEV_ORGANIZATION)
        chain_pem, key_pem = _issue_signer(ca, ca_key_pem, "sorakit development signer")
        for name, data in ((_CA, ca_pem), (_CA_KEY, ca_key_pem), (_CHAIN, chain_pem + ca_pem), (_KEY, key_pem)):
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / _KEY).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- certificates (cryptography) -----------------------------------------------------------------
def _name(common_name: str, organization: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])


def _pem_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _key_usage(signer: bool):
    from cryptography import x509

    return x509.KeyUsage(digital_signature=signer, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not signer,
                         crl_sign=not signer, encipher_only=False, decipher_only=False)


def make_certificate_authority(organization: str, years: int = 10):
    """(CA certificate PEM, CA key PEM, CA certificate) for a new EC P-256 root."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = _name(f"{organization} root", organization)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(signer=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key), cert


def _issue_signer(ca, ca_key_pem: bytes, common_name: str, years: int = 2) -> tuple[bytes, bytes]:
    """(leaf certificate PEM, leaf key PEM): a C2PA signing certificate issued by `ca`.

    C2PA wants a leaf that is not a CA, with digitalSignature and an allowed extended key use
    (emailProtection here).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    organization = ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    cert = (x509.CertificateBuilder().subject_name(_name(common_name, organization)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signer=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def issue_signing_key(ca_pem: bytes, ca_key_pem: bytes, common_name: str = "sorakit signer") -> SigningKey:
    """A SigningKey issued by the given CA (for an organisation's own CA, and for tests)."""
    from cryptography import x509

    ca = x509.load_pem_x509_certificate(ca_pem)
    chain, key = _issue_signer(ca, ca_key_pem, common_name)
    return SigningKey(chain + ca_pem, key, "es256")
