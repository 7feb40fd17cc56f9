"""`safestream match`: find media and hashes that are near entries of the banks."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from safestream.cli.context import Store, open_store
from safestream.cli.exit_codes import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from safestream.cli.output import emit, error_line, note

if TYPE_CHECKING:
    from safestream.core.banks import Match
    from safestream.media.features.stage import LocalStage
    from safestream.media.features.video import FrameFeatures
    from safestream.media.hashing import FrameHash
    from safestream.media.matching import Matcher
    from safestream.media.upload_manifest import UploadContext, UploadManifest


def match_line(path: str, kind: str, m: Match) -> dict[str, Any]:
    """The JSON object printed for one match."""
    line: dict[str, Any] = {
        "path": path,
        "kind": kind,
        "bank": m.bank,
        "entry_id": m.entry_id,
        "entry_hash": m.entry_hash,
        "distance": m.distance,
        "label": m.label.value,
        "variant": m.variant,
        "stage": m.stage,
    }
    if m.t is not None:
        line["t"] = m.t
    if m.region is not None:
        x, y, w, h = m.region
        line["region"] = {"x": x, "y": y, "width": w, "height": h}
        line["coverage"] = m.coverage
        if m.frame_size is not None:
            line["frame"] = {"width": m.frame_size[0], "height": m.frame_size[1]}
        line.update({k: v for k, v in m.extra.items() if k in ("inliers", "model", "transform")})
    return line


def file_report(
    store: Store,
    path: str,
    md5: str,
    sha256: str,
    matches: list[Match],
    upload: UploadContext,
) -> None:
    """File a detector report for one matched file, so the case engine links and triages it."""
    from safestream.media.reporting import report_matched_file
    from safestream.reports.intake import DetectorSink

    sink = DetectorSink(store.db, detector="media", settings=store.settings)
    stored = report_matched_file(sink, path, md5, sha256, matches, upload)
    line: dict[str, Any] = {"path": path, "kind": "report", "report_id": stored.id}
    if upload.uploader is not None:
        line["uploader"] = f"{upload.platform}:{upload.uploader}"
    emit(line | {"case_id": stored.case_id})


def read_manifest(
    manifest: Path | None, uploader: str | None, platform: str | None, context: str | None
) -> UploadManifest:
    """Upload contexts from `--manifest` and the options (the default of unlisted files)."""
    from safestream.core.errors import InvalidInput
    from safestream.media.upload_manifest import UploadManifest, context_of

    try:
        default = context_of(uploader, platform, context)
        if manifest is None:
            return UploadManifest(default)
        return UploadManifest.read(manifest, default)
    except InvalidInput as exc:
        error_line(str(manifest) if manifest else None, str(exc))
        raise typer.Exit(EXIT_USAGE) from None


def match(
    paths: list[Path] = typer.Argument(None, help="Images, videos or directories."),
    bank: list[str] = typer.Option(None, "--bank", help="Match only these banks (repeatable)."),
    threshold: int | None = typer.Option(None, help="Override every bank's distance threshold."),
    pdq: list[str] = typer.Option(None, "--hash", help="A PDQ hash (hex) to match (repeatable)."),
    exact: bool = typer.Option(False, "--exact", help="Hash exactly as Meta's reference does."),
    report: bool = typer.Option(
        False, "--report", help="Also file each matched file as a report, linked into a case."
    ),
    manifest: Path | None = typer.Option(
        None,
        "--manifest",
        help="With --report: CSV or JSON of each file's uploader, platform, context, "
        "uploaded_at and ip (docs/matching-api.md).",
    ),
    uploader: str | None = typer.Option(
        None, "--uploader", help="With --report: the account that uploaded the files."
    ),
    platform: str | None = typer.Option(
        None, "--platform", help="With --report: the platform the files were uploaded to."
    ),
    context: str | None = typer.Option(
        None, "--context", help="With --report: where the files were found, why they were sent."
    ),
    local: bool = typer.Option(
        True,
        "--local/--no-local",
        help="Second stage (local features) for unmatched images and video frames (one every 2 s).",
    ),
) -> None:
    """Match media or hashes against the banks; one JSON line per match.

    \b
    With --report, each matched file is filed as a report naming the file and its uploader;
    one uploader's files join one case.

    \b
    Examples:
      safestream match uploads/ --bank known > hits.jsonl
      safestream match clip.mp4 --report
      safestream match uploads/ --report --manifest uploads/manifest.csv --platform example
      safestream match a.jpg --report --platform example --uploader u123 --context "DM attachment"
      safestream match --hash f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
    """
    from safestream.cli.live import open_local_stage
    from safestream.media.batch import iter_files

    if not paths and not pdq:
        error_line(None, "give at least one PATH or --hash")
        raise typer.Exit(EXIT_USAGE)
    if not report and (manifest or uploader or platform or context):
        error_line(None, "--manifest, --uploader, --platform and --context need --report")
        raise typer.Exit(EXIT_USAGE)
    uploads = read_manifest(manifest, uploader, platform, context)
    store, matcher = _open_matcher(bank or None, threshold)
    stage = open_local_stage(store, bank or None) if local else None
    failed = _match_listed_hashes(matcher, pdq or [])
    files = [f for f in iter_files(paths or []) if manifest is None or not f.samefile(manifest)]
    failed += _match_files(
        store, matcher, stage, files, exact=exact, report=report, uploads=uploads
    )
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _match_files(
    store: Store,
    matcher: Matcher,
    stage: LocalStage | None,
    files: list[Path],
    *,
    exact: bool,
    report: bool,
    uploads: UploadManifest,
) -> int:
    """Print the matches of each file (and file reports); return how many files failed."""
    from safestream.media.batch import run_batch
    from safestream.media.file_hashes import hash_for_matching

    failed = 0
    work = partial(hash_for_matching, exact=exact, local=stage is not None)
    for outcome in run_batch(work, files, label="matching"):
        hashed = outcome.value
        if hashed is None:
            failed += 1
            error_line(outcome.path, outcome.error or "failed")
            continue
        path = str(outcome.path)
        if hashed.image is not None:
            merged = matcher.match_image_hash(hashed.image)
            if not merged and stage is not None and hashed.features is not None:
                merged = stage.match_features(hashed.features)
            for m in merged:
                emit(match_line(path, "image", m))
            if report and merged:
                upload = uploads.lookup(outcome.path)
                file_report(store, path, hashed.image.md5, hashed.image.sha256, merged, upload)
            continue
        flat = _match_video(matcher, path, hashed.frames)
        if stage is not None:
            flat += _match_video_locally(stage, path, hashed.frame_features, flat)
        if report and flat:
            from safestream.media.exact_hashes import file_digests

            md5, sha256 = file_digests(outcome.path)
            file_report(store, path, md5, sha256, flat, uploads.lookup(outcome.path))
    return failed


def _open_matcher(banks: list[str] | None, threshold: int | None) -> tuple[Store, Matcher]:
    from safestream.media.bank_index import BankIndex
    from safestream.media.matching import Matcher

    store = open_store()
    index = BankIndex.open(store.banks, store.settings.pdq_index_dir)
    if index.read_only_reason:
        note(
            f"warning: the bank index could not be saved ({index.read_only_reason}); "
            "matching from an index built in memory, results are complete"
        )
    return store, Matcher(store.banks, index, bank_names=banks, threshold=threshold)


def _match_listed_hashes(matcher: Matcher, values: list[str]) -> int:
    """Print the matches of hashes given with --hash; return how many were not PDQ hashes."""
    from safestream.core.errors import SafeStreamError
    from safestream.core.signals import SignalType, normalize_hash

    failed = 0
    for value in values:
        try:
            hex_hash = normalize_hash(SignalType.PDQ, value)
        except SafeStreamError as exc:
            failed += 1
            error_line(value, str(exc))
            continue
        for m in matcher.match_hash(hex_hash):
            emit(match_line(hex_hash, "hash", m))
    return failed


def _match_video_locally(
    stage: LocalStage, path: str, frames: list[FrameFeatures], pdq: list[Match]
) -> list[Match]:
    """Second-stage matches of a video's sampled frames PDQ did not match; print them."""
    matched_at = {m.t for m in pdq}
    found = []
    for frame in frames:
        if frame.t in matched_at:
            continue
        for m in stage.match_features(frame.features, frame.t):
            emit(match_line(path, "video", m))
            found.append(m)
    return found


def _match_video(matcher: Matcher, path: str, frames: list[FrameHash]) -> list[Match]:
    """Print a video's frame matches and its overlap with bank videos; return the matches."""
    from safestream.media.matching import FrameVariants

    frame_matches = matcher.match_variants([FrameVariants.of(f, f"file:{path}") for f in frames])
    flat = [m for ms in frame_matches for m in ms]
    for m in flat:
        emit(match_line(path, "video", m))
    for overlap in matcher.video_overlaps(frames, flat):
        emit(
            {
                "path": path,
                "kind": "video_overlap",
                "bank": overlap.bank,
                "content_id": overlap.content_id,
                "bank_frames": overlap.entry_count,
                "query_match_percent": overlap.query_match_percent,
                "compared_match_percent": overlap.compared_match_percent,
            }
        )
    return flat


def register(app: typer.Typer) -> None:
    """Add `safestream match` to the root app."""
    app.command("match")(match)
