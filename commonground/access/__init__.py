"""Timely access and MH/SUD parity: extract validation, metrics, suppression, parity and CLI.

Pure modules (no Django) except ``apps`` and the ``access`` management command. The rules
are in ``shared/docs/access-and-parity.md``.
"""
