"""Data folder shipped inside the advisor package (see setup.cfg); no code here."""
