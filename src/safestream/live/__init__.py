"""Live-stream monitor: pull or accept streams, sample frames, match them, alert, keep evidence.

Modules, each with one job: `sources` (open streams with timeouts and reconnects), `sampling`
(which frames to hash), `monitor` (a decode thread per stream), `alerts` (merge, confirm, sinks),
`risk` (stream context to a sampling policy), `classifiers` (ONNX frame scorers), `evidence`
(encrypted clips of the packets around an alert), `distribution` (NATS JetStream work queue),
`snapshots` (still frames posted over HTTP) and `cli`.
"""
