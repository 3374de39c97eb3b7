"""Word files built in code for the import, marked-up and safety tests (no binary fixtures)."""
