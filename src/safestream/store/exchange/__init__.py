"""Signal exchange in the store: our collections and peers' entries, peers, entry safety."""
