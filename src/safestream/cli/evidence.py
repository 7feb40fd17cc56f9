"""`safestream evidence`: decrypt an evidence file for an authorised person, and rotate the key.

Decrypting needs a console user who may view child-safety media and whose organisation may see
the file (`docs/security.md`); their password is checked, and the access is written to the audit
log with the stated reason. The plain file is written owner-only to `--out`, never to a terminal.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from safestream.cli.context import open_database, settings
from safestream.cli.output import emit, note

PASSWORD_ENV = "SAFESTREAM_PASSWORD"

evidence_app = typer.Typer(
    help="Encrypted evidence: decrypt a file for an authorised person (audited); rotate the key."
    "\n\n\b\nExamples:\n"
    "  safestream evidence decrypt 0b5e4c1a-... --as ana@hotline.example "
    '--reason "NCMEC follow-up" --out frame.png\n'
    "  safestream evidence rotate-key",
    no_args_is_help=True,
)


@evidence_app.command("decrypt")
def decrypt(
    evidence: str = typer.Argument(
        ..., help="A report file's evidence id, or the path of a stream clip (.mkv.enc)."
    ),
    as_user: str = typer.Option(..., "--as", help="E-mail of the console user asking."),
    reason: str = typer.Option(..., "--reason", help="Why the file is needed (audited)."),
    out: Path = typer.Option(..., "--out", help="Where to write the plain file (mode 0600)."),
    password: str | None = typer.Option(
        None,
        envvar=PASSWORD_ENV,
        show_envvar=True,
        hidden=True,
        help="The user's password (else asked for without echo).",
    ),
) -> None:
    """Decrypt one evidence file for an authorised user; the access is audited.

    \b
    Examples:
      safestream evidence decrypt 0b5e4c1a-7d2e-4f7b-9c1a-2f3e4d5c6b7a \\
          --as ana@hotline.example --reason "NCMEC follow-up" --out frame.png
      safestream evidence decrypt ~/.local/share/safestream/evidence/4f0c.mkv.enc \\
          --as ana@hotline.example --reason "police request 17" --out clip.mkv
    """
    from safestream.core.errors import InvalidInput, PermissionDenied
    from safestream.store.access import authenticate_user
    from safestream.store.evidence_access import decrypt_clip, decrypt_evidence
    from safestream.store.vault import EvidenceVault, write_private

    if not reason.strip():
        raise InvalidInput("--reason: say why the file is needed")
    db = open_database()
    user = authenticate_user(db, as_user, password or getpass.getpass("Password: "))
    if user is None:
        raise PermissionDenied("e-mail or password is wrong, or the account is disabled")
    vault = EvidenceVault.for_settings(settings())
    clip = Path(evidence).expanduser()
    if evidence.endswith(".mkv.enc") and clip.exists():
        data = decrypt_clip(db, vault, user.principal, clip, reason=reason.strip())
    else:
        data = decrypt_evidence(db, vault, user.principal, evidence, reason=reason.strip()).data
    write_private(out, data)
    note(f"wrote {len(data)} bytes to {out} (mode 0600); the access is in the audit log")


@evidence_app.command("rotate-key")
def rotate_key() -> None:
    """Start sealing new evidence with a new key; old keys stay in the key ring for reading.

    With the key in SAFESTREAM_EVIDENCE_KEY, rotate there instead: set the new key and move the
    old one to SAFESTREAM_EVIDENCE_OLD_KEYS.

    \b
    Example:
      safestream evidence rotate-key
    """
    from safestream.core.errors import InvalidInput
    from safestream.store import audit
    from safestream.store.vault_keys import rotate_key as rotate

    current = settings()
    if current.evidence_key is not None:
        raise InvalidInput(
            "the evidence key comes from SAFESTREAM_EVIDENCE_KEY: set a new one there and move "
            "the old one to SAFESTREAM_EVIDENCE_OLD_KEYS"
        )
    current.ensure_home()
    key_id = rotate(current.home).hex()
    audit.record(
        open_database(), actor="cli", action="evidence.rotate_key", subject=f"key:{key_id}"
    )
    emit({"evidence_key_id": key_id})
    note(f"new evidence key {key_id}; files sealed with earlier keys still open")


def register(app: typer.Typer) -> None:
    """Add the `evidence` group to the root `safestream` app."""
    app.add_typer(evidence_app, name="evidence")
