"""Cases: linking reports into cases, triage, routing, review queues and reviewer wellbeing.

Services the console calls (each takes the `Database` first):

- `queues.list_queues`, `queues.claim_next`, `queues.release` -- review queues, atomic claims
- `review.case_detail`, `review.add_note`, `review.record_decision`, `review.mark_claimed_elsewhere`
- `wellbeing.get_preferences`, `wellbeing.set_preferences`, `wellbeing.start_shift`,
  `wellbeing.end_shift`, `wellbeing.exposure`, `wellbeing.view_media` (audited)
- `engine.process_pending` links stored reports into cases (intake calls it for detectors)
"""
