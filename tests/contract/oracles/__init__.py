"""Client libraries no one here wrote, run over HTTP against the emulators as oracles of the wire contract."""
