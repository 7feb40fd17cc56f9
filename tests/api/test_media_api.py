"""`/v1` hashing, lookups, matching and bank management over HTTP."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from safestream.media.hashing import hash_image
from tests.api.media_fixtures import MediaApi, jpeg

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _bank(api: MediaApi, name: str = "known", **extra: object) -> None:
    answer = api.client.post("/v1/banks", json={"name": name, **extra}, headers=api.curator)
    assert answer.status_code == 201, answer.text


def _bank_photo(api: MediaApi, data: bytes, label: str = "A2") -> list[int]:
    answer = api.client.post(
        "/v1/banks/known/media",
        params={"label": label},
        files={"file": ("p.jpg", data, "image/jpeg")},
        headers=api.curator,
    )
    assert answer.status_code == 200, answer.text
    ids: list[int] = answer.json()["entry_ids"]
    return ids


def test_hash_upload_gives_reference_hashes(media_api: MediaApi) -> None:
    data = jpeg("coffee")
    answer = media_api.client.post(
        "/v1/hash", files={"file": ("c.jpg", data, "image/jpeg")}, headers=media_api.platform
    )
    assert answer.status_code == 200
    assert answer.json()["image"]["pdq"] == hash_image(data, mode="exact").pdq


def test_corrupt_upload_is_a_clear_error_not_a_500(media_api: MediaApi) -> None:
    answer = media_api.client.post(
        "/v1/hash",
        files={"file": ("c.jpg", jpeg("coffee")[:200], "image/jpeg")},
        headers=media_api.platform,
    )
    assert answer.status_code == 415 and "image" in answer.json()["error"]


def test_hash_needs_a_file_or_a_url(media_api: MediaApi) -> None:
    answer = media_api.client.post("/v1/hash", headers=media_api.platform)
    assert answer.status_code == 422


def test_lookup_finds_a_banked_hash_with_its_distance_and_label(media_api: MediaApi) -> None:
    _bank(media_api)
    media_api.client.post(
        "/v1/banks/known/entries",
        json={"entries": [{"hash": CAT, "label": "A1"}]},
        headers=media_api.curator,
    )
    near = CAT[:-1] + "3"
    answer = media_api.client.get("/v1/lookup", params={"pdq": near}, headers=media_api.platform)
    (match,) = answer.json()["matches"]
    assert (match["bank"], match["distance"], match["label"]) == ("known", 1, "A1")


def test_batch_lookup_answers_in_request_order(media_api: MediaApi) -> None:
    _bank(media_api)
    media_api.client.post(
        "/v1/banks/known/entries", json={"entries": [{"hash": CAT}]}, headers=media_api.curator
    )
    answer = media_api.client.post(
        "/v1/lookup", json={"hashes": ["0" * 64, CAT]}, headers=media_api.platform
    )
    results = answer.json()["results"]
    assert [len(r["matches"]) for r in results] == [0, 1]


def test_match_upload_finds_a_mirrored_copy(media_api: MediaApi) -> None:
    _bank(media_api)
    original = jpeg("rocket")
    _bank_photo(media_api, original)
    mirrored = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(original))).save(mirrored, format="JPEG")
    answer = media_api.client.post(
        "/v1/match",
        files={"file": ("m.jpg", mirrored.getvalue(), "image/jpeg")},
        headers=media_api.platform,
    )
    matches = answer.json()["matches"]
    assert matches and matches[0]["variant"] == "flipy" and matches[0]["label"] == "A2"


def test_match_by_url_from_an_allowed_host(media_api: MediaApi) -> None:
    _bank(media_api)
    _bank_photo(media_api, jpeg("coffee"))
    url = f"{media_api.image_host}/coffee.jpg"
    answer = media_api.client.post("/v1/match", params={"url": url}, headers=media_api.platform)
    assert answer.json()["matches"][0]["variant"] in ("exact_md5", "original")


def test_unknown_bank_filter_is_a_404(media_api: MediaApi) -> None:
    answer = media_api.client.get(
        "/v1/lookup", params={"pdq": CAT, "banks": "nope"}, headers=media_api.platform
    )
    assert answer.status_code == 404


def test_banking_the_same_photo_with_another_label_reports_a_conflict(
    media_api: MediaApi,
) -> None:
    _bank(media_api)
    data = jpeg("coffee")
    _bank_photo(media_api, data, "A1")
    answer = media_api.client.post(
        "/v1/banks/known/media",
        params={"label": "B2"},
        files={"file": ("p.jpg", data, "image/jpeg")},
        headers=media_api.curator,
    )
    conflicts = answer.json()["label_conflicts"]
    assert conflicts and {c["stored_label"] for c in conflicts} == {"A1"}


def test_platforms_may_not_change_banks(media_api: MediaApi) -> None:
    answer = media_api.client.post("/v1/banks", json={"name": "x"}, headers=media_api.platform)
    assert answer.status_code == 403


def test_removed_entry_stops_matching(media_api: MediaApi) -> None:
    _bank(media_api)
    added = media_api.client.post(
        "/v1/banks/known/entries", json={"entries": [{"hash": CAT}]}, headers=media_api.curator
    )
    (entry_id,) = added.json()["entry_ids"]
    media_api.client.delete(f"/v1/banks/known/entries/{entry_id}", headers=media_api.curator)
    answer = media_api.client.get("/v1/lookup", params={"pdq": CAT}, headers=media_api.platform)
    assert answer.json()["matches"] == []


def test_export_in_pytx_lines(media_api: MediaApi) -> None:
    _bank(media_api)
    media_api.client.post(
        "/v1/banks/known/entries", json={"entries": [{"hash": CAT}]}, headers=media_api.curator
    )
    answer = media_api.client.get(
        "/v1/banks/known/export", params={"format": "pytx"}, headers=media_api.curator
    )
    assert answer.text == f"pdq {CAT}\n"


def test_index_status_counts_pdq_hashes(media_api: MediaApi) -> None:
    _bank(media_api)
    _bank_photo(media_api, jpeg("coffee"))
    status = media_api.client.get("/v1/index/status", headers=media_api.platform).json()
    assert status["size"] == 1
