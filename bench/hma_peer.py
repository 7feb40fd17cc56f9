"""The peer of `bench_http_lookup`: a Flask + pytx PDQ lookup service built the way HMA builds it.

HMA's indexer builds pytx's `PDQIndex` (faiss multi-index hashing) from every (hash, content id)
pair, pickles it into the database, and every matcher process unpickles its own copy and answers
`GET /m/raw_lookup?signal_type=pdq&signal=HEX` with `{"matches": [ids]}` after validating the
signal; `POST /m/lookup` hashes an uploaded `photo` with pytx (Pillow decode, pdqhash) first.
Here the pickle is a file (no database in the way) and gunicorn serves the Flask app, as HMA's
container does. Run by the benchmark:
`gunicorn -w 2 --threads 4 'bench.hma_peer:create_app()'` with `HMA_PEER_INDEX=path.pickle`.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from flask import Flask, abort, request
from threatexchange.signal_type.pdq.signal import PdqSignal


def create_app() -> Flask:
    """The Flask app with the pickled index loaded (as HMA's matcher loads it)."""
    with open(os.environ["HMA_PEER_INDEX"], "rb") as fh:
        index = pickle.load(fh)  # the benchmark wrote this file itself: trusted
    app = Flask("hma_peer")

    @app.get("/m/raw_lookup")
    def raw_lookup() -> dict[str, Any]:
        if request.args.get("signal_type") != "pdq":
            abort(400, "No such SignalType")
        try:
            signal = PdqSignal.validate_signal_str(request.args.get("signal", ""))
        except Exception as exc:
            abort(400, f"invalid signal: {exc}")
        return {"matches": [m.metadata for m in index.query(signal)]}

    @app.post("/m/lookup")
    def lookup_file() -> dict[str, Any]:
        # HMA hashes the multipart `photo` with pytx, then looks the hash up.
        upload = request.files.get("photo")
        if upload is None:
            abort(400, "Missing multipart/form-data file upload")
        signal = PdqSignal.hash_from_bytes(upload.stream.read())
        ids = [m.metadata for m in index.query(signal)] if signal else []
        return {"pdq": {"BANK": [{"bank_content_id": i, "distance": "0"} for i in ids]}}

    @app.get("/status")
    def status() -> str:
        return "I-AM-ALIVE"

    return app
