"""HMA's documented requests (website/content/hma/api.md and OpenMediaMatch's own API tests),
sent to SafeStream: same parameters, same answer shapes, an API key added."""

from __future__ import annotations

from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.api.media_fixtures import MediaApi, jpeg

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
NEAR_CAT = CAT[:-1] + "3"  # 1 bit off
FAR = "0" * 64


def _bank_with_cat(api: MediaApi, name: str = "MY_BANK") -> int:
    created = api.client.post("/c/banks", json={"name": name}, headers=api.curator)
    assert created.status_code == 201
    added = api.client.post(f"/c/bank/{name}/signal", json={"pdq": CAT}, headers=api.curator)
    assert added.status_code == 200
    assert added.json()["signals"] == {"pdq": CAT}
    content_id: int = added.json()["id"]
    return content_id


def test_status_answers_i_am_alive(media_api: MediaApi) -> None:
    response = media_api.client.get("/status")
    assert (response.status_code, response.text) == (200, "I-AM-ALIVE")
    assert media_api.client.get("/status/live").text == "I-AM-ALIVE"


def test_banks_start_empty_and_list_what_was_created(media_api: MediaApi) -> None:
    client, headers = media_api.client, media_api.curator
    assert client.get("/c/banks", headers=headers).json() == []
    assert client.post("/c/banks", json={"name": "bad-name"}, headers=headers).status_code == 400
    created = client.post("/c/banks", json={"name": "MY_TEST_BANK"}, headers=headers)
    assert created.status_code == 201
    assert created.json() == {"name": "MY_TEST_BANK", "matching_enabled_ratio": 1.0}
    assert client.get("/c/banks", headers=headers).json() == [created.json()]
    again = client.post("/c/banks", json={"name": "MY_TEST_BANK"}, headers=headers)
    assert again.status_code == 403 and again.json() == {"message": "Bank already exists"}


def test_bank_delete_answers_done_even_when_missing(media_api: MediaApi) -> None:
    client, headers = media_api.client, media_api.curator
    client.post("/c/banks", json={"name": "GONE"}, headers=headers)
    assert client.delete("/c/bank/GONE", headers=headers).json() == {"message": "Done"}
    assert client.delete("/c/bank/GONE", headers=headers).status_code == 200
    assert client.get("/c/bank/GONE", headers=headers).status_code == 404


def test_raw_lookup_returns_content_ids_and_distances(media_api: MediaApi) -> None:
    content_id = _bank_with_cat(media_api)
    query = {"signal_type": "pdq", "signal": NEAR_CAT}
    plain = media_api.client.get("/m/raw_lookup", params=query, headers=media_api.platform)
    assert plain.json() == {"matches": [content_id]}
    with_distance = media_api.client.get(
        "/m/raw_lookup", params={**query, "include_distance": "true"}, headers=media_api.platform
    )
    assert with_distance.json() == {"matches": [{"bank_content_id": content_id, "distance": "1"}]}


def test_raw_lookup_bank_filter(media_api: MediaApi) -> None:
    first = _bank_with_cat(media_api, "BANK_A")
    _bank_with_cat(media_api, "BANK_B")
    query = {"signal_type": "pdq", "signal": CAT, "banks": "BANK_A"}
    answer = media_api.client.get("/m/raw_lookup", params=query, headers=media_api.platform)
    assert answer.json() == {"matches": [first]}


def test_lookup_by_signal_is_keyed_by_bank(media_api: MediaApi) -> None:
    content_id = _bank_with_cat(media_api)
    answer = media_api.client.get(
        "/m/lookup", params={"signal_type": "pdq", "signal": CAT}, headers=media_api.platform
    )
    assert answer.status_code == 200
    assert answer.json() == {"MY_BANK": [{"bank_content_id": content_id, "distance": "0"}]}
    far = media_api.client.get(
        "/m/lookup", params={"signal_type": "pdq", "signal": FAR}, headers=media_api.platform
    )
    assert far.json() == {}


def test_lookup_errors_are_hma_messages(media_api: MediaApi) -> None:
    client, headers = media_api.client, media_api.platform
    missing = client.get("/m/lookup", headers=headers)
    assert missing.status_code == 400
    assert missing.json() == {"message": "Either url or both signal and signal_type are required"}
    bad_type = client.get(
        "/m/raw_lookup", params={"signal_type": "x", "signal": CAT}, headers=headers
    )
    assert bad_type.json() == {"message": "No such SignalType 'x'"}
    bad_hash = client.get(
        "/m/raw_lookup", params={"signal_type": "pdq", "signal": "zz"}, headers=headers
    )
    assert bad_hash.status_code == 400 and bad_hash.json()["message"].startswith("invalid signal")


def test_hash_upload_answers_what_pytx_computes(media_api: MediaApi) -> None:
    data = jpeg("coffee")
    answer = media_api.client.post(
        "/h/hash", files={"photo": ("coffee.jpg", data, "image/jpeg")}, headers=media_api.platform
    )
    assert answer.json() == {"pdq": PdqSignal.hash_from_bytes(data)}


def test_hash_upload_of_a_gif_answers_pytx_palette_hash(media_api: MediaApi) -> None:
    data = jpeg("coffee", fmt="GIF")
    answer = media_api.client.post(
        "/h/hash", files={"photo": ("c.gif", data, "image/gif")}, headers=media_api.platform
    )
    assert answer.json() == {"pdq": PdqSignal.hash_from_bytes(data)}


def test_hash_video_upload_answers_its_md5(media_api: MediaApi) -> None:
    answer = media_api.client.post(
        "/h/hash", files={"video": ("v.mp4", b"\x00" * 64, "video/mp4")}, headers=media_api.platform
    )
    assert answer.json() == {"video_md5": "3b5d3c7d207e37dceeedd301e35e2e58"}


def test_hash_by_url_from_an_allowed_host(media_api: MediaApi) -> None:
    url = f"{media_api.image_host}/coffee.jpg"
    answer = media_api.client.get("/h/hash", params={"url": url}, headers=media_api.platform)
    assert answer.json() == {"pdq": PdqSignal.hash_from_bytes(jpeg("coffee"))}


def test_hash_by_url_refuses_hosts_not_allowed(media_api: MediaApi) -> None:
    answer = media_api.client.get(
        "/h/hash", params={"url": "http://169.254.169.254/latest"}, headers=media_api.platform
    )
    assert answer.status_code == 403 and "fetch_allowed_hosts" in answer.json()["message"]


def test_lookup_of_an_uploaded_photo_per_signal_type(media_api: MediaApi) -> None:
    data = jpeg("rocket")
    media_api.client.post("/c/banks", json={"name": "KNOWN"}, headers=media_api.curator)
    added = media_api.client.post(
        "/c/bank/KNOWN/content",
        files={"photo": ("r.jpg", data, "image/jpeg")},
        headers=media_api.curator,
    )
    assert added.status_code == 200
    content_id = added.json()["id"]
    answer = media_api.client.post(
        "/m/lookup", files={"photo": ("r.jpg", data, "image/jpeg")}, headers=media_api.platform
    )
    assert answer.json() == {"pdq": {"KNOWN": [{"bank_content_id": content_id, "distance": "0"}]}}


def test_lookup_by_url(media_api: MediaApi) -> None:
    media_api.client.post("/c/banks", json={"name": "KNOWN"}, headers=media_api.curator)
    pdq = PdqSignal.hash_from_bytes(jpeg("rocket"))
    media_api.client.post("/c/bank/KNOWN/signal", json={"pdq": pdq}, headers=media_api.curator)
    url = f"{media_api.image_host}/rocket.jpg"
    answer = media_api.client.get("/m/lookup", params={"url": url}, headers=media_api.platform)
    assert list(answer.json()["pdq"]) == ["KNOWN"]


def test_content_get_and_delete(media_api: MediaApi) -> None:
    content_id = _bank_with_cat(media_api)
    path = f"/c/bank/MY_BANK/content/{content_id}"
    got = media_api.client.get(path, params={"include_signals": "true"}, headers=media_api.platform)
    assert got.json()["id"] == content_id and got.json()["signals"] == {"pdq": CAT}
    assert media_api.client.delete(path, headers=media_api.curator).json() == {"deleted": 1}
    assert media_api.client.get(path, headers=media_api.platform).status_code == 404


def test_index_status_counts_hashes(media_api: MediaApi) -> None:
    _bank_with_cat(media_api)
    status = media_api.client.get("/m/index/status", headers=media_api.platform).json()
    assert status["pdq"]["present"] is True and status["pdq"]["size"] == 1
    assert set(status) == {"pdq", "video_md5"}


def test_compare_answers_match_and_distance(media_api: MediaApi) -> None:
    answer = media_api.client.post(
        "/m/compare", json={"pdq": [CAT, NEAR_CAT]}, headers=media_api.platform
    )
    assert answer.json() == {"pdq": [True, {"distance": 1}]}


def test_curation_needs_a_curator_key(media_api: MediaApi) -> None:
    denied = media_api.client.post("/c/banks", json={"name": "X"}, headers=media_api.platform)
    assert denied.status_code == 403


def test_every_route_but_status_needs_an_api_key(media_api: MediaApi) -> None:
    assert media_api.client.get("/c/banks").status_code == 401
    assert media_api.client.get("/m/index/status").status_code == 401


def test_hma_routes_are_in_openapi(media_api: MediaApi) -> None:
    paths = media_api.client.get("/openapi.json").json()["paths"]
    for path in ("/h/hash", "/m/lookup", "/m/raw_lookup", "/m/index/status", "/c/banks",
                 "/c/bank/{bank_name}", "/c/bank/{bank_name}/signal", "/m/compare"):  # fmt: skip
        assert path in paths
