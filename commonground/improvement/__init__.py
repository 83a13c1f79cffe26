"""Quality improvement: run charts, control charts and Making Data Count (SPC engine in spc.py)."""
